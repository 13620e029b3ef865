//! Task settings with Airflow's names and defaults, and DAG-level `default_args`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trigger_rule::TriggerRule;

/// The pool every task uses unless it names another; Airflow's `default_pool`.
pub const DEFAULT_POOL: &str = "default_pool";

/// How the executor treats one task: retries, timeouts, trigger rule, pool, XCom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSettings {
    /// How many times a failed attempt is retried (default 0).
    pub retries: u32,
    /// The wait before a retry (default 300 s).
    pub retry_delay: Duration,
    /// Doubles the wait for each further retry, with jitter (default false).
    pub retry_exponential_backoff: bool,
    /// The longest wait between retries when backing off exponentially.
    pub max_retry_delay: Option<Duration>,
    /// The longest an attempt may run; past it the attempt fails (and may be retried).
    pub execution_timeout: Option<Duration>,
    /// When the task runs given its upstream tasks' states (default `all_success`).
    pub trigger_rule: TriggerRule,
    /// The pool whose slots the task occupies while running (default `default_pool`).
    pub pool: String,
    /// How many slots of its pool the task occupies (default 1).
    pub pool_slots: u32,
    /// Whether a returned value is pushed to XCom as `return_value` (default true).
    pub do_xcom_push: bool,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            retries: 0,
            retry_delay: Duration::from_secs(300),
            retry_exponential_backoff: false,
            max_retry_delay: None,
            execution_timeout: None,
            trigger_rule: TriggerRule::AllSuccess,
            pool: DEFAULT_POOL.to_owned(),
            pool_slots: 1,
            do_xcom_push: true,
        }
    }
}

/// Task settings given explicitly, each one optional: a task's own settings, or a DAG's
/// `default_args`. Unset fields fall back to the DAG's `default_args`, then to
/// [`TaskSettings::default`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskOverrides {
    /// See [`TaskSettings::retries`].
    pub retries: Option<u32>,
    /// See [`TaskSettings::retry_delay`].
    pub retry_delay: Option<Duration>,
    /// See [`TaskSettings::retry_exponential_backoff`].
    pub retry_exponential_backoff: Option<bool>,
    /// See [`TaskSettings::max_retry_delay`].
    pub max_retry_delay: Option<Duration>,
    /// See [`TaskSettings::execution_timeout`].
    pub execution_timeout: Option<Duration>,
    /// See [`TaskSettings::trigger_rule`].
    pub trigger_rule: Option<TriggerRule>,
    /// See [`TaskSettings::pool`].
    pub pool: Option<String>,
    /// See [`TaskSettings::pool_slots`].
    pub pool_slots: Option<u32>,
    /// See [`TaskSettings::do_xcom_push`].
    pub do_xcom_push: Option<bool>,
}

impl TaskOverrides {
    /// The settings these overrides give on top of `defaults`.
    pub fn over(&self, defaults: &TaskOverrides) -> TaskSettings {
        let base = TaskSettings::default();
        TaskSettings {
            retries: self.retries.or(defaults.retries).unwrap_or(base.retries),
            retry_delay: self
                .retry_delay
                .or(defaults.retry_delay)
                .unwrap_or(base.retry_delay),
            retry_exponential_backoff: self
                .retry_exponential_backoff
                .or(defaults.retry_exponential_backoff)
                .unwrap_or(base.retry_exponential_backoff),
            max_retry_delay: self.max_retry_delay.or(defaults.max_retry_delay),
            execution_timeout: self.execution_timeout.or(defaults.execution_timeout),
            trigger_rule: self
                .trigger_rule
                .or(defaults.trigger_rule)
                .unwrap_or(base.trigger_rule),
            pool: self
                .pool
                .clone()
                .or_else(|| defaults.pool.clone())
                .unwrap_or(base.pool),
            pool_slots: self
                .pool_slots
                .or(defaults.pool_slots)
                .unwrap_or(base.pool_slots),
            do_xcom_push: self
                .do_xcom_push
                .or(defaults.do_xcom_push)
                .unwrap_or(base.do_xcom_push),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_setting_wins_over_default_args_which_win_over_airflow_defaults() {
        let defaults = TaskOverrides {
            retries: Some(2),
            retry_delay: Some(Duration::from_secs(30)),
            ..TaskOverrides::default()
        };
        let task = TaskOverrides {
            retries: Some(5),
            ..TaskOverrides::default()
        };
        let settings = task.over(&defaults);
        assert_eq!(settings.retries, 5);
        assert_eq!(settings.retry_delay, Duration::from_secs(30));
        assert_eq!(settings.pool, DEFAULT_POOL);
        assert!(settings.do_xcom_push);
    }
}
