//! `{{name}}`: keeps records whose JSON `amount` is above the `min` parameter.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, RecordView, Value};

/// Holds the `min` parameter.
#[derive(Default)]
pub struct {{Name}}(f64);

impl Filter for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::filter("{{name}}").optional("min", "10", "keep records whose amount is above this")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        config.validate(&self.describe())?.parse_into("min", &mut self.0)
    }

    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        Ok(record.json()?.get("amount").and_then(Value::as_f64).map_or(false, |a| a > self.0))
    }
}

dataflare_guest::export_filter!({{Name}});
