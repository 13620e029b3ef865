//! Parameter values that are only known when a task runs: templates and XCom references.
//!
//! A plain value is a literal, whatever it contains. A value is templated only when marked
//! ([`template`]), and another task's output is referenced with [`XComRef`]. Referencing a
//! task's output makes that task upstream of the referencing one.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The XCom key under which a task's returned value is stored.
pub const RETURN_VALUE: &str = "return_value";

/// A reference to a value another task pushed to XCom.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct XComRef {
    /// The task that pushed the value.
    pub task_id: String,
    /// The XCom key; [`RETURN_VALUE`] for the task's returned value.
    pub key: String,
}

impl XComRef {
    /// The returned value of `task_id`.
    pub fn output(task_id: impl Into<String>) -> Self {
        XComRef {
            task_id: task_id.into(),
            key: RETURN_VALUE.to_owned(),
        }
    }

    /// The value `task_id` pushed under `key`.
    pub fn keyed(task_id: impl Into<String>, key: impl Into<String>) -> Self {
        XComRef {
            task_id: task_id.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for XComRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key == RETURN_VALUE {
            write!(f, "the output of task '{}'", self.task_id)
        } else {
            write!(f, "XCom '{}' of task '{}'", self.key, self.task_id)
        }
    }
}

/// A parameter value that may need the running task to resolve it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal JSON value.
    Literal(Value),
    /// A Jinja template, rendered to a string when the task runs.
    Template(String),
    /// Another task's XCom value.
    XCom(XComRef),
    /// A list whose items may be expressions.
    List(Vec<Expr>),
    /// A map whose values may be expressions.
    Map(BTreeMap<String, Expr>),
}

/// Marks a string as a Jinja template, rendered when the task runs.
///
/// ```
/// use gust_core::expr::{template, Expr};
/// assert_eq!(template("{{ ds }}"), Expr::Template("{{ ds }}".into()));
/// ```
pub fn template(source: impl Into<String>) -> Expr {
    Expr::Template(source.into())
}

impl Expr {
    /// Whether the value is fully known without running anything.
    pub fn is_literal(&self) -> bool {
        match self {
            Expr::Literal(_) => true,
            Expr::Template(_) | Expr::XCom(_) => false,
            Expr::List(items) => items.iter().all(Expr::is_literal),
            Expr::Map(entries) => entries.values().all(Expr::is_literal),
        }
    }

    /// The literal value, if the expression has no template or reference in it.
    pub fn to_literal(&self) -> Option<Value> {
        match self {
            Expr::Literal(value) => Some(value.clone()),
            Expr::Template(_) | Expr::XCom(_) => None,
            Expr::List(items) => items.iter().map(Expr::to_literal).collect::<Option<_>>(),
            Expr::Map(entries) => entries
                .iter()
                .map(|(k, v)| Some((k.clone(), v.to_literal()?)))
                .collect::<Option<serde_json::Map<_, _>>>()
                .map(Value::Object),
        }
    }

    /// Every XCom reference in the expression, in order.
    pub fn refs(&self) -> Vec<XComRef> {
        let mut found = Vec::new();
        self.collect_refs(&mut found);
        found
    }

    fn collect_refs(&self, found: &mut Vec<XComRef>) {
        match self {
            Expr::XCom(reference) => found.push(reference.clone()),
            Expr::List(items) => items.iter().for_each(|item| item.collect_refs(found)),
            Expr::Map(entries) => entries.values().for_each(|value| value.collect_refs(found)),
            Expr::Literal(_) | Expr::Template(_) => {}
        }
    }
}

impl From<Value> for Expr {
    fn from(value: Value) -> Self {
        Expr::Literal(value)
    }
}

impl From<XComRef> for Expr {
    fn from(reference: XComRef) -> Self {
        Expr::XCom(reference)
    }
}

impl From<&str> for Expr {
    fn from(text: &str) -> Self {
        Expr::Literal(Value::String(text.to_owned()))
    }
}

impl From<String> for Expr {
    fn from(text: String) -> Self {
        Expr::Literal(Value::String(text))
    }
}

/// A typed operator parameter: known when the DAG is built, or resolved when the task runs.
///
/// ```
/// use gust_core::expr::{template, Arg, XComRef};
///
/// let literal: Arg<String> = "echo hello".into();
/// let templated: Arg<String> = template("echo {{ ds }}").into();
/// let upstream: Arg<String> = XComRef::output("send").into();
/// assert!(literal.refs().is_empty());
/// assert_eq!(upstream.refs(), vec![XComRef::output("send")]);
/// # let _ = templated;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<T> {
    /// A value known when the DAG is built.
    Value(T),
    /// An expression resolved, then converted to `T`, when the task runs.
    Expr(Expr),
}

impl<T> Arg<T> {
    /// Every XCom reference the parameter holds.
    pub fn refs(&self) -> Vec<XComRef> {
        match self {
            Arg::Value(_) => Vec::new(),
            Arg::Expr(expr) => expr.refs(),
        }
    }
}

impl<T: DeserializeOwned> Arg<T> {
    /// A parameter from an expression; a literal expression is converted to `T` now, so
    /// a wrong type is reported when the DAG is loaded rather than when the task runs.
    pub fn from_expr(expr: Expr) -> Result<Self, serde_json::Error> {
        match expr.to_literal() {
            Some(value) => serde_json::from_value(value).map(Arg::Value),
            None => Ok(Arg::Expr(expr)),
        }
    }
}

impl<T> From<Expr> for Arg<T> {
    fn from(expr: Expr) -> Self {
        Arg::Expr(expr)
    }
}

impl<T> From<XComRef> for Arg<T> {
    fn from(reference: XComRef) -> Self {
        Arg::Expr(Expr::XCom(reference))
    }
}

impl From<&str> for Arg<String> {
    fn from(text: &str) -> Self {
        Arg::Value(text.to_owned())
    }
}

impl From<String> for Arg<String> {
    fn from(text: String) -> Self {
        Arg::Value(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_references_are_found_in_order() {
        let expr = Expr::Map(BTreeMap::from([
            ("a".to_owned(), Expr::XCom(XComRef::output("first"))),
            (
                "b".to_owned(),
                Expr::List(vec![
                    template("{{ ds }}"),
                    Expr::XCom(XComRef::keyed("second", "ids")),
                ]),
            ),
        ]));
        assert_eq!(
            expr.refs(),
            vec![XComRef::output("first"), XComRef::keyed("second", "ids")]
        );
        assert!(!expr.is_literal());
        assert_eq!(expr.to_literal(), None);
    }

    #[test]
    fn literal_expressions_convert_when_built() {
        let expr = Expr::Map(BTreeMap::from([("n".to_owned(), Expr::Literal(json!(3)))]));
        assert_eq!(expr.to_literal(), Some(json!({"n": 3})));
        let arg: Arg<BTreeMap<String, u32>> = Arg::from_expr(expr).unwrap();
        assert_eq!(arg, Arg::Value(BTreeMap::from([("n".to_owned(), 3)])));
        assert!(Arg::<u32>::from_expr(Expr::Literal(json!("three"))).is_err());
    }
}
