//! The Rust face of `dataflare:plugin/types` (see `wit/types.wit`).

use std::fmt;
use std::str::FromStr;

/// The version `PluginInfo::filter(..)` and its siblings start with.
pub const DEFAULT_VERSION: &str = "0.1.0";

/// One record moving through a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Optional key, e.g. a partition or grouping key.
    pub key: Option<Vec<u8>>,
    /// The payload; the plugin decides how to interpret it.
    pub value: Vec<u8>,
    /// Milliseconds since the Unix epoch, when known.
    pub timestamp: Option<i64>,
    /// Free-form string pairs, in order.
    pub metadata: Vec<(String, String)>,
}

impl Record {
    /// A record with only a value.
    pub fn new(value: Vec<u8>) -> Self {
        Record { value, ..Record::default() }
    }

    /// A record with a key and a value (no timestamp, no metadata).
    pub fn keyed(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Record { key: Some(key.into()), value: value.into(), ..Record::default() }
    }

    /// The first metadata value named `name`.
    pub fn metadata_get(&self, name: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why a plugin could not process a record or a call (WIT `plugin-error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginError {
    /// The record was well formed but could not be processed.
    Processing(String),
    /// A parameter is missing or invalid.
    Configuration(String),
    /// Reading or writing outside the plugin failed.
    Io(String),
    /// The record could not be decoded or encoded.
    Serialization(String),
}

impl PluginError {
    /// The case index in the WIT variant (its discriminant).
    pub fn case(&self) -> u8 {
        match self {
            PluginError::Processing(_) => 0,
            PluginError::Configuration(_) => 1,
            PluginError::Io(_) => 2,
            PluginError::Serialization(_) => 3,
        }
    }

    /// The message carried by any case.
    pub fn message(&self) -> &str {
        match self {
            PluginError::Processing(m)
            | PluginError::Configuration(m)
            | PluginError::Io(m)
            | PluginError::Serialization(m) => m,
        }
    }

    /// Take the message out of any case.
    pub fn into_message(self) -> String {
        match self {
            PluginError::Processing(m)
            | PluginError::Configuration(m)
            | PluginError::Io(m)
            | PluginError::Serialization(m) => m,
        }
    }

    /// Rebuild an error from its case index; `None` for an unknown case.
    pub fn from_case(case: u8, message: String) -> Option<Self> {
        match case {
            0 => Some(PluginError::Processing(message)),
            1 => Some(PluginError::Configuration(message)),
            2 => Some(PluginError::Io(message)),
            3 => Some(PluginError::Serialization(message)),
            _ => None,
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            PluginError::Processing(_) => "processing",
            PluginError::Configuration(_) => "configuration",
            PluginError::Io(_) => "io",
            PluginError::Serialization(_) => "serialization",
        };
        write!(f, "{}: {}", kind, self.message())
    }
}

impl std::error::Error for PluginError {}

impl From<std::io::Error> for PluginError {
    fn from(e: std::io::Error) -> Self {
        PluginError::Io(e.to_string())
    }
}

/// The five plugin kinds, in WIT enum order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginKind {
    Source,
    Sink,
    Filter,
    Transform,
    Aggregate,
}

impl PluginKind {
    /// The case index in the WIT enum.
    pub fn case(self) -> u8 {
        self as u8
    }

    /// Rebuild a kind from its case index.
    pub fn from_case(case: u8) -> Option<Self> {
        [
            PluginKind::Source,
            PluginKind::Sink,
            PluginKind::Filter,
            PluginKind::Transform,
            PluginKind::Aggregate,
        ]
        .get(case as usize)
        .copied()
    }
}

/// A parameter a plugin declares in `describe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    pub name: String,
    pub description: String,
    pub required: bool,
    /// The value used when the parameter is not given.
    pub default: Option<String>,
}

impl ParamInfo {
    /// A parameter the host must give.
    pub fn required(name: &str, description: &str) -> Self {
        ParamInfo {
            name: name.to_string(),
            description: description.to_string(),
            required: true,
            default: None,
        }
    }

    /// An optional parameter with a default: the usual case.
    pub fn with_default(name: &str, default: &str, description: &str) -> Self {
        ParamInfo::optional(name, description, Some(default))
    }

    /// A parameter with an optional default.
    pub fn optional(name: &str, description: &str, default: Option<&str>) -> Self {
        ParamInfo {
            name: name.to_string(),
            description: description.to_string(),
            required: false,
            default: default.map(str::to_string),
        }
    }
}

/// What a plugin says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub params: Vec<ParamInfo>,
}

impl PluginInfo {
    /// Info without parameters; add them with [`PluginInfo::param`].
    pub fn new(name: &str, version: &str, kind: PluginKind, description: &str) -> Self {
        PluginInfo {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            description: description.to_string(),
            params: Vec::new(),
        }
    }

    /// A filter named `name`, version [`DEFAULT_VERSION`], no description yet.
    pub fn filter(name: &str) -> Self {
        PluginInfo::new(name, DEFAULT_VERSION, PluginKind::Filter, "")
    }

    /// A transform named `name`, version [`DEFAULT_VERSION`], no description yet.
    pub fn transform(name: &str) -> Self {
        PluginInfo::new(name, DEFAULT_VERSION, PluginKind::Transform, "")
    }

    /// An aggregate named `name`, version [`DEFAULT_VERSION`], no description yet.
    pub fn aggregate(name: &str) -> Self {
        PluginInfo::new(name, DEFAULT_VERSION, PluginKind::Aggregate, "")
    }

    /// A source named `name`, version [`DEFAULT_VERSION`], no description yet.
    pub fn source(name: &str) -> Self {
        PluginInfo::new(name, DEFAULT_VERSION, PluginKind::Source, "")
    }

    /// A sink named `name`, version [`DEFAULT_VERSION`], no description yet.
    pub fn sink(name: &str) -> Self {
        PluginInfo::new(name, DEFAULT_VERSION, PluginKind::Sink, "")
    }

    /// Set the version.
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_string();
        self
    }

    /// Set the one-line description.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    /// Declare one more parameter.
    pub fn param(mut self, param: ParamInfo) -> Self {
        self.params.push(param);
        self
    }

    /// Declare an optional parameter with a default ([`ParamInfo::with_default`]).
    pub fn optional(self, name: &str, default: &str, description: &str) -> Self {
        self.param(ParamInfo::with_default(name, default, description))
    }

    /// Declare a parameter the host must give ([`ParamInfo::required`]).
    pub fn required(self, name: &str, description: &str) -> Self {
        self.param(ParamInfo::required(name, description))
    }
}

/// Parameters handed to `configure`, as ordered (name, value) pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pairs: Vec<(String, String)>,
}

impl Config {
    /// Wrap the pairs the host sent.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Config { pairs }
    }

    /// The value of `name`; the last one wins if the host repeated it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or a configuration error naming it.
    pub fn require(&self, name: &str) -> Result<&str, PluginError> {
        self.get(name).ok_or_else(|| {
            PluginError::Configuration(format!("missing required parameter '{}'", name))
        })
    }

    /// Check the pairs against `info.params` the way the host's native plugins do,
    /// and return the config with declared defaults filled in.
    ///
    /// Unknown names and missing required parameters are configuration
    /// errors whose messages match `dataflare.plugins.base.NativePlugin`.
    pub fn validate(&self, info: &PluginInfo) -> Result<Config, PluginError> {
        let mut unknown: Vec<&str> = self
            .pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !info.params.iter().any(|p| p.name == *k))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            let mut known: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
            known.sort_unstable();
            let listed = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            let names: Vec<String> = unknown.iter().map(|n| format!("'{}'", n)).collect();
            return Err(PluginError::Configuration(format!(
                "plugin '{}': unknown parameter(s) {}; known parameters: {}",
                info.name,
                names.join(", "),
                listed
            )));
        }
        let mut resolved: Vec<(String, String)> = Vec::new();
        for p in &info.params {
            match (self.get(&p.name), &p.default) {
                (Some(v), _) => resolved.push((p.name.clone(), v.to_string())),
                (None, Some(d)) => resolved.push((p.name.clone(), d.clone())),
                (None, None) if p.required => {
                    return Err(PluginError::Configuration(format!(
                        "plugin '{}': missing required parameter '{}'",
                        info.name, p.name
                    )))
                }
                (None, None) => {}
            }
        }
        Ok(Config::new(resolved))
    }

    /// The value of `name`, or `default` when it is not set.
    pub fn get_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    /// The value of `name` parsed as a `T` (e.g. `f64`, `u64`, `bool`); a
    /// missing or unparsable value is a configuration error naming it.
    ///
    /// After [`Config::validate`] a declared default stands in for a missing value.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, PluginError> {
        parse_param(name, self.require(name)?)
    }

    /// Like [`Config::parse`], but `default` when `name` is not set.
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, PluginError> {
        match self.get(name) {
            Some(text) => parse_param(name, text),
            None => Ok(default),
        }
    }

    /// Parse `name` into `*target` ([`Config::parse`]), so `configure` can end
    /// with it: `config.validate(&self.describe())?.parse_into("min", &mut self.min)`.
    pub fn parse_into<T: FromStr>(&self, name: &str, target: &mut T) -> Result<(), PluginError> {
        *target = self.parse(name)?;
        Ok(())
    }

    /// Every pair, in the order the host sent them.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// `text` as a `T`, or a configuration error saying what `name` must be.
fn parse_param<T: FromStr>(name: &str, text: &str) -> Result<T, PluginError> {
    text.parse().map_err(|_| {
        PluginError::Configuration(format!(
            "parameter '{}' must be {}, got '{}'",
            name,
            expected::<T>(),
            text
        ))
    })
}

/// What a parse into `T` expects, in words for the error message.
fn expected<T>() -> &'static str {
    match std::any::type_name::<T>() {
        "f32" | "f64" => "a number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "bool" => "true or false",
        other => other,
    }
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
