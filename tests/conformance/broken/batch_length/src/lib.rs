//! Broken: `filter-batch` returns a keep bitmap one byte longer than the batch needs. Check: batch.
use dataflare_guest::{Batch, Config, Filter, FilterOutcome, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct BatchLength;

impl Filter for BatchLength {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("batch_length", "0.1.0", PluginKind::Filter, "miscounts batches")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        Ok(!record.value.is_empty())
    }
    fn filter_batch(&mut self, batch: &Batch) -> FilterOutcome {
        let mut out = FilterOutcome::new(batch.len());
        for (i, r) in batch.records().enumerate() {
            out.set(i, self.filter(r));
        }
        // The bug: room (and a set bit) for one record more than it was given.
        out.keep.push(0xff);
        out
    }
}

dataflare_guest::export_filter!(BatchLength);
