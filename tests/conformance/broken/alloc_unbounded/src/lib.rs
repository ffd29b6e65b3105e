//! Broken: allocates without bound on every record. Check: resource-budget (memory).
use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, RecordView};

#[derive(Default)]
pub struct AllocUnbounded {
    hoard: Vec<Vec<u8>>,
}

impl Filter for AllocUnbounded {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("alloc_unbounded", "0.1.0", PluginKind::Filter, "remembers everything")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
        // The bug: a "cache" that only ever grows, a mebibyte at a time.
        loop {
            let mut chunk = Vec::with_capacity(1 << 20);
            chunk.push(record.value.len() as u8);
            self.hoard.push(chunk);
        }
    }
}

dataflare_guest::export_filter!(AllocUnbounded);
