//! A JSON Schema of the DAG file format, with every registered operator's parameters,
//! for editors that check YAML as it is typed.

use serde_json::{Map, Value, json};

use crate::registry::{ParamKind, ParamSpec, Registry};

fn kind_schema(kind: ParamKind) -> Value {
    match kind {
        ParamKind::Str => json!({"type": "string"}),
        ParamKind::NullableStr => json!({"type": ["string", "null"]}),
        ParamKind::Bool => json!({"type": "boolean"}),
        ParamKind::Count => json!({"type": "integer", "minimum": 0}),
        ParamKind::Duration => json!({"$ref": "#/$defs/duration"}),
        ParamKind::Map => json!({"type": "object"}),
        ParamKind::StrMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        ParamKind::Codes => {
            json!({"type": ["integer", "array", "null"], "items": {"type": "integer"}})
        }
        ParamKind::BoolOrStr => json!({"type": ["boolean", "string"]}),
        ParamKind::OneOf(words) => json!({"enum": words}),
    }
}

fn param_schema(param: &ParamSpec) -> Value {
    let mut schema = kind_schema(param.kind);
    if param.templated {
        schema = json!({"anyOf": [schema, {"$ref": "#/$defs/marker"}]});
    }
    if let Value::Object(map) = &mut schema {
        map.insert("description".into(), json!(param.doc));
    }
    schema
}

fn task_settings() -> Map<String, Value> {
    let duration = json!({"$ref": "#/$defs/duration"});
    [
        ("retries", json!({"type": "integer", "minimum": 0})),
        ("retry_delay", duration.clone()),
        ("retry_exponential_backoff", json!({"type": "boolean"})),
        ("max_retry_delay", duration.clone()),
        ("execution_timeout", duration),
        (
            "trigger_rule",
            json!({"enum": gust_core::TriggerRule::ALL.map(|r| r.as_str())}),
        ),
        ("pool", json!({"type": "string"})),
        ("pool_slots", json!({"type": "integer", "minimum": 1})),
        ("do_xcom_push", json!({"type": "boolean"})),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The JSON Schema of a DAG document, with the operators of `registry`.
pub fn schema(registry: &Registry) -> Value {
    let tasks: Vec<Value> = registry
        .specs()
        .iter()
        .map(|spec| {
            let mut with = task_settings();
            for param in &spec.params {
                with.insert(param.name.to_owned(), param_schema(param));
            }
            let required: Vec<&str> = spec
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name)
                .collect();
            let mut uses: Vec<&str> = vec![spec.name];
            uses.extend(spec.class_paths);
            json!({
                "type": "object",
                "description": spec.summary,
                "required": ["id", "uses"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "uses": {"enum": uses},
                    "needs": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                    "with": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": required,
                        "properties": with,
                    }
                }
            })
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "gust DAG file",
        "description": "One YAML document describes one DAG; separate several with ---.",
        "type": "object",
        "required": ["dag_id", "tasks"],
        "additionalProperties": false,
        "properties": {
            "dag_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
            "description": {"type": "string"},
            "schedule": {"type": ["string", "null"], "description": "null, a cron expression or a preset such as @daily"},
            "start_date": {"type": "string"},
            "end_date": {"type": "string"},
            "catchup": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "params": {"type": "object"},
            "default_args": {"type": "object", "description": "task settings and operator parameters applied to every task that does not set them"},
            "max_active_tasks": {"type": "integer", "minimum": 1},
            "max_active_runs": {"type": "integer", "minimum": 1},
            "dagrun_timeout": {"$ref": "#/$defs/duration"},
            "tasks": {"type": "array", "minItems": 1, "items": {"anyOf": tasks}}
        },
        "$defs": {
            "duration": {"oneOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^([0-9.]+(ms|s|m|h|d))+$|^[0-9.]+$"}
            ]},
            "marker": {"oneOf": [
                {"type": "object", "required": ["$t"], "additionalProperties": false,
                 "properties": {"$t": {"type": "string", "description": "a Jinja template"}}},
                {"type": "object", "required": ["$x"], "additionalProperties": false,
                 "properties": {"$x": {"type": "string", "description": "a task whose XCom to use"},
                                "key": {"type": "string"}}},
                {"type": "object", "required": ["$f"], "additionalProperties": false,
                 "properties": {"$f": {"type": "string", "description": "a file, relative to the DAG file"}}}
            ]}
        }
    })
}
