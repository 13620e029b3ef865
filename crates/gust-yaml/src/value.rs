//! From YAML values to parameter expressions: `{$t: ...}` templates, `{$x: task}` XCom
//! references and `{$f: path}` file contents. Anything else is a literal.

use std::collections::BTreeMap;
use std::path::Path;

use gust_core::expr::{Expr, XComRef};
use gust_core::template::check_syntax;

use crate::error::Problem;
use crate::node::{Node, Pos, Value};

/// An XCom reference found in a document, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundRef {
    pub(crate) reference: XComRef,
    pub(crate) at: Pos,
    pub(crate) path: String,
}

/// Converts values, reading `$f` files relative to `base_dir` and collecting references.
pub(crate) struct Converter<'a> {
    pub(crate) base_dir: &'a Path,
    pub(crate) refs: Vec<FoundRef>,
}

impl Converter<'_> {
    pub(crate) fn expr(&mut self, node: &Node, path: &str) -> Result<Expr, Problem> {
        Ok(match &node.value {
            Value::Map(entries) => {
                if let Some(marker) = self.marker(node, entries, path)? {
                    return Ok(marker);
                }
                let mut map = BTreeMap::new();
                for (key, _, value) in entries {
                    let inner = format!("{path}.{key}");
                    map.insert(key.clone(), self.expr(value, &inner)?);
                }
                Expr::Map(map)
            }
            Value::List(items) => Expr::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.expr(item, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            _ => Expr::Literal(node.to_json()),
        })
    }

    /// A `{$t: ..}`, `{$x: ..}` or `{$f: ..}` map, if this is one.
    fn marker(
        &mut self,
        node: &Node,
        entries: &[(String, Pos, Node)],
        path: &str,
    ) -> Result<Option<Expr>, Problem> {
        let Some((marker, _, value)) = entries.iter().find(|(key, _, _)| key.starts_with('$'))
        else {
            return Ok(None);
        };
        let text = |what: &str| match &value.value {
            Value::Str(text) => Ok(text.clone()),
            other => Err(Problem::new(
                value.at,
                path,
                format!("{marker} needs {what}, not {}", other.kind()),
            )),
        };
        let others: Vec<&str> = entries
            .iter()
            .map(|(key, _, _)| key.as_str())
            .filter(|key| key != marker)
            .collect();
        let allowed_others: &[&str] = if marker == "$x" { &["key"] } else { &[] };
        if let Some(extra) = others.iter().find(|key| !allowed_others.contains(key)) {
            return Err(Problem::new(
                node.at,
                path,
                format!("a {marker} marker cannot have other keys, such as '{extra}'"),
            ));
        }
        let expr = match marker.as_str() {
            "$t" => {
                let source = text("a template string")?;
                check_syntax(&source).map_err(|err| {
                    Problem::new(value.at, path, format!("bad template: {}", err.detail()))
                })?;
                Expr::Template(source)
            }
            "$x" => {
                let task_id = text("a task id")?;
                let reference = match node.get("key") {
                    Some(Node {
                        value: Value::Str(key),
                        ..
                    }) => XComRef::keyed(task_id, key.clone()),
                    Some(other) => {
                        return Err(Problem::new(
                            other.at,
                            format!("{path}.key"),
                            format!("the XCom key must be a string, not {}", other.value.kind()),
                        ));
                    }
                    None => XComRef::output(task_id),
                };
                self.refs.push(FoundRef {
                    reference: reference.clone(),
                    at: value.at,
                    path: path.to_owned(),
                });
                Expr::XCom(reference)
            }
            "$f" => {
                let relative = text("a file path")?;
                let file = self.base_dir.join(&relative);
                let content = std::fs::read_to_string(&file).map_err(|err| {
                    Problem::new(
                        value.at,
                        path,
                        format!("cannot read {}: {err}", file.display()),
                    )
                })?;
                Expr::Literal(content.into())
            }
            other => {
                return Err(Problem::new(
                    node.at,
                    path,
                    format!(
                        "unknown marker '{other}'; \
                         the markers are $t (template), $x (XCom) and $f (file)"
                    ),
                ));
            }
        };
        Ok(Some(expr))
    }
}
