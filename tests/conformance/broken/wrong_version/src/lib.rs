//! Broken: built against dataflare:plugin@0.3.0 (the Makefile rewrites the version). Check: world.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct WrongVersion;

impl Filter for WrongVersion {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("wrong_version", "0.1.0", PluginKind::Filter, "built for dataflare:plugin@0.3.0")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        Ok(!record.value.is_empty())
    }
}

dataflare_guest::export_filter!(WrongVersion);
