//! `{{name}}`: sets the field "tag" of each JSON object to the `tag` parameter.
use dataflare_guest::{json, Config, PluginError, PluginInfo, Record, RecordView, Transform, Value};

#[derive(Default)]
pub struct {{Name}} {
    tag: String,
}

impl Transform for {{Name}} {
    fn describe(&self) -> PluginInfo {
        PluginInfo::transform("{{name}}").optional("tag", "seen", "the text to put in the field \"tag\"")
    }

    fn configure(&mut self, config: Config) -> Result<(), PluginError> {
        config.validate(&self.describe())?.parse_into("tag", &mut self.tag)
    }

    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError> {
        let mut object = record.json()?;
        object.insert("tag".to_string(), Value::from(self.tag.as_str()));
        // Key, timestamp and metadata are kept; only the value changes.
        Ok(record.with_value(json::to_vec(object)))
    }
}

dataflare_guest::export_transform!({{Name}});
