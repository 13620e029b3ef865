//! Where each run's DAG came from, for resuming it from the same file.

use std::path::{Path, PathBuf};

use gust_executor::{RunKey, StoreError};

use crate::codec::backend;
use crate::open::SqliteStore;

impl SqliteStore {
    /// Records that the run `key` is of the DAG in `dag_file`, unless a run of that id
    /// already has its file recorded.
    pub async fn record_source(&self, key: &RunKey, dag_file: &Path) -> Result<(), StoreError> {
        let file = dag_file.to_string_lossy();
        sqlx::query(
            "INSERT INTO gust_run_source (dag_id, run_id, dag_file) VALUES (?, ?, ?) \
             ON CONFLICT (dag_id, run_id) DO NOTHING",
        )
        .bind(&*key.dag_id)
        .bind(&*key.run_id)
        .bind(file.as_ref())
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// The DAG file the run `key` was started from, if it was recorded.
    pub async fn source(&self, key: &RunKey) -> Result<Option<PathBuf>, StoreError> {
        let file: Option<String> = sqlx::query_scalar(
            "SELECT dag_file FROM gust_run_source WHERE dag_id = ? AND run_id = ?",
        )
        .bind(&*key.dag_id)
        .bind(&*key.run_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        Ok(file.map(PathBuf::from))
    }
}

/// A run this process is driving. While it is held (until dropped, or until the process
/// ends, however it ends), no other gust process can drive the same run.
#[derive(Debug)]
pub struct RunClaim {
    _file: std::fs::File,
}

impl SqliteStore {
    /// Claims the run `key` for this process: an error naming the process that holds it,
    /// if one does.
    pub fn claim(&self, key: &RunKey) -> Result<RunClaim, StoreError> {
        use std::io::Write;

        let dir = self.path().with_extension("db.runs");
        let failed = |what: &str, err: std::io::Error| {
            StoreError::Backend(format!("cannot claim run {key} ({what}): {err}"))
        };
        std::fs::create_dir_all(&dir).map_err(|err| failed("its lock folder", err))?;
        let path = dir.join(lock_name(key));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|err| failed("its lock file", err))?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = write!(file, "{}", std::process::id());
                Ok(RunClaim { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                Err(StoreError::Backend(format!(
                    "run {key} is being run by another gust process (pid {})",
                    holder.trim()
                )))
            }
            Err(std::fs::TryLockError::Error(err)) => Err(failed("locking", err)),
        }
    }
}

/// A file name for a run's lock: the ids made safe, with a hash of them so that two runs
/// whose ids differ only in unsafe characters do not share a lock.
fn lock_name(key: &RunKey) -> String {
    let safe = |id: &str| -> String {
        id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect()
    };
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.dag_id.bytes().chain([0]).chain(key.run_id.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "{}__{}__{hash:016x}.lock",
        safe(&key.dag_id),
        safe(&key.run_id)
    )
}

impl SqliteStore {
    /// Removes the XCom values of `task_ids` in the run `key`: their tasks are to run again
    /// (`gust tasks clear`), and what an earlier try pushed must not be read as theirs.
    pub async fn clear_xcom(&self, key: &RunKey, task_ids: &[&str]) -> Result<(), StoreError> {
        let slot = self.open_runs.slot(key);
        let mut cached = slot.lock().await;
        let mut sql =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("DELETE FROM gust_xcom WHERE dag_id = ");
        sql.push_bind(&*key.dag_id)
            .push(" AND run_id = ")
            .push_bind(&*key.run_id)
            .push(" AND task_id IN (");
        let mut ids = sql.separated(", ");
        for id in task_ids {
            ids.push_bind(*id);
        }
        sql.push(")");
        sql.build().execute(&self.writer).await.map_err(backend)?;
        // The run's next batch reads it from the file again.
        *cached = None;
        Ok(())
    }
}
