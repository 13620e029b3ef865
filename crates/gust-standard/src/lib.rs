//! The standard gust operators: [`EmptyOperator`], [`BashOperator`] and tasks made from
//! Rust async closures ([`FnOperator`]).
//!
//! ```
//! use gust_core::{Dag, TaskContext};
//! use gust_standard::{BashOperator, EmptyOperator, FnOperator};
//!
//! let mut dag = Dag::builder("standard");
//! let start = dag.task("start", EmptyOperator);
//! let hello = dag.task("hello", BashOperator::new("echo hello"));
//! let shout = dag.task(
//!     "shout",
//!     FnOperator::new(|ctx: TaskContext| async move {
//!         let said = ctx.output_of("hello").unwrap_or_default();
//!         Ok(said.as_str().unwrap_or_default().to_uppercase().into())
//!     }),
//! );
//! dag.chain(&[&start, &hello, &shout]);
//! assert!(dag.build().is_ok());
//! ```

mod bash;
mod empty;
mod func;

pub use bash::{BashOperator, DEFAULT_SKIP_EXIT_CODE};
pub use empty::EmptyOperator;
pub use func::FnOperator;
