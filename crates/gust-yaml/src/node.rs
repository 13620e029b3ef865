//! A YAML document as a tree whose every node knows where it is in the file.

use std::fmt;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A position in a file: line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Where the value starts.
    pub(crate) at: Pos,
    /// The value.
    pub(crate) value: Value,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping with string keys, in document order: (key, key position, value).
    Map(Vec<(String, Pos, Node)>),
}

impl Value {
    /// How the value is named in messages: "a string", "a list", ...
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

impl Node {
    /// The value of `key` in a map node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// The node as plain JSON.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(n) => (*n).into(),
            Value::Float(x) => serde_json::Number::from_f64(*x)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => s.clone().into(),
            Value::List(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, _, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

/// Why a text could not be read as YAML.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    /// Where.
    pub(crate) at: Pos,
    /// What.
    pub(crate) message: String,
}

/// Reads every document of a YAML text.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let documents = MarkedYaml::load_from_str(text).map_err(|err| SyntaxError {
        at: Pos {
            line: err.marker().line(),
            column: err.marker().col() + 1,
        },
        message: err.info().to_owned(),
    })?;
    documents.iter().map(convert).collect()
}

fn pos_of(node: &MarkedYaml<'_>) -> Pos {
    Pos {
        line: node.span.start.line(),
        column: node.span.start.col() + 1,
    }
}

fn convert(node: &MarkedYaml<'_>) -> Result<Node, SyntaxError> {
    let at = pos_of(node);
    let value = match &node.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => {
            Value::List(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        YamlData::Mapping(entries) => {
            let mut converted = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let name = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(Scalar::Integer(n)) => n.to_string(),
                    YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => {
                        return Err(SyntaxError {
                            at: pos_of(key),
                            message: "map keys must be plain text".to_owned(),
                        });
                    }
                };
                converted.push((name, pos_of(key), convert(value)?));
            }
            Value::Map(converted)
        }
        YamlData::Tagged(tag, _) => {
            return Err(SyntaxError {
                at,
                message: format!("YAML tags such as !{} are not supported", tag.suffix),
            });
        }
        YamlData::Alias(_) => {
            return Err(SyntaxError {
                at,
                message: "YAML aliases (*name) are not supported".to_owned(),
            });
        }
        YamlData::BadValue => {
            return Err(SyntaxError {
                at,
                message: "this value cannot be read".to_owned(),
            });
        }
    };
    Ok(Node { at, value })
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(n) => Value::Int(*n),
        Scalar::FloatingPoint(x) => Value::Float(x.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let docs =
            parse_documents("dag_id: a\ntasks:\n  - id: t\n    uses: EmptyOperator\n").unwrap();
        let root = &docs[0];
        let tasks = root.get("tasks").unwrap();
        let Value::List(items) = &tasks.value else {
            panic!()
        };
        let uses = items[0].get("uses").unwrap();
        assert_eq!(
            uses.at,
            Pos {
                line: 4,
                column: 11
            }
        );
        assert_eq!(uses.value, Value::Str("EmptyOperator".into()));
    }

    #[test]
    fn several_documents_and_scalar_types() {
        let docs =
            parse_documents("a: 1\nb: 2.5\nc: true\nd: ~\ne: 2024-01-01\n---\nx: y\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("a").unwrap().value, Value::Int(1));
        assert_eq!(docs[0].get("b").unwrap().value, Value::Float(2.5));
        assert_eq!(docs[0].get("c").unwrap().value, Value::Bool(true));
        assert_eq!(docs[0].get("d").unwrap().value, Value::Null);
        assert_eq!(
            docs[0].get("e").unwrap().value,
            Value::Str("2024-01-01".into())
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.at.line >= 1, "{err:?}");
        assert!(!err.message.is_empty());
    }
}
