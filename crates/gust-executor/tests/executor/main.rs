//! End-to-end tests of the executor: whole DAG runs on a manual clock.

mod cancel;
mod deferral;
mod limits;
mod resume;
mod retries;
mod sensors;
mod store_order;
mod support;
mod trigger_rules;
mod xcom;
