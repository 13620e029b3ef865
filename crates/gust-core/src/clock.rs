//! Time, read and waited on through one trait.
//!
//! Every part of gust that reads the time or sleeps (retry delays, sensor poke intervals,
//! execution timeouts, trigger polling) does it through [`Clock`]. Production code uses
//! [`SystemClock`]; tests use [`ManualClock`], whose time only moves when the test says so,
//! which makes timing behaviour exact and keeps tests from sleeping.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time and of sleeps.
///
/// ```
/// use std::time::Duration;
/// use gust_core::clock::{Clock, ManualClock};
///
/// # tokio_test_block_on(async {
/// let clock = ManualClock::at("2024-01-01T00:00:00Z".parse().unwrap());
/// let start = clock.now();
/// let sleep = clock.sleep(Duration::from_secs(30));
/// clock.advance(Duration::from_secs(30));
/// sleep.await; // returns at once: the manual time has passed the deadline
/// assert_eq!(clock.now() - start, chrono::Duration::seconds(30));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// A future that completes once the clock reads `deadline` or later.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;

    /// A future that completes once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleep_until(add(self.now(), duration))
    }
}

/// A shared, dynamically typed clock.
pub type SharedClock = Arc<dyn Clock>;

/// Adds a standard duration to a time, saturating far in the future instead of overflowing.
pub fn add(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The time from `earlier` to `later` as a standard duration; zero if `later` is earlier.
pub fn elapsed(earlier: DateTime<Utc>, later: DateTime<Utc>) -> Duration {
    (later - earlier).to_std().unwrap_or(Duration::ZERO)
}

/// The host's clock: wall time from the system, sleeps from tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // this is the one place that reads the host clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    #[allow(clippy::disallowed_methods)] // this is the one place that sleeps on the host clock
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let wait = elapsed(self.now(), deadline);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock whose time moves only when told to, for tests.
///
/// Sleeps on a manual clock complete when [`advance`](ManualClock::advance) or
/// [`set`](ManualClock::set) moves the time to or past their deadline. A test can also see
/// which sleeps are pending ([`deadlines`](ManualClock::deadlines)) and wait until some
/// code has started sleeping ([`wait_for_sleepers`](ManualClock::wait_for_sleepers)), so it
/// can move time exactly when the code under test is waiting for it.
#[derive(Clone)]
pub struct ManualClock {
    shared: Arc<ManualShared>,
}

struct ManualShared {
    state: Mutex<ManualState>,
    /// Woken whenever a sleep starts, so tests can wait for code to reach its sleep.
    sleep_started: Notify,
}

struct ManualState {
    now: DateTime<Utc>,
    next_id: u64,
    /// Pending sleeps by (deadline, id); the waker is filled once the sleep is polled.
    sleepers: BTreeMap<(DateTime<Utc>, u64), Option<Waker>>,
    /// Every sleep ever started, as its requested length, in order.
    history: Vec<Duration>,
}

impl ManualClock {
    /// A manual clock reading `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        ManualClock {
            shared: Arc::new(ManualShared {
                state: Mutex::new(ManualState {
                    now,
                    next_id: 0,
                    sleepers: BTreeMap::new(),
                    history: Vec::new(),
                }),
                sleep_started: Notify::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, ManualState> {
        // A panic while holding this lock leaves the state consistent (every update is a
        // single assignment or map operation), so a poisoned lock is safe to keep using.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the time forward by `duration` and wakes every sleep that is now due.
    pub fn advance(&self, duration: Duration) {
        let target = add(self.now(), duration);
        self.set(target);
    }

    /// Sets the time (never backwards) and wakes every sleep that is now due.
    pub fn set(&self, at: DateTime<Utc>) {
        let due: Vec<Waker> = {
            let mut state = self.state();
            if at > state.now {
                state.now = at;
            }
            let now = state.now;
            let later = state.sleepers.split_off(&(now, u64::MAX));
            let due = std::mem::replace(&mut state.sleepers, later);
            due.into_values().flatten().collect()
        };
        for waker in due {
            waker.wake();
        }
    }

    /// Deadlines of the sleeps pending now, earliest first.
    pub fn deadlines(&self) -> Vec<DateTime<Utc>> {
        self.state().sleepers.keys().map(|(at, _)| *at).collect()
    }

    /// The length of every sleep started so far, in the order they started.
    pub fn sleep_history(&self) -> Vec<Duration> {
        self.state().history.clone()
    }

    /// Waits until at least `count` sleeps are pending.
    pub async fn wait_for_sleepers(&self, count: usize) {
        loop {
            let started = self.shared.sleep_started.notified();
            if self.state().sleepers.len() >= count {
                return;
            }
            started.await;
        }
    }

    /// Waits until some sleep is pending and the other tasks of the runtime have settled,
    /// then moves the time to the earliest deadline and returns it.
    ///
    /// Settled means: the runtime ran every other ready task a few times over and no new
    /// sleep started meanwhile. This keeps a test from jumping past a deadline that code
    /// which is still busy is about to set.
    pub async fn advance_to_next(&self) -> DateTime<Utc> {
        loop {
            self.wait_for_sleepers(1).await;
            let before = self.state().next_id;
            for _ in 0..SETTLE_ROUNDS {
                tokio::task::yield_now().await;
            }
            let state = self.state();
            if state.next_id == before && !state.sleepers.is_empty() {
                break;
            }
        }
        let next = self.deadlines()[0];
        self.set(next);
        next
    }
}

/// How many times other tasks get to run before a manual clock moves by itself.
const SETTLE_ROUNDS: usize = 8;

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ManualClock")
            .field("now", &state.now)
            .field("pending_sleeps", &state.sleepers.len())
            .finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.state().now
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let id = {
            let mut state = self.state();
            let id = state.next_id;
            state.next_id += 1;
            let length = elapsed(state.now, deadline);
            state.history.push(length);
            if deadline > state.now {
                state.sleepers.insert((deadline, id), None);
            }
            id
        };
        self.shared.sleep_started.notify_waiters();
        Box::pin(ManualSleep {
            clock: self.clone(),
            deadline,
            id,
        })
    }
}

/// A pending sleep on a [`ManualClock`]; leaves the clock's list when dropped.
struct ManualSleep {
    clock: ManualClock,
    deadline: DateTime<Utc>,
    id: u64,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.clock.state();
        if state.now >= self.deadline {
            return Poll::Ready(());
        }
        let key = (self.deadline, self.id);
        state.sleepers.insert(key, Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        self.clock
            .state()
            .sleepers
            .remove(&(self.deadline, self.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2024-01-01T00:00:00Z".parse().unwrap()
    }

    #[tokio::test]
    async fn sleeps_complete_only_when_time_reaches_their_deadline() {
        let clock = ManualClock::at(t0());
        let mut short = clock.sleep(Duration::from_secs(10));
        let mut long = clock.sleep(Duration::from_secs(20));
        let waker = futures_noop_waker();
        let mut cx = Context::from_waker(&waker);

        assert!(short.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_secs(9));
        assert!(short.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_secs(1));
        assert!(short.as_mut().poll(&mut cx).is_ready());
        assert!(long.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            clock.deadlines(),
            vec![t0() + chrono::Duration::seconds(20)]
        );
    }

    #[tokio::test]
    async fn dropped_sleeps_leave_the_pending_list() {
        let clock = ManualClock::at(t0());
        let sleep = clock.sleep(Duration::from_secs(5));
        assert_eq!(clock.deadlines().len(), 1);
        drop(sleep);
        assert!(clock.deadlines().is_empty());
        assert_eq!(clock.sleep_history(), vec![Duration::from_secs(5)]);
    }

    #[tokio::test]
    async fn advance_to_next_waits_for_a_sleeper_and_jumps_to_it() {
        let clock = ManualClock::at(t0());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(Duration::from_secs(42)).await })
        };
        let reached = clock.advance_to_next().await;
        sleeper.await.unwrap();
        assert_eq!(reached, t0() + chrono::Duration::seconds(42));
        assert_eq!(clock.now(), reached);
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(add(t0(), Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            elapsed(t0() + chrono::Duration::seconds(1), t0()),
            Duration::ZERO
        );
    }

    fn futures_noop_waker() -> Waker {
        Waker::noop().clone()
    }
}
