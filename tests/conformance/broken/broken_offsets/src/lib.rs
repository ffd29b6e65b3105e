//! Broken: `transform-batch` returns value offsets that decrease and overrun the text. Check: batch.
//!
//! The per-record `transform` is right (it upper-cases ASCII); the batch form
//! builds its column by hand and writes each record's length where the WIT
//! asks for its end offset (so offsets go down after a long record), and
//! counts one byte too many at the end (past the text).
use dataflare_guest::{Batch, Column, Config, MetadataColumn, PluginError, PluginInfo, PluginKind, Record, RecordView, Transform, TransformOutcome};

#[derive(Default)]
pub struct BrokenOffsets;

impl Transform for BrokenOffsets {
    fn describe(&self) -> PluginInfo {
        PluginInfo::new("broken_offsets", "0.1.0", PluginKind::Transform, "upper-cases ASCII values")
    }
    fn configure(&mut self, _config: Config) -> Result<(), PluginError> {
        Ok(())
    }
    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError> {
        Ok(record.with_value(record.value.to_ascii_uppercase()))
    }
    fn transform_batch(&mut self, batch: &Batch) -> TransformOutcome {
        let mut text = String::new();
        let mut ends = Vec::new();
        for r in batch.records() {
            let upper = String::from_utf8_lossy(r.value).to_ascii_uppercase();
            text.push_str(&upper);
            // The bug: a length where an end offset belongs.
            ends.push(upper.len() as u32);
        }
        if let Some(last) = ends.last_mut() {
            *last = text.len() as u32 + 1; // and one past the end of the text
        }
        let values = Column::from_parts(text, ends, Vec::new(), Vec::new());
        TransformOutcome { records: Batch::from_parts(values, None, None, MetadataColumn::default()), errors: Vec::new() }
    }
}

dataflare_guest::export_transform!(BrokenOffsets);
