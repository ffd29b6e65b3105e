//! Broken: traps (panics) on a record with a negative timestamp. Check: no-trap.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct TrapInput;

impl Filter for TrapInput {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("trap_input", "0.1.0", PluginKind::Filter, "keeps recent records")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        // The bug: a negative timestamp is "impossible", so unwrap.
        let millis = u64::try_from(record.timestamp.unwrap_or(0)).unwrap();
        Ok(millis > 1_000)
    }
}

dataflare_guest::export_filter!(TrapInput);
