-- The runs of DAGs, their task instances with every try, XCom values, task state, and the
-- triggers deferred tasks wait for. Plain SQL types only, so that PostgreSQL can hold the
-- same schema: times are RFC 3339 text in UTC (which sorts as time does), JSON is text,
-- numbers BIGINT.

CREATE TABLE gust_dag_run (
    dag_id       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    logical_date TEXT NOT NULL,
    conf         TEXT NOT NULL,
    state        TEXT NOT NULL,
    started_at   TEXT,
    ended_at     TEXT,
    PRIMARY KEY (dag_id, run_id)
);

CREATE TABLE gust_task_instance (
    dag_id     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    -- The order in which the run's task instances were first recorded.
    position   BIGINT NOT NULL,
    state      TEXT NOT NULL,
    try_number BIGINT NOT NULL,
    message    TEXT,
    wake_at    TEXT,
    -- The trigger (kind and arguments), resume method and deadline of a deferred task.
    deferral   TEXT,
    PRIMARY KEY (dag_id, run_id, task_id)
);

CREATE TABLE gust_task_try (
    dag_id     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    try_number BIGINT NOT NULL,
    state      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    error      TEXT,
    PRIMARY KEY (dag_id, run_id, task_id, try_number)
);

CREATE TABLE gust_xcom (
    dag_id   TEXT NOT NULL,
    run_id   TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    xcom_key TEXT NOT NULL,
    position BIGINT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (dag_id, run_id, task_id, xcom_key)
);

CREATE TABLE gust_task_state (
    dag_id    TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    task_id   TEXT NOT NULL,
    state_key TEXT NOT NULL,
    position  BIGINT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (dag_id, run_id, task_id, state_key)
);

-- Where a run's DAG was read from, so that the run can be resumed from the same file.
CREATE TABLE gust_run_source (
    dag_id  TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    dag_file TEXT NOT NULL,
    PRIMARY KEY (dag_id, run_id)
);

CREATE INDEX gust_dag_run_by_start ON gust_dag_run (started_at);

-- New rows take the next position of their run; these make finding it a look-up.
CREATE INDEX gust_task_instance_order ON gust_task_instance (dag_id, run_id, position);
CREATE INDEX gust_xcom_order ON gust_xcom (dag_id, run_id, position);
CREATE INDEX gust_task_state_order ON gust_task_state (dag_id, run_id, position);
