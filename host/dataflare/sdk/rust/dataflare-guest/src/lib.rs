//! Write DataFlare plugins in Rust (WIT `dataflare:plugin@0.2.0`).
//!
//! A plugin is a type that implements one trait per kind ([`Filter`],
//! [`Transform`], [`Aggregate`], [`Source`], [`Sink`]) plus `Default`, exported
//! with one macro:
//!
//! ```ignore
//! use dataflare_guest::{Config, Filter, PluginError, PluginInfo, RecordView, Value};
//!
//! #[derive(Default)]
//! pub struct AmountMin(f64);
//!
//! impl Filter for AmountMin {
//!     fn describe(&self) -> PluginInfo {
//!         PluginInfo::filter("amount_min").optional("min", "10", "keep amounts above this")
//!     }
//!     fn configure(&mut self, config: Config) -> Result<(), PluginError> {
//!         config.validate(&self.describe())?.parse_into("min", &mut self.0)
//!     }
//!     fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError> {
//!         Ok(record.json()?.get("amount").and_then(Value::as_f64).map_or(false, |a| a > self.0))
//!     }
//! }
//! dataflare_guest::export_filter!(AmountMin);
//! ```
//!
//! `Config::validate` checks the names against `describe` and fills in the
//! declared defaults; `Config::parse` (or `parse_into`) reads one as a typed
//! value (a bad one is a configuration error); `RecordView::json` decodes a
//! value as a JSON object. [`json`] decodes and encodes values with the host's
//! rules.
//!
//! Batch exports receive a columnar [`Batch`]; the SDK checks its offsets and
//! hands plugin code one [`RecordView`] at a time (slices of the batch, no
//! copies), so the per-record method is all a plugin must write. The batch
//! methods (`filter_batch`, ...) loop over it by default and may be
//! overridden to read the columns directly; they must agree with the
//! per-record method. Output batches are built with a [`BatchBuilder`].
//!
//! The macro emits the core exports that `wasm-tools component new` expects
//! for the world of that kind in `wit/` (`describe`, `configure`, `filter`,
//! `filter-batch`, their `cabi_post_*` functions, and `cabi_realloc`). All
//! canonical-ABI code lives in this crate ([`abi`] for layouts, `rt` for the
//! export glue); plugin code needs no `unsafe`.

pub mod abi;
mod batch;
pub mod json;
pub mod log;
mod macros;
#[doc(hidden)]
pub mod rt;
mod types;

pub use batch::{
    fail_all, Batch, BatchBuilder, Column, FilterOutcome, FoldOutcome, Metadata, MetadataColumn,
    MetadataIter, ReadOutcome, RecordError, RecordView, Records, StringColumn, Timestamps,
    TransformOutcome,
};
pub use json::Value;
pub use types::{Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record, DEFAULT_VERSION};

/// Keeps or drops each record (world `filter`).
pub trait Filter {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before any record; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// `true` keeps the record.
    fn filter(&mut self, record: RecordView<'_>) -> Result<bool, PluginError>;
    /// The decision for every record of a (checked) batch; override to read
    /// the columns directly, giving what `filter` gives record by record.
    fn filter_batch(&mut self, batch: &Batch) -> FilterOutcome {
        let mut out = FilterOutcome::new(batch.len());
        for (i, record) in batch.records().enumerate() {
            out.set(i, self.filter(record));
        }
        out
    }
}

/// Turns each record into exactly one record (world `transform`).
pub trait Transform {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before any record; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// The new record ([`RecordView::with_value`] keeps key, timestamp and metadata).
    fn transform(&mut self, record: RecordView<'_>) -> Result<Record, PluginError>;
    /// One output record per input record, in order; a failed record's
    /// place holds an empty record ([`BatchBuilder::push_empty`]).
    fn transform_batch(&mut self, batch: &Batch) -> TransformOutcome {
        let mut out = BatchBuilder::new();
        let mut errors = Vec::new();
        for (i, record) in batch.records().enumerate() {
            match self.transform(record) {
                Ok(r) => out.push(&r),
                Err(error) => {
                    out.push_empty();
                    errors.push(RecordError { index: i as u32, error });
                }
            }
        }
        TransformOutcome { records: out.finish(), errors }
    }
}

/// Folds records into an opaque accumulator (world `aggregate`).
pub trait Aggregate {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before any record; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// The empty accumulator.
    fn init(&mut self) -> Vec<u8>;
    /// Fold one record into `acc`; returns the new accumulator.
    fn aggregate(&mut self, acc: &[u8], record: RecordView<'_>) -> Result<Vec<u8>, PluginError>;
    /// Fold a batch in order; a record that fails is left out of the fold.
    fn aggregate_batch(&mut self, acc: Vec<u8>, batch: &Batch) -> FoldOutcome {
        let mut acc = acc;
        let mut errors = Vec::new();
        for (i, record) in batch.records().enumerate() {
            match self.aggregate(&acc, record) {
                Ok(next) => acc = next,
                Err(error) => errors.push(RecordError { index: i as u32, error }),
            }
        }
        FoldOutcome { accumulator: acc, errors }
    }
    /// Combine accumulators folded over two parts of one stream (`a` holds
    /// the earlier records): emitting the result must give what one fold
    /// over all the records gives.
    fn merge(&mut self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, PluginError>;
    /// The records the final accumulator stands for.
    fn emit(&mut self, acc: &[u8]) -> Result<Batch, PluginError>;
}

/// Produces records (world `source`).
pub trait Source {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before `connect`; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// Open the underlying resource (by default there is none to open).
    fn connect(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
    /// Up to `max` records ([`ReadOutcome::Records`], at least one),
    /// [`ReadOutcome::Pending`] when none are ready yet, or
    /// [`ReadOutcome::End`] at the end of the stream.
    fn read(&mut self, max: u32) -> Result<ReadOutcome, PluginError>;
    /// An opaque position after the last record read.
    fn checkpoint(&mut self) -> Result<Vec<u8>, PluginError>;
    /// Resume after a position returned by `checkpoint`.
    fn restore(&mut self, position: &[u8]) -> Result<(), PluginError>;
    /// Release the resource (by default there is none). After a close that
    /// succeeds the SDK fails every later call but `close`, which succeeds.
    fn close(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Consumes records (world `sink`).
pub trait Sink {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before `connect`; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// Open the underlying resource (by default there is none to open).
    fn connect(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
    /// Write one record.
    fn write(&mut self, record: RecordView<'_>) -> Result<(), PluginError>;
    /// Write every record of a batch in order; the records that failed.
    fn write_batch(&mut self, batch: &Batch) -> Vec<RecordError> {
        let mut errors = Vec::new();
        for (i, record) in batch.records().enumerate() {
            if let Err(error) = self.write(record) {
                errors.push(RecordError { index: i as u32, error });
            }
        }
        errors
    }
    /// Make every accepted record durable (by default nothing is buffered).
    fn flush(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
    /// Flush and release the resource (by default there is none). After a
    /// close that succeeds the SDK fails every later call but `close`, which succeeds.
    fn close(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}
