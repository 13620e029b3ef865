//! Throttling rules and the gate that applies them, call by call.
//!
//! A rule throttles a fraction of calls, calls beyond a rate, or both. The fraction is applied
//! deterministically (with 0.5, every second call is throttled), so that tests can count on
//! it; the rate is a token bucket.

use std::time::Instant;

/// A throttling rule for one operation, or for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Throttle {
    /// The share of calls to refuse, from 0.0 (none) to 1.0 (all). The refused calls are
    /// spread evenly: with 0.5 the 2nd, 4th, 6th... call is refused.
    pub fraction: f64,
    /// Refuse calls beyond this rate, if set.
    pub rate: Option<RateLimit>,
}

/// A sustained rate of calls with a burst allowance (a token bucket).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Calls per second allowed over time.
    pub per_second: f64,
    /// Calls allowed at once before the rate applies (at least 1).
    pub burst: u32,
}

impl Throttle {
    /// Refuse this share of calls (0.0 to 1.0), spread evenly.
    pub fn fraction(fraction: f64) -> Self {
        Throttle {
            fraction,
            rate: None,
        }
    }

    /// Refuse calls beyond `per_second`, after a burst of `burst` calls.
    pub fn rate(per_second: f64, burst: u32) -> Self {
        Throttle {
            fraction: 0.0,
            rate: Some(RateLimit { per_second, burst }),
        }
    }

    /// The same rule, also refusing calls beyond a rate.
    pub fn and_rate(mut self, per_second: f64, burst: u32) -> Self {
        self.rate = Some(RateLimit { per_second, burst });
        self
    }

    /// Why this rule cannot be applied, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        if !(0.0..=1.0).contains(&self.fraction) {
            return Some(format!(
                "throttle fraction {} is not within 0..=1",
                self.fraction
            ));
        }
        match self.rate {
            Some(rate) if !(rate.per_second.is_finite() && rate.per_second > 0.0) => Some(format!(
                "throttle rate {} per second must be positive",
                rate.per_second
            )),
            Some(rate) if rate.burst == 0 => Some("throttle burst must be at least 1".into()),
            _ => None,
        }
    }
}

/// The running state of one rule: how many calls it has seen and its bucket's level.
#[derive(Debug)]
pub(crate) struct Gate {
    rule: Throttle,
    calls: u64,
    tokens: f64,
    refilled: Instant,
}

impl Gate {
    pub(crate) fn new(rule: Throttle, now: Instant) -> Self {
        let tokens = rule.rate.map_or(0.0, |rate| f64::from(rate.burst));
        Gate {
            rule,
            calls: 0,
            tokens,
            refilled: now,
        }
    }

    pub(crate) fn rule(&self) -> Throttle {
        self.rule
    }

    /// Whether the call arriving `now` may pass.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        let refused_by_share = self.next_call_is_in_refused_share();
        if refused_by_share {
            return false;
        }
        self.take_token(now)
    }

    fn next_call_is_in_refused_share(&mut self) -> bool {
        let before = (self.calls as f64 * self.rule.fraction).floor();
        self.calls += 1;
        let after = (self.calls as f64 * self.rule.fraction).floor();
        after > before
    }

    fn take_token(&mut self, now: Instant) -> bool {
        let Some(rate) = self.rule.rate else {
            return true;
        };
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(f64::from(rate.burst));
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pattern(gate: &mut Gate, calls: usize, now: Instant) -> String {
        (0..calls)
            .map(|_| if gate.admit(now) { '.' } else { 'T' })
            .collect()
    }

    #[test]
    fn half_refuses_every_second_call() {
        let now = Instant::now();
        let mut gate = Gate::new(Throttle::fraction(0.5), now);
        assert_eq!(pattern(&mut gate, 8, now), ".T.T.T.T");
    }

    #[test]
    fn fractions_refuse_their_share() {
        let now = Instant::now();
        for (fraction, refused) in [(0.0, 0), (0.25, 25), (0.1, 10), (1.0, 100)] {
            let mut gate = Gate::new(Throttle::fraction(fraction), now);
            let seen = pattern(&mut gate, 100, now).matches('T').count();
            assert_eq!(seen, refused, "fraction {fraction}");
        }
    }

    #[test]
    fn a_rate_allows_the_burst_then_refills_over_time() {
        let start = Instant::now();
        let mut gate = Gate::new(Throttle::rate(2.0, 3), start);

        assert_eq!(pattern(&mut gate, 5, start), "...TT");
        assert_eq!(
            pattern(&mut gate, 2, start + Duration::from_millis(500)),
            ".T"
        );
        assert_eq!(
            pattern(&mut gate, 4, start + Duration::from_secs(60)),
            "...T"
        );
    }

    #[test]
    fn bad_rules_are_named() {
        assert!(Throttle::fraction(1.5).problem().is_some());
        assert!(Throttle::fraction(f64::NAN).problem().is_some());
        assert!(Throttle::rate(0.0, 1).problem().is_some());
        assert!(Throttle::rate(1.0, 0).problem().is_some());
        assert!(
            Throttle::fraction(0.5)
                .and_rate(10.0, 5)
                .problem()
                .is_none()
        );
    }
}
