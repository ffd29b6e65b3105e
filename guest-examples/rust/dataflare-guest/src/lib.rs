//! Write DataFlare plugins in Rust.
//!
//! A plugin is a type that implements one trait per kind ([`Filter`],
//! [`Transform`], [`Aggregate`], [`Source`], [`Sink`]) plus `Default`, exported
//! with one macro:
//!
//! ```ignore
//! use dataflare_guest::{Config, Filter, PluginError, PluginInfo, PluginKind, Record};
//!
//! #[derive(Default)]
//! struct NonEmpty;
//!
//! impl Filter for NonEmpty {
//!     fn describe(&self) -> PluginInfo {
//!         PluginInfo::new("non_empty", "0.1.0", PluginKind::Filter, "Keeps non-empty values")
//!     }
//!     fn configure(&mut self, _config: Config) -> Result<(), PluginError> { Ok(()) }
//!     fn filter(&mut self, record: &Record) -> Result<bool, PluginError> {
//!         Ok(!record.value.is_empty())
//!     }
//! }
//!
//! dataflare_guest::export_filter!(NonEmpty);
//! ```
//!
//! The macro emits the core exports that `wasm-tools component new` expects
//! for the world of that kind in `wit/` (`describe`, `configure`, `filter`,
//! `filter-batch`, their `cabi_post_*` functions, and `cabi_realloc`). All
//! canonical-ABI code lives in this crate ([`abi`] for layouts, `rt` for the
//! export glue); plugin code needs no `unsafe`.

pub mod abi;
pub mod json;
pub mod log;
mod macros;
#[doc(hidden)]
pub mod rt;
mod types;

pub use types::{Config, ParamInfo, PluginError, PluginInfo, PluginKind, Record};

/// Keeps or drops each record (world `filter`).
pub trait Filter {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before any record; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// `true` keeps the record.
    fn filter(&mut self, record: &Record) -> Result<bool, PluginError>;
    /// One outcome per record, in order; override to share work across a batch.
    fn filter_batch(&mut self, records: &[Record]) -> Vec<Result<bool, PluginError>> {
        records.iter().map(|r| self.filter(r)).collect()
    }
}

/// Turns each record into exactly one record (world `transform`).
pub trait Transform {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before any record; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// The new record.
    fn transform(&mut self, record: Record) -> Result<Record, PluginError>;
    /// One outcome per record, in order.
    fn transform_batch(&mut self, records: Vec<Record>) -> Vec<Result<Record, PluginError>> {
        records.into_iter().map(|r| self.transform(r)).collect()
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
    fn aggregate(&mut self, acc: &[u8], record: &Record) -> Result<Vec<u8>, PluginError>;
    /// Fold records in order; a record that fails is left out of the fold.
    fn aggregate_batch(
        &mut self,
        acc: Vec<u8>,
        records: &[Record],
    ) -> (Vec<u8>, Vec<Result<(), PluginError>>) {
        let mut acc = acc;
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            match self.aggregate(&acc, record) {
                Ok(next) => {
                    acc = next;
                    outcomes.push(Ok(()));
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }
        (acc, outcomes)
    }
    /// The records the final accumulator stands for.
    fn emit(&mut self, acc: &[u8]) -> Result<Vec<Record>, PluginError>;
}

/// Produces records (world `source`).
pub trait Source {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before `connect`; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// Open the underlying resource.
    fn connect(&mut self) -> Result<(), PluginError>;
    /// Up to `max` records; an empty list means end of stream.
    fn read(&mut self, max: u32) -> Result<Vec<Record>, PluginError>;
    /// An opaque position after the last record read.
    fn checkpoint(&mut self) -> Result<Vec<u8>, PluginError>;
    /// Resume after a position returned by `checkpoint`.
    fn restore(&mut self, position: &[u8]) -> Result<(), PluginError>;
    /// Release the resource; later calls fail.
    fn close(&mut self) -> Result<(), PluginError>;
}

/// Consumes records (world `sink`).
pub trait Sink {
    /// Name, version, kind and declared parameters.
    fn describe(&self) -> PluginInfo;
    /// Called once before `connect`; reject bad parameters here.
    fn configure(&mut self, config: Config) -> Result<(), PluginError>;
    /// Open the underlying resource.
    fn connect(&mut self) -> Result<(), PluginError>;
    /// Write one record.
    fn write(&mut self, record: Record) -> Result<(), PluginError>;
    /// One outcome per record, in order.
    fn write_batch(&mut self, records: Vec<Record>) -> Vec<Result<(), PluginError>> {
        records.into_iter().map(|r| self.write(r)).collect()
    }
    /// Make every accepted record durable.
    fn flush(&mut self) -> Result<(), PluginError>;
    /// Flush and release the resource; later calls fail.
    fn close(&mut self) -> Result<(), PluginError>;
}
