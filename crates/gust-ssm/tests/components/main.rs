//! Each SSM component on its own, against a mocked SSM client (aws-smithy-mocks).

mod operator;
mod output;
mod send_once;
mod sensor;
mod support;
mod tracking;
mod trigger;
