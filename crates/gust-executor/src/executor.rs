//! The executor: starts DAG runs against a store, with shared pools and a clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gust_core::template::iso;
use gust_core::{
    DEFAULT_POOL, Dag, RunData, RunInfo, RunState, SharedClock, SystemClock, TriggerRegistry,
};
use serde_json::{Map, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backoff::Jitter;
use crate::events::EventSender;
use crate::memory::MemoryStore;
use crate::report::RunReport;
use crate::run_data::StoredRunData;
use crate::run_loop::{KILL_GRACE, LoopConfig, RunLoop};
use crate::slots::{DEFAULT_POOL_SLOTS, Slots};
use crate::store::{RunKey, RunRecord, Store, StoreError};

/// Why a run could not be started or completed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The store failed; the run was stopped.
    #[error("the run store failed: {0}")]
    Store(#[source] StoreError),
    /// A task names a pool the executor does not have, or needs more slots than it has.
    #[error("task '{task_id}': {problem}")]
    Pool {
        /// The task.
        task_id: String,
        /// What is wrong with its pool.
        problem: String,
    },
    /// The run's conf is not a JSON object.
    #[error("the run's conf must be a JSON object, not {0}")]
    Conf(String),
    /// A recorded run cannot be taken up again.
    #[error("run {run} cannot be resumed: {problem}")]
    Resume {
        /// The run.
        run: String,
        /// Why.
        problem: String,
    },
    /// The executor's background task panicked or was aborted.
    #[error("the run's task ended abnormally: {0}")]
    Join(String),
}

/// How to start a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    run_id: Option<String>,
    logical_date: Option<DateTime<Utc>>,
    conf: Option<Value>,
    events: Option<EventSender>,
    cancel: Option<CancellationToken>,
    xcom: Vec<(String, String, Value)>,
}

impl RunOptions {
    /// Defaults: run id `manual__<logical date>`, logical date now, empty conf.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the run id.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Sets the logical date.
    pub fn logical_date(mut self, at: DateTime<Utc>) -> Self {
        self.logical_date = Some(at);
        self
    }

    /// Sets the conf: a JSON object whose keys override the DAG's params.
    pub fn conf(mut self, conf: Value) -> Self {
        self.conf = Some(conf);
        self
    }

    /// Sends every state change of the run to `events`.
    pub fn events(mut self, events: EventSender) -> Self {
        self.events = Some(events);
        self
    }

    /// Records an XCom value as if `task_id` had pushed it before the run started: the
    /// output of a task that is not part of this run (`gust tasks test --xcom`).
    pub fn xcom(
        mut self,
        task_id: impl Into<String>,
        key: impl Into<String>,
        value: Value,
    ) -> Self {
        self.xcom.push((task_id.into(), key.into(), value));
        self
    }

    /// Stops the run cleanly when `cancel` fires: running tasks are told to stop and
    /// their final states are recorded.
    pub fn cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = Some(cancel);
        self
    }
}

/// A run started in the background.
#[derive(Debug)]
pub struct RunHandle {
    cancel: CancellationToken,
    task: JoinHandle<Result<RunReport, ExecutorError>>,
}

impl RunHandle {
    /// Stops the run cleanly.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the run to end.
    pub async fn wait(self) -> Result<RunReport, ExecutorError> {
        self.task
            .await
            .map_err(|err| ExecutorError::Join(err.to_string()))?
    }
}

/// Runs DAG runs: trigger rules, retries, timeouts, sensors, deferral to triggers, and
/// concurrency limits, recording every step in a [`Store`].
///
/// ```
/// use std::sync::Arc;
/// use gust_core::{Dag, Operator, Outcome, RunState, TaskContext, TaskError};
/// use gust_executor::{Executor, RunOptions};
/// # struct Noop;
/// # #[async_trait::async_trait]
/// # impl Operator for Noop {
/// #     async fn execute(&self, _: &TaskContext) -> Result<Outcome, TaskError> {
/// #         Ok(Outcome::Nothing)
/// #     }
/// # }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut dag = Dag::builder("example");
/// dag.task("only", Noop);
/// let dag = Arc::new(dag.build().unwrap());
///
/// let report = Executor::in_memory().run(dag, RunOptions::new()).await.unwrap();
/// assert_eq!(report.state, RunState::Success);
/// # });
/// ```
#[derive(Clone)]
pub struct Executor {
    store: Arc<dyn Store>,
    clock: SharedClock,
    pools: HashMap<String, usize>,
    slots: Arc<Slots>,
    config: LoopConfig,
}

impl Executor {
    /// An executor recording runs in `store`, on the system clock, with Airflow's
    /// `default_pool` of 128 slots.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let pools = HashMap::from([(DEFAULT_POOL.to_owned(), DEFAULT_POOL_SLOTS)]);
        Executor {
            store,
            clock: Arc::new(SystemClock),
            slots: Arc::new(Slots::new(&pools)),
            pools,
            config: LoopConfig {
                jitter: Jitter::Hashed,
                kill_grace: KILL_GRACE,
            },
        }
    }

    /// An executor recording runs in memory.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(MemoryStore::new()))
    }

    /// The same executor on another clock.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The same executor with a pool of `slots` slots (replacing one of the same name,
    /// `default_pool` included).
    pub fn with_pool(mut self, name: impl Into<String>, slots: usize) -> Self {
        self.pools.insert(name.into(), slots);
        self.slots = Arc::new(Slots::new(&self.pools));
        self
    }

    /// The same executor with another backoff jitter.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.config.jitter = jitter;
        self
    }

    /// The same executor giving a stopped task's `on_kill` `grace` to finish.
    pub fn with_kill_grace(mut self, grace: Duration) -> Self {
        self.config.kill_grace = grace;
        self
    }

    /// The store runs are recorded in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The executor's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Runs `dag` once, to completion.
    pub async fn run(
        &self,
        dag: Arc<Dag>,
        options: RunOptions,
    ) -> Result<RunReport, ExecutorError> {
        self.check_pools(&dag)?;
        let user_cancel = options.cancel.clone().unwrap_or_default();
        let (run, key, data) = self.prepare(&dag, options.clone())?;
        let record = RunRecord {
            key: key.clone(),
            logical_date: run.logical_date,
            conf: (*run.conf).clone(),
            state: RunState::Queued,
            started_at: None,
            ended_at: None,
        };
        self.store
            .create_run(&record)
            .await
            .map_err(ExecutorError::Store)?;
        for (task_id, key, value) in &options.xcom {
            data.push_xcom(task_id, key, value.clone())
                .await
                .map_err(|err| ExecutorError::Store(StoreError::Backend(err)))?;
        }
        self.run_loop(dag, run, key, data, options, &user_cancel)
            .drive()
            .await
    }

    /// Takes up a recorded run that did not end (the process running it stopped), with
    /// the same DAG. Finished tasks stay finished, tasks whose try was under way run that
    /// try again, waiting tasks wait for the rest of their time, and deferred tasks get
    /// their triggers rebuilt by `triggers`. Of `options`, the events and the cancel token
    /// are used; the run keeps its own id, logical date and conf.
    pub async fn resume(
        &self,
        dag: Arc<Dag>,
        key: &RunKey,
        triggers: &TriggerRegistry,
        options: RunOptions,
    ) -> Result<RunReport, ExecutorError> {
        let refuse = |problem: String| ExecutorError::Resume {
            run: key.to_string(),
            problem,
        };
        if **dag.dag_id() != *key.dag_id {
            return Err(refuse(format!("it is a run of DAG {}", key.dag_id)));
        }
        self.check_pools(&dag)?;
        let snapshot = self
            .store
            .load_run(key)
            .await
            .map_err(ExecutorError::Store)?
            .ok_or_else(|| refuse("no such run is recorded".to_owned()))?;
        if snapshot.run.state.is_finished() {
            return Err(refuse(format!("it already ended {}", snapshot.run.state)));
        }

        let user_cancel = options.cancel.clone().unwrap_or_default();
        let options = RunOptions {
            run_id: Some(key.run_id.to_string()),
            logical_date: Some(snapshot.run.logical_date),
            conf: Some(snapshot.run.conf.clone()),
            xcom: Vec::new(),
            ..options
        };
        let (run, key, data) = self.prepare(&dag, options.clone())?;
        data.restore(&snapshot);
        let mut run_loop = self.run_loop(dag, run, key, data, options, &user_cancel);
        run_loop.restore(&snapshot, triggers)?;
        run_loop.drive().await
    }

    /// Starts a run in the background; the handle cancels it or waits for it.
    pub fn start(&self, dag: Arc<Dag>, options: RunOptions) -> RunHandle {
        self.in_background(options, |executor, options| async move {
            executor.run(dag, options).await
        })
    }

    /// Runs `work` as a task of its own, with a cancel token the handle can fire.
    fn in_background<F, Fut>(&self, options: RunOptions, work: F) -> RunHandle
    where
        F: FnOnce(Executor, RunOptions) -> Fut,
        Fut: std::future::Future<Output = Result<RunReport, ExecutorError>> + Send + 'static,
    {
        let cancel = options.cancel.clone().unwrap_or_default();
        let options = options.cancel(cancel.clone());
        let task = tokio::spawn(work(self.clone(), options));
        RunHandle { cancel, task }
    }

    /// Resumes a recorded run in the background (see [`Executor::resume`]); the handle
    /// cancels it or waits for it.
    pub fn start_resume(
        &self,
        dag: Arc<Dag>,
        key: RunKey,
        triggers: TriggerRegistry,
        options: RunOptions,
    ) -> RunHandle {
        self.in_background(options, |executor, options| async move {
            executor.resume(dag, &key, &triggers, options).await
        })
    }

    fn run_loop(
        &self,
        dag: Arc<Dag>,
        run: Arc<RunInfo>,
        key: RunKey,
        data: Arc<StoredRunData>,
        options: RunOptions,
        user_cancel: &CancellationToken,
    ) -> RunLoop {
        RunLoop::new(
            dag,
            run,
            key,
            self.store.clone(),
            data,
            self.config.clone(),
            self.slots.clone(),
            options.events,
            user_cancel.child_token(),
        )
    }

    fn check_pools(&self, dag: &Dag) -> Result<(), ExecutorError> {
        for (_, task) in dag.tasks() {
            let settings = task.settings();
            let problem = match self.slots.pool_size(&settings.pool) {
                None => format!(
                    "pool '{}' does not exist; known pools: {}",
                    settings.pool,
                    self.pool_names()
                ),
                Some(size) if settings.pool_slots as usize > size => format!(
                    "needs {} slots of pool '{}', which has {size}",
                    settings.pool_slots, settings.pool
                ),
                Some(_) => continue,
            };
            return Err(ExecutorError::Pool {
                task_id: task.id().to_string(),
                problem,
            });
        }
        Ok(())
    }

    fn pool_names(&self) -> String {
        let mut names: Vec<&str> = self.pools.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.join(", ")
    }

    fn prepare(
        &self,
        dag: &Dag,
        options: RunOptions,
    ) -> Result<(Arc<RunInfo>, RunKey, Arc<StoredRunData>), ExecutorError> {
        let conf = options.conf.unwrap_or_else(|| Value::Object(Map::new()));
        let Value::Object(overrides) = &conf else {
            return Err(ExecutorError::Conf(conf.to_string()));
        };
        let mut params = dag.settings().params.clone();
        params.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));

        let logical_date = options.logical_date.unwrap_or_else(|| self.clock.now());
        let run_id = options
            .run_id
            .unwrap_or_else(|| format!("manual__{}", iso(logical_date)));
        let key = RunKey {
            dag_id: dag.dag_id().clone(),
            run_id: run_id.into(),
        };
        let data = Arc::new(StoredRunData::new(self.store.clone(), key.clone()));
        let run = RunInfo {
            dag_id: key.dag_id.clone(),
            run_id: key.run_id.clone(),
            logical_date,
            params: Arc::new(params),
            conf: Arc::new(conf),
            data: data.clone(),
            clock: self.clock.clone(),
        };
        Ok((Arc::new(run), key, data))
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("clock", &self.clock)
            .field("pools", &self.pools)
            .finish_non_exhaustive()
    }
}
