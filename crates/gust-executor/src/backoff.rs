//! Waits between retries and between sensor pokes, with Airflow's exponential backoff.
//!
//! Backoff doubles a base wait per retry (or poke) and adds a jitter that is derived from
//! the task instance, so the same instance always waits the same, and different
//! instances spread out. A configured maximum caps the wait after the jitter is added.

use std::time::Duration;

use gust_core::{SensorSettings, TaskSettings};

/// The longest wait backoff ever produces, whatever the settings: 24 hours.
const LONGEST_WAIT_SECS: f64 = 24.0 * 60.0 * 60.0;

/// Whether backoff waits get a jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// A jitter in `[0, base)` derived from the task instance (the default, as Airflow).
    #[default]
    Hashed,
    /// No jitter: waits are exactly the doubled base. For tests of exact waits.
    Off,
}

/// What identifies a wait for its jitter.
#[derive(Debug, Clone, Copy)]
pub struct JitterSeed<'a> {
    /// The DAG.
    pub dag_id: &'a str,
    /// The task.
    pub task_id: &'a str,
    /// The run.
    pub run_id: &'a str,
    /// The try.
    pub try_number: u32,
    /// The poke, for sensor waits (0 for retries).
    pub poke: u32,
}

impl JitterSeed<'_> {
    /// A stable 64-bit hash of the seed (FNV-1a), the same on every machine and release.
    fn hash(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let try_number = self.try_number.to_string();
        let poke = self.poke.to_string();
        let parts = [
            self.dag_id,
            self.task_id,
            self.run_id,
            try_number.as_str(),
            poke.as_str(),
        ];
        for part in parts {
            for byte in part.bytes().chain([b'#']) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }
}

/// `base` whole seconds (at least 1) plus the jitter, in whole seconds like Airflow.
fn jittered(base_secs: f64, jitter: Jitter, seed: &JitterSeed<'_>) -> f64 {
    let base = base_secs.ceil().clamp(1.0, LONGEST_WAIT_SECS);
    match jitter {
        Jitter::Off => base,
        Jitter::Hashed => base + (seed.hash() % base as u64) as f64,
    }
}

/// The wait before the try after `failed_try` fails.
///
/// Without backoff it is `retry_delay`. With backoff it is `retry_delay * 2^(failed_try-1)`
/// rounded up to whole seconds, plus jitter, then capped by `max_retry_delay`.
pub fn retry_delay(
    settings: &TaskSettings,
    failed_try: u32,
    jitter: Jitter,
    seed: &JitterSeed<'_>,
) -> Duration {
    if !settings.retry_exponential_backoff {
        return settings.retry_delay;
    }
    let exponent = failed_try.saturating_sub(1).min(64) as i32;
    let base = settings.retry_delay.as_secs_f64() * 2f64.powi(exponent);
    let delay = Duration::from_secs_f64(jittered(base, jitter, seed).min(LONGEST_WAIT_SECS));
    match settings.max_retry_delay {
        Some(max) => delay.min(max),
        None => delay,
    }
}

/// The wait before the next poke, after `pokes` pokes of this try found the condition
/// false and `elapsed` of the sensor's timeout is used.
///
/// Without backoff it is `poke_interval`. With backoff it is
/// `poke_interval * 2^(pokes-2)` in whole seconds (at least 1), plus jitter, capped by
/// `max_wait`. Either way it never sleeps past the timeout, so the last poke happens when
/// the timeout is reached rather than up to one interval after it.
pub fn poke_interval(
    settings: &SensorSettings,
    pokes: u32,
    elapsed: Duration,
    jitter: Jitter,
    seed: &JitterSeed<'_>,
) -> Duration {
    let remaining = settings.timeout.saturating_sub(elapsed);
    let interval = if settings.exponential_backoff {
        let exponent = (pokes as i32 - 2).min(64);
        let base = (settings.poke_interval.as_secs_f64() * 2f64.powi(exponent)).floor();
        let wait = Duration::from_secs_f64(jittered(base, jitter, seed).min(LONGEST_WAIT_SECS));
        match settings.max_wait {
            Some(max) => wait.min(max),
            None => wait,
        }
    } else {
        settings.poke_interval
    };
    interval.min(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(try_number: u32) -> JitterSeed<'static> {
        JitterSeed {
            dag_id: "dag",
            task_id: "task",
            run_id: "run",
            try_number,
            poke: 0,
        }
    }

    fn backoff(delay: u64, max: Option<u64>) -> TaskSettings {
        TaskSettings {
            retry_delay: Duration::from_secs(delay),
            retry_exponential_backoff: true,
            max_retry_delay: max.map(Duration::from_secs),
            ..TaskSettings::default()
        }
    }

    #[test]
    fn without_backoff_the_delay_is_constant() {
        let settings = TaskSettings {
            retry_delay: Duration::from_secs(30),
            ..TaskSettings::default()
        };
        for try_number in 1..5 {
            let delay = retry_delay(&settings, try_number, Jitter::Hashed, &seed(try_number));
            assert_eq!(delay, Duration::from_secs(30));
        }
    }

    #[test]
    fn backoff_doubles_per_try_and_stops_at_the_max() {
        let settings = backoff(5, Some(60));
        let delays: Vec<u64> = (1..=6)
            .map(|t| retry_delay(&settings, t, Jitter::Off, &seed(t)).as_secs())
            .collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 60, 60]);
    }

    #[test]
    fn jitter_stays_below_double_and_never_passes_the_max() {
        let settings = backoff(3, Some(100));
        for try_number in 1..=12 {
            let base = (3u64 << (try_number - 1)).min(100);
            let delay = retry_delay(&settings, try_number, Jitter::Hashed, &seed(try_number));
            assert!(
                delay.as_secs() >= base,
                "try {try_number}: {delay:?} < {base}"
            );
            assert!(delay.as_secs() < 2 * base || delay.as_secs() == 100);
            assert!(delay <= Duration::from_secs(100));
        }
    }

    #[test]
    fn jitter_is_stable_for_one_instance_and_varies_between_instances() {
        let settings = backoff(10, None);
        let first = retry_delay(&settings, 4, Jitter::Hashed, &seed(4));
        assert_eq!(first, retry_delay(&settings, 4, Jitter::Hashed, &seed(4)));
        let others: Vec<Duration> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|task_id| {
                let seed = JitterSeed { task_id, ..seed(4) };
                retry_delay(&settings, 4, Jitter::Hashed, &seed)
            })
            .collect();
        assert!(others.iter().any(|d| *d != others[0]), "{others:?}");
    }

    #[test]
    fn huge_settings_do_not_overflow() {
        let settings = backoff(u64::MAX / 4, None);
        let delay = retry_delay(&settings, 200, Jitter::Hashed, &seed(200));
        assert!(delay <= Duration::from_secs(2 * 24 * 3600));
    }

    #[test]
    fn poke_waits_back_off_and_end_at_the_timeout() {
        let settings = SensorSettings {
            poke_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(100),
            exponential_backoff: true,
            ..SensorSettings::default()
        };
        let waits: Vec<u64> = (1..=5)
            .map(|pokes| {
                poke_interval(&settings, pokes, Duration::ZERO, Jitter::Off, &seed(1)).as_secs()
            })
            .collect();
        assert_eq!(waits, vec![5, 10, 20, 40, 80]);

        let late = poke_interval(&settings, 5, Duration::from_secs(90), Jitter::Off, &seed(1));
        assert_eq!(late, Duration::from_secs(10));
        let capped = SensorSettings {
            max_wait: Some(Duration::from_secs(15)),
            ..settings
        };
        let wait = poke_interval(&capped, 5, Duration::ZERO, Jitter::Hashed, &seed(1));
        assert_eq!(wait, Duration::from_secs(15));
    }
}
