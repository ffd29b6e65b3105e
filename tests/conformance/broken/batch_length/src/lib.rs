//! Broken: `filter-batch` returns one outcome too many. Check: batch.
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, Record};

#[derive(Default)]
pub struct BatchLength;

impl Filter for BatchLength {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("batch_length", "0.1.0", PluginKind::Filter, "miscounts batches")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: &Record) -> Result<bool, PluginError> {
        Ok(!record.value.is_empty())
    }
    fn filter_batch(&mut self, records: &[Record]) -> Vec<Result<bool, PluginError>> {
        let mut out: Vec<_> = records.iter().map(|r| self.filter(r)).collect();
        out.push(Ok(true));
        out
    }
}

dataflare_guest::export_filter!(BatchLength);
