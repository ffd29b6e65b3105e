//! Broken: built for a world without `filter-batch` (see wit/broken.wit). Check: world.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct MissingExport;

impl Filter for MissingExport {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("missing_export", "0.1.0", PluginKind::Filter, "has no batch form")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        Ok(!record.value.is_empty())
    }
}

dataflare_guest::export_filter!(MissingExport);
