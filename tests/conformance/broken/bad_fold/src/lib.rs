//! Broken: `aggregate-batch` folds only the first record of each batch. Check: aggregate-fold.
use dataflare_guest::{Aggregate, Batch, Config, FoldOutcome, PluginError, PluginInfo, PluginKind, Record, RecordView};

#[derive(Default)]
pub struct BadFold;

fn count(acc: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..acc.len().min(8)].copy_from_slice(&acc[..acc.len().min(8)]);
    u64::from_le_bytes(bytes)
}

impl Aggregate for BadFold {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("bad_fold", "0.1.0", PluginKind::Aggregate, "counts records")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn init(&mut self) -> Vec<u8> {
        0u64.to_le_bytes().to_vec()
    }
    fn aggregate(&mut self, acc: &[u8], _record: RecordView<'_>) -> Result<Vec<u8>, PluginError> {
        Ok((count(acc) + 1).to_le_bytes().to_vec())
    }
    fn aggregate_batch(&mut self, acc: Vec<u8>, batch: &Batch) -> FoldOutcome {
        // The bug: a "fast path" that counts a batch as one record.
        let next = if batch.is_empty() { acc } else { (count(&acc) + 1).to_le_bytes().to_vec() };
        FoldOutcome { accumulator: next, errors: Vec::new() }
    }
    fn merge(&mut self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, PluginError> {
        Ok((count(a) + count(b)).to_le_bytes().to_vec())
    }
    fn emit(&mut self, acc: &[u8]) -> Result<Batch, PluginError> {
        Ok(Batch::from_records(&[Record::new(count(acc).to_string().into_bytes())]))
    }
}

dataflare_guest::export_aggregate!(BadFold);
