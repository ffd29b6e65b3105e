//! `{{name}}`: keeps records whose JSON `amount` is above the `min` parameter.
use dataflare_guest::{json, Config, Filter, PluginError, PluginInfo, RecordView, Value};

#[derive(Default)]
pub struct {{Name}} {
    min: f64,
}

impl Filter for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::filter("{{name}}").optional("min", "10", "keep records whose amount is above this")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        self.min = config.validate(&self.describe())?.parse("min")?;
        Ok(())
    }

    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        let amount = json::parse_object(record.value)?.get("amount").and_then(Value::as_f64);
        Ok(amount.map_or(false, |a| a > self.min))
    }
}

dataflare_guest::export_filter!({{Name}});
