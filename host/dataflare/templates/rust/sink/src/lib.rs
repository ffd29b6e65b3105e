//! `{{name}}`: accepts JSON objects holding the field named by `required`, and logs them.
//!
//! `connect`, `flush` and `close` are the SDK's defaults (nothing to open or
//! flush; calls after close fail).
use dataflare_guest::{log, Config, PluginError, PluginInfo, RecordView, Sink};

#[derive(Default)]
pub struct {{Name}} {
    required: String,
}

impl Sink for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::sink("{{name}}").optional("required", "id", "the JSON field every record must hold")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        config.validate(&self.describe())?.parse_into("required", &mut self.required)
    }

    fn write(&mut self, record: RecordView<'_>) -> Result<(), PluginError> {
        if !record.json()?.contains_key(&self.required) {
            return Err(PluginError::Processing(format!("missing field \"{}\"", self.required)));
        }
        log::info(&format!("{{name}}: {}", String::from_utf8_lossy(record.value)));
        Ok(())
    }
}

dataflare_guest::export_sink!({{Name}});
