//! The operators a DAG file can use, by short name or Airflow class path, with the typed
//! parameters each accepts.

use std::collections::HashMap;

use gust_core::TaskKind;

use crate::args::{ArgError, Args};

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Text.
    Str,
    /// Text or null.
    NullableStr,
    /// `true` or `false`.
    Bool,
    /// A whole number, zero or more.
    Count,
    /// A number of seconds or a duration such as `90s`.
    Duration,
    /// A map.
    Map,
    /// A map from names to text.
    StrMap,
    /// A whole number, a list of them, or null.
    Codes,
    /// `true`, `false`, or text.
    BoolOrStr,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

impl ParamKind {
    /// How the kind is described in messages.
    pub fn describe(self) -> String {
        match self {
            ParamKind::Str => "a string".to_owned(),
            ParamKind::NullableStr => "a string or null".to_owned(),
            ParamKind::Bool => "true or false".to_owned(),
            ParamKind::Count => "a whole number".to_owned(),
            ParamKind::Duration => "a duration (seconds, or e.g. 90s, 5m, 1h30m)".to_owned(),
            ParamKind::Map => "a map".to_owned(),
            ParamKind::StrMap => "a map of strings".to_owned(),
            ParamKind::Codes => "an exit code, a list of them, or null".to_owned(),
            ParamKind::BoolOrStr => "true, false or a string".to_owned(),
            ParamKind::OneOf(words) => format!("one of {}", words.join(", ")),
        }
    }
}

/// One parameter of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// The name, as written under `with`.
    pub name: &'static str,
    /// The kind of value.
    pub kind: ParamKind,
    /// Whether a task must give it.
    pub required: bool,
    /// Whether it may be a `$t` template or a `$x` reference.
    pub templated: bool,
    /// What it does.
    pub doc: &'static str,
}

impl ParamSpec {
    /// A parameter that takes literal values only.
    pub const fn literal(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        ParamSpec {
            name,
            kind,
            required: false,
            templated: false,
            doc,
        }
    }

    /// A parameter that may be templated or referenced.
    pub const fn templated(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        ParamSpec {
            name,
            kind,
            required: false,
            templated: true,
            doc,
        }
    }

    /// The same parameter, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

/// Builds a task's work from its checked parameters.
pub type BuildFn = fn(&mut Args) -> Result<TaskKind, ArgError>;

/// An operator (or sensor) a DAG file can use.
#[derive(Debug, Clone)]
pub struct OperatorSpec {
    /// The short name, e.g. `SsmRunCommandOperator`.
    pub name: &'static str,
    /// Airflow class paths naming the same operator.
    pub class_paths: &'static [&'static str],
    /// One line on what it does.
    pub summary: &'static str,
    /// Its parameters (a sensor's base parameters are added by the registry).
    pub params: Vec<ParamSpec>,
    /// Whether it is a sensor.
    pub sensor: bool,
    /// How to build it.
    pub build: BuildFn,
}

/// The base parameters of every sensor.
pub fn sensor_params() -> Vec<ParamSpec> {
    use ParamKind::*;
    vec![
        ParamSpec::literal("poke_interval", Duration, "time between pokes"),
        ParamSpec::literal("timeout", Duration, "how long the sensor may wait in all"),
        ParamSpec::literal(
            "mode",
            OneOf(&["poke", "reschedule"]),
            "hold the slot, or free it between pokes",
        ),
        ParamSpec::literal("soft_fail", Bool, "skip instead of failing on timeout"),
        ParamSpec::literal("exponential_backoff", Bool, "grow the wait between pokes"),
        ParamSpec::literal("max_wait", Duration, "the longest wait between pokes"),
    ]
}

/// Every operator a DAG file can use.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    specs: Vec<OperatorSpec>,
    names: HashMap<&'static str, usize>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operator, reachable by its short name and its class paths.
    pub fn register(&mut self, mut spec: OperatorSpec) {
        if spec.sensor {
            spec.params.extend(sensor_params());
        }
        let at = self.specs.len();
        self.names.insert(spec.name, at);
        for path in spec.class_paths {
            self.names.insert(path, at);
        }
        self.specs.push(spec);
    }

    /// The operator `uses` names.
    pub fn find(&self, uses: &str) -> Option<&OperatorSpec> {
        self.names.get(uses).map(|at| &self.specs[*at])
    }

    /// Every operator, in the order registered.
    pub fn specs(&self) -> &[OperatorSpec] {
        &self.specs
    }

    /// Every name `uses` accepts.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.names.keys().copied()
    }

    /// The short names.
    pub fn short_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.specs.iter().map(|spec| spec.name)
    }
}
