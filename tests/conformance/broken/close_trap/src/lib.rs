//! Broken: a sink that traps when written before `connect` (after `close` the
//! SDK fails the call before it reaches the plugin). Check: lifecycle.
use dataflare_guest::{Config, PluginError, PluginInfo, PluginKind, RecordView, Sink};

#[derive(Default)]
pub struct CloseTrap {
    written: Option<Vec<Vec<u8>>>,
}

impl Sink for CloseTrap {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("close_trap", "0.1.0", PluginKind::Sink, "keeps values in memory")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn connect(&mut self) -> Result<(), PluginError> {
        self.written = Some(Vec::new());
        Ok(())
    }
    fn write(&mut self, record: RecordView<'_>) -> Result<(), PluginError> {
        // The bug: before connect there is no buffer, and it unwraps.
        self.written.as_mut().unwrap().push(record.value.to_vec());
        Ok(())
    }
    fn flush(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
    fn close(&mut self) -> Result<(), PluginError> {
        self.written = None;
        Ok(())
    }
}

dataflare_guest::export_sink!(CloseTrap);
