//! Broken: a transform whose `describe` says "filter" and repeats a parameter. Check: describe.
use dataflare_guest::{Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record, RecordView, Transform};

#[derive(Default)]
pub struct BadDescribe;

impl Transform for BadDescribe {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("bad_describe", "0.1.0", PluginKind::Filter, "says it is something else")
            .param(ParamInfo::optional("field", "first", None))
            .param(ParamInfo::optional("field", "again", None))
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError> {
        Ok(record.to_record())
    }
}

dataflare_guest::export_transform!(BadDescribe);
