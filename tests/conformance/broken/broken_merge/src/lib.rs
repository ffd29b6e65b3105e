//! Broken: an aggregate whose `merge` drops `b` (keeps only the earlier part). Check: merge.
use dataflare_guest::{Aggregate, Batch, Config, PluginError, PluginInfo, PluginKind, Record, RecordView};

#[derive(Default)]
pub struct BrokenMerge;

fn count(acc: &[u8]) -> Result<u64, PluginError> {
    let bytes: [u8; 8] = acc
        .try_into()
        .map_err(|_| PluginError::Serialization("accumulator is not 8 bytes".into()))?;
    Ok(u64::from_le_bytes(bytes))
}

impl Aggregate for BrokenMerge {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("broken_merge", "0.1.0", PluginKind::Aggregate, "counts records")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn init(&mut self) -> Vec<u8> {
        0u64.to_le_bytes().to_vec()
    }
    fn aggregate(&mut self, acc: &[u8], _record: RecordView<'_>) -> Result<Vec<u8>, PluginError> {
        Ok((count(acc)? + 1).to_le_bytes().to_vec())
    }
    fn merge(&mut self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, PluginError> {
        // The bug: `b` is checked but never added, as if the later part were empty.
        count(b)?;
        Ok(count(a)?.to_le_bytes().to_vec())
    }
    fn emit(&mut self, acc: &[u8]) -> Result<Batch, PluginError> {
        Ok(Batch::from_records(&[Record::new(count(acc)?.to_string().into_bytes())]))
    }
}

dataflare_guest::export_aggregate!(BrokenMerge);
