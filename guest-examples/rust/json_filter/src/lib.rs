//! `filter/json_filter`: keep records whose JSON field equals a value.
//!
//! The same plugin as the host's native `dataflare.builtin.json_filter`
//! (read its docstring for the exact rules): the value must be a JSON
//! object; a missing `field` drops; a string field matches `value` as raw
//! text; any other field matches `value` decoded as JSON.
#![forbid(unsafe_code)]

use dataflare_guest::json::{self, Value};
use dataflare_guest::{Config, Filter, ParamInfo, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct JsonFilter {
    field: Option<String>,
    value: String,
    /// `value` decoded as JSON once, or `None` when it is not JSON.
    as_json: Option<Value>,
}

impl Filter for JsonFilter {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new(
            "json_filter",
            "0.1.0",
            PluginKind::Filter,
            "Keep records whose JSON object has `field` equal to `value`.",
        )
        .param(ParamInfo::required("field", "top-level key of the JSON object to compare"))
        .param(ParamInfo::required("value", "the value to keep; raw text for strings, JSON otherwise"))
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        let config = config.validate(&self.describe())?;
        self.field = Some(config.require("field")?.to_string());
        self.value = config.require("value")?.to_string();
        self.as_json = json::parse(self.value.as_bytes()).ok();
        Ok(())
    }

    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        let obj = json::parse_object(record.value)?;
        let field = self.field.as_ref().ok_or_else(|| {
            PluginError::Configuration("plugin 'json_filter': parameter 'field' is not set".into())
        })?;
        Ok(match obj.get(field) {
            None => false,
            Some(Value::String(s)) => *s == self.value,
            Some(found) => self.as_json.as_ref().map_or(false, |want| json::equal(found, want)),
        })
    }
}

dataflare_guest::export_filter!(JsonFilter);

#[cfg(test)]
mod tests {
    use super::*;
    use dataflare_guest::Record;

    fn configured(field: &str, value: &str) -> JsonFilter {
        let mut f = JsonFilter::default();
        let pairs = vec![("field".into(), field.into()), ("value".into(), value.into())];
        f.configure(Config::new(pairs)).unwrap();
        f
    }

    fn keep(f: &mut JsonFilter, v: &str) -> Result<bool, PluginError> {
        f.filter(Record::new(v.as_bytes().to_vec()).view())
    }

    #[test]
    fn strings_match_raw_text_and_others_match_as_json() {
        let mut f = configured("status", "active");
        assert_eq!(keep(&mut f, r#"{"status":"active"}"#), Ok(true));
        assert_eq!(keep(&mut f, r#"{"status":"inactive"}"#), Ok(false));
        assert_eq!(keep(&mut f, r#"{"other":"active"}"#), Ok(false));
        let mut f = configured("n", "1");
        assert_eq!(keep(&mut f, r#"{"n":1.0e0}"#), Ok(true));
        assert_eq!(keep(&mut f, r#"{"n":"1"}"#), Ok(true));
        assert_eq!(keep(&mut f, r#"{"n":true}"#), Ok(false));
        let mut f = configured("s", "\"x\"");
        assert_eq!(keep(&mut f, r#"{"s":"x"}"#), Ok(false));
    }

    #[test]
    fn bad_values_are_serialization_errors() {
        let mut f = configured("a", "b");
        let invalid = PluginError::Serialization(json::INVALID_JSON.into());
        assert_eq!(keep(&mut f, ""), Err(invalid.clone()));
        assert_eq!(keep(&mut f, "{"), Err(invalid));
        let not_obj = PluginError::Serialization(json::NOT_AN_OBJECT.into());
        assert_eq!(keep(&mut f, "[1]"), Err(not_obj));
    }

    #[test]
    fn configuration_is_checked() {
        let mut f = JsonFilter::default();
        let err = f.configure(Config::new(vec![("field".into(), "a".into())])).unwrap_err();
        assert_eq!(
            err,
            PluginError::Configuration("plugin 'json_filter': missing required parameter 'value'".into())
        );
        let err = f.configure(Config::new(vec![("zz".into(), "a".into())])).unwrap_err();
        assert_eq!(
            err,
            PluginError::Configuration(
                "plugin 'json_filter': unknown parameter(s) 'zz'; known parameters: field, value".into()
            )
        );
    }
}
