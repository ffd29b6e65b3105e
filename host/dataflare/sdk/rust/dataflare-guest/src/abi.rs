//! Canonical-ABI layouts of our WIT types, and lifting/lowering through a [`Memory`].
//!
//! Offsets follow the Component Model's `CanonicalABI.md` (wasm32: pointers
//! and lengths are `u32`). Every function here works on addresses in an
//! abstract [`Memory`], so the same code runs against the guest's linear
//! memory in a component and against a fake memory in host-side unit tests,
//! which check these constants against a spec calculator.

use crate::batch::{
    Batch, Column, FilterOutcome, FoldOutcome, MetadataColumn, ReadOutcome, RecordError, StringColumn,
    Timestamps, TransformOutcome,
};
use crate::types::{ParamInfo, PluginError, PluginInfo, Record};

/// `record` (types.wit): size and alignment.
pub const RECORD_SIZE: u32 = 48;
pub const RECORD_ALIGN: u32 = 8;
/// Field offsets in `record`.
pub const RECORD_KEY: u32 = 0; // option<list<u8>>: tag u8, list at +4
pub const RECORD_VALUE: u32 = 12; // list<u8>
pub const RECORD_TIMESTAMP: u32 = 24; // option<s64>: tag u8, s64 at +8
pub const RECORD_METADATA: u32 = 40; // list<tuple<string, string>>

/// `tuple<string, string>`.
pub const PAIR_SIZE: u32 = 16;
pub const PAIR_ALIGN: u32 = 4;

/// `plugin-error`: tag u8 at 0, string at 4.
pub const ERROR_SIZE: u32 = 12;
pub const ERROR_ALIGN: u32 = 4;

/// `result<T, plugin-error>` payload offsets and sizes for the T we use.
pub const RESULT_UNIT_SIZE: u32 = 16; // result<_, plugin-error>
pub const RESULT_BOOL_SIZE: u32 = 16; // result<bool, plugin-error>
pub const RESULT_LIST_SIZE: u32 = 16; // result<list<_>, plugin-error>
pub const RESULT_SMALL_PAYLOAD: u32 = 4; // payload offset when T aligns to <= 4
pub const RESULT_RECORD_SIZE: u32 = 56; // result<record, plugin-error>
pub const RESULT_RECORD_ALIGN: u32 = 8;
pub const RESULT_RECORD_PAYLOAD: u32 = 8;

/// `param-info`.
pub const PARAM_SIZE: u32 = 32;
pub const PARAM_ALIGN: u32 = 4;
pub const PARAM_NAME: u32 = 0;
pub const PARAM_DESCRIPTION: u32 = 8;
pub const PARAM_REQUIRED: u32 = 16;
pub const PARAM_DEFAULT: u32 = 20; // option<string>: tag u8, string at +4

/// `plugin-info`.
pub const INFO_SIZE: u32 = 36;
pub const INFO_NAME: u32 = 0;
pub const INFO_VERSION: u32 = 8;
pub const INFO_KIND: u32 = 16;
pub const INFO_DESCRIPTION: u32 = 20;
pub const INFO_PARAMS: u32 = 28;

/// `bytes-column`: four lists (text, ends, binary, absent).
pub const COLUMN_SIZE: u32 = 32;
pub const COLUMN_TEXT: u32 = 0;
pub const COLUMN_ENDS: u32 = 8;
pub const COLUMN_BINARY: u32 = 16;
pub const COLUMN_ABSENT: u32 = 24;
/// `tuple<u32, list<u8>>`, an item of `binary`.
pub const BINARY_ITEM_SIZE: u32 = 12;
pub const BINARY_ITEM_ALIGN: u32 = 4;

/// `string-column`: text, ends.
pub const STRING_COLUMN_SIZE: u32 = 16;
pub const STRING_COLUMN_TEXT: u32 = 0;
pub const STRING_COLUMN_ENDS: u32 = 8;

/// `metadata-column`: records, names, values.
pub const META_SIZE: u32 = 40;
pub const META_ALIGN: u32 = 4;
pub const META_RECORDS: u32 = 0;
pub const META_NAMES: u32 = 8;
pub const META_VALUES: u32 = 24;

/// `batch`: values column, option<column> keys, option<timestamp-column>, metadata.
pub const BATCH_SIZE: u32 = 128;
pub const BATCH_ALIGN: u32 = 4;
pub const BATCH_VALUES: u32 = 0;
pub const BATCH_KEYS: u32 = 32; // tag u8, column at +4
pub const BATCH_TIMESTAMPS: u32 = 68; // tag u8, values list at +4, absent list at +12
pub const BATCH_METADATA: u32 = 88;

/// `record-error`: index at 0, plugin-error at 4.
pub const RECORD_ERROR_SIZE: u32 = 16;
pub const RECORD_ERROR_ALIGN: u32 = 4;
pub const RECORD_ERROR_ERROR: u32 = 4;

/// `filter-outcome` and `fold-outcome`: a list at 0, errors at 8.
pub const OUTCOME_SIZE: u32 = 16;
pub const OUTCOME_ERRORS: u32 = 8;
/// `transform-outcome`: batch at 0, errors at 128.
pub const TRANSFORM_OUTCOME_SIZE: u32 = 136;
pub const TRANSFORM_OUTCOME_ERRORS: u32 = 128;
/// `result<batch, plugin-error>`: payload at 4.
pub const RESULT_BATCH_SIZE: u32 = 132;
/// `result<read-outcome, plugin-error>`: read-outcome at 4 (its tag), batch at 8.
pub const RESULT_READ_SIZE: u32 = 136;
pub const READ_OUTCOME_BATCH: u32 = 4;

/// The static block every indirect result is written to: the largest
/// result (`transform-outcome`, `result<read-outcome, plugin-error>`).
pub const RET_AREA_SIZE: usize = 136;

/// Batch exports take more than 16 flat values, so the host passes one
/// pointer to a block holding every parameter; its size and alignment.
pub const BATCH_PARAMS_SIZE: u32 = BATCH_SIZE; // (records: batch)
/// `(acc: list<u8>, records: batch)`: the batch at 8.
pub const ACC_BATCH_PARAMS_SIZE: u32 = 136;
pub const ACC_BATCH_PARAMS_BATCH: u32 = 8;

/// Linear memory as the glue sees it: typed loads and stores plus ownership moves.
pub trait Memory {
    /// A fresh block the caller will read after the call (freed at post-return).
    fn alloc(&mut self, size: u32, align: u32) -> u32;
    /// Release a block the host allocated through `cabi_realloc`.
    fn free(&mut self, addr: u32, size: u32, align: u32);
    fn load_u8(&self, addr: u32) -> u8;
    fn load_u32(&self, addr: u32) -> u32;
    fn load_i64(&self, addr: u32) -> i64;
    fn store_u8(&mut self, addr: u32, v: u8);
    fn store_u32(&mut self, addr: u32, v: u32);
    fn store_i64(&mut self, addr: u32, v: i64);
    /// Take ownership of a `list<u8>` the host lowered (align 1).
    fn take_bytes(&mut self, addr: u32, len: u32) -> Vec<u8>;
    /// Take ownership of a `string` the host lowered; the canonical ABI
    /// guarantees UTF-8, so a column's text is not validated again.
    fn take_text(&mut self, addr: u32, len: u32) -> String;
    /// Take ownership of a `list<u32>` the host lowered (align 4).
    fn take_u32s(&mut self, addr: u32, len: u32) -> Vec<u32>;
    /// Take ownership of a `list<s64>` the host lowered (align 8).
    fn take_i64s(&mut self, addr: u32, len: u32) -> Vec<i64>;
    /// Hand bytes to the host; they stay valid until post-return.
    fn give_bytes(&mut self, bytes: Vec<u8>) -> u32;
    /// Hand a `list<u32>` to the host; valid until post-return.
    fn give_u32s(&mut self, items: Vec<u32>) -> u32;
    /// Hand a `list<s64>` to the host; valid until post-return.
    fn give_i64s(&mut self, items: Vec<i64>) -> u32;
}

/// Round `offset` up to a multiple of `align` (a power of two).
pub const fn align_to(offset: u32, align: u32) -> u32 {
    (offset + align - 1) & !(align - 1)
}

fn take_string<M: Memory>(m: &mut M, addr: u32, len: u32) -> String {
    let bytes = m.take_bytes(addr, len);
    // The host validated UTF-8 when lowering; lossy keeps this safe anyway.
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn load_string<M: Memory>(m: &mut M, addr: u32) -> String {
    let (ptr, len) = (m.load_u32(addr), m.load_u32(addr + 4));
    take_string(m, ptr, len)
}

fn store_bytes<M: Memory>(m: &mut M, addr: u32, bytes: Vec<u8>) {
    let len = bytes.len() as u32;
    let ptr = m.give_bytes(bytes);
    m.store_u32(addr, ptr);
    m.store_u32(addr + 4, len);
}

fn store_string<M: Memory>(m: &mut M, addr: u32, s: String) {
    store_bytes(m, addr, s.into_bytes());
}

/// Lift `list<tuple<string, string>>` and free the host's element array.
pub fn lift_pairs<M: Memory>(m: &mut M, ptr: u32, len: u32) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let at = ptr + i * PAIR_SIZE;
        let k = load_string(m, at);
        let v = load_string(m, at + 8);
        out.push((k, v));
    }
    m.free(ptr, len * PAIR_SIZE, PAIR_ALIGN);
    out
}

/// Lower `list<tuple<string, string>>`; returns (ptr, len).
pub fn lower_pairs<M: Memory>(m: &mut M, pairs: Vec<(String, String)>) -> (u32, u32) {
    let len = pairs.len() as u32;
    let ptr = m.alloc(len * PAIR_SIZE, PAIR_ALIGN);
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        let at = ptr + i as u32 * PAIR_SIZE;
        store_string(m, at, k);
        store_string(m, at + 8, v);
    }
    (ptr, len)
}

/// A record as its nine flat core values (how a single `record` parameter arrives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlatRecord {
    pub key_tag: u32,
    pub key_ptr: u32,
    pub key_len: u32,
    pub value_ptr: u32,
    pub value_len: u32,
    pub ts_tag: u32,
    pub ts: i64,
    pub metadata_ptr: u32,
    pub metadata_len: u32,
}

/// Lift a record from its flat parameters, taking ownership of its buffers.
pub fn lift_record_flat<M: Memory>(m: &mut M, f: FlatRecord) -> Record {
    let key = if f.key_tag == 0 { None } else { Some(m.take_bytes(f.key_ptr, f.key_len)) };
    let value = m.take_bytes(f.value_ptr, f.value_len);
    let timestamp = if f.ts_tag == 0 { None } else { Some(f.ts) };
    let metadata = lift_pairs(m, f.metadata_ptr, f.metadata_len);
    Record { key, value, timestamp, metadata }
}

/// Read a record's flat form out of memory at `addr`.
pub fn load_record_flat<M: Memory>(m: &M, addr: u32) -> FlatRecord {
    FlatRecord {
        key_tag: m.load_u8(addr + RECORD_KEY) as u32,
        key_ptr: m.load_u32(addr + RECORD_KEY + 4),
        key_len: m.load_u32(addr + RECORD_KEY + 8),
        value_ptr: m.load_u32(addr + RECORD_VALUE),
        value_len: m.load_u32(addr + RECORD_VALUE + 4),
        ts_tag: m.load_u8(addr + RECORD_TIMESTAMP) as u32,
        ts: m.load_i64(addr + RECORD_TIMESTAMP + 8),
        metadata_ptr: m.load_u32(addr + RECORD_METADATA),
        metadata_len: m.load_u32(addr + RECORD_METADATA + 4),
    }
}

/// Store a record at `addr` (which must be 8-aligned).
pub fn store_record<M: Memory>(m: &mut M, addr: u32, r: Record) {
    match r.key {
        None => m.store_u8(addr + RECORD_KEY, 0),
        Some(k) => {
            m.store_u8(addr + RECORD_KEY, 1);
            store_bytes(m, addr + RECORD_KEY + 4, k);
        }
    }
    store_bytes(m, addr + RECORD_VALUE, r.value);
    match r.timestamp {
        None => m.store_u8(addr + RECORD_TIMESTAMP, 0),
        Some(t) => {
            m.store_u8(addr + RECORD_TIMESTAMP, 1);
            m.store_i64(addr + RECORD_TIMESTAMP + 8, t);
        }
    }
    let (ptr, len) = lower_pairs(m, r.metadata);
    m.store_u32(addr + RECORD_METADATA, ptr);
    m.store_u32(addr + RECORD_METADATA + 4, len);
}

/// Store a `plugin-error` at `addr`.
pub fn store_error<M: Memory>(m: &mut M, addr: u32, e: PluginError) {
    m.store_u8(addr, e.case());
    store_string(m, addr + 4, e.into_message());
}

/// Lift a `plugin-error` stored at `addr` (used by tests and host-side tools).
pub fn load_error<M: Memory>(m: &mut M, addr: u32) -> PluginError {
    let case = m.load_u8(addr);
    let message = load_string(m, addr + 4);
    PluginError::from_case(case, message).unwrap_or(PluginError::Processing(String::new()))
}

/// Store the outcome of a `result<_, plugin-error>` at `addr`.
pub fn store_result_unit<M: Memory>(m: &mut M, addr: u32, r: Result<(), PluginError>) {
    match r {
        Ok(()) => m.store_u8(addr, 0),
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_SMALL_PAYLOAD, e);
        }
    }
}

/// Store a `result<bool, plugin-error>` at `addr`.
pub fn store_result_bool<M: Memory>(m: &mut M, addr: u32, r: Result<bool, PluginError>) {
    match r {
        Ok(b) => {
            m.store_u8(addr, 0);
            m.store_u8(addr + RESULT_SMALL_PAYLOAD, b as u8);
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_SMALL_PAYLOAD, e);
        }
    }
}

/// Store a `result<record, plugin-error>` at `addr` (8-aligned).
pub fn store_result_record<M: Memory>(m: &mut M, addr: u32, r: Result<Record, PluginError>) {
    match r {
        Ok(rec) => {
            m.store_u8(addr, 0);
            store_record(m, addr + RESULT_RECORD_PAYLOAD, rec);
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_RECORD_PAYLOAD, e);
        }
    }
}

/// Store a `result<list<u8>, plugin-error>` at `addr`.
pub fn store_result_bytes<M: Memory>(m: &mut M, addr: u32, r: Result<Vec<u8>, PluginError>) {
    match r {
        Ok(bytes) => {
            m.store_u8(addr, 0);
            store_bytes(m, addr + RESULT_SMALL_PAYLOAD, bytes);
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_SMALL_PAYLOAD, e);
        }
    }
}

/// Store a `list<u8>` (e.g. an accumulator) at `addr`.
pub fn store_list_u8<M: Memory>(m: &mut M, addr: u32, bytes: Vec<u8>) {
    store_bytes(m, addr, bytes);
}

// ---- columnar batches ----------------------------------------------------------

fn lift_column<M: Memory>(m: &mut M, addr: u32) -> Column {
    let text = m.take_text(m.load_u32(addr + COLUMN_TEXT), m.load_u32(addr + COLUMN_TEXT + 4));
    let ends = m.take_u32s(m.load_u32(addr + COLUMN_ENDS), m.load_u32(addr + COLUMN_ENDS + 4));
    let (bp, bn) = (m.load_u32(addr + COLUMN_BINARY), m.load_u32(addr + COLUMN_BINARY + 4));
    let mut binary = Vec::with_capacity(bn as usize);
    for i in 0..bn {
        let at = bp + i * BINARY_ITEM_SIZE;
        let index = m.load_u32(at);
        let bytes = m.take_bytes(m.load_u32(at + 4), m.load_u32(at + 8));
        binary.push((index, bytes));
    }
    m.free(bp, bn * BINARY_ITEM_SIZE, BINARY_ITEM_ALIGN);
    let absent = m.take_u32s(m.load_u32(addr + COLUMN_ABSENT), m.load_u32(addr + COLUMN_ABSENT + 4));
    Column { text, ends, binary, absent }
}

/// Lift a `batch` stored at `addr`, taking ownership of every buffer it
/// points to (the block at `addr` itself stays the caller's to free).
/// Nothing is checked here: see [`Batch::check`].
pub fn lift_batch<M: Memory>(m: &mut M, addr: u32) -> Batch {
    let values = lift_column(m, addr + BATCH_VALUES);
    let keys = if m.load_u8(addr + BATCH_KEYS) == 0 { None } else { Some(lift_column(m, addr + BATCH_KEYS + 4)) };
    let at = addr + BATCH_TIMESTAMPS;
    let timestamps = if m.load_u8(at) == 0 {
        None
    } else {
        let values = m.take_i64s(m.load_u32(at + 4), m.load_u32(at + 8));
        let absent = m.take_u32s(m.load_u32(at + 12), m.load_u32(at + 16));
        Some(Timestamps { values, absent })
    };
    let metadata = lift_metadata(m, addr + BATCH_METADATA);
    Batch { values, keys, timestamps, metadata }
}

fn lift_string_column<M: Memory>(m: &mut M, addr: u32) -> StringColumn {
    let at = addr + STRING_COLUMN_TEXT;
    let text = m.take_text(m.load_u32(at), m.load_u32(at + 4));
    let at = addr + STRING_COLUMN_ENDS;
    let ends = m.take_u32s(m.load_u32(at), m.load_u32(at + 4));
    StringColumn { text, ends }
}

/// Three lists and two strings taken over as they are: no per-pair work.
fn lift_metadata<M: Memory>(m: &mut M, addr: u32) -> MetadataColumn {
    let at = addr + META_RECORDS;
    let records = m.take_u32s(m.load_u32(at), m.load_u32(at + 4));
    let names = lift_string_column(m, addr + META_NAMES);
    let values = lift_string_column(m, addr + META_VALUES);
    MetadataColumn { records, names, values }
}

fn store_u32s<M: Memory>(m: &mut M, addr: u32, items: Vec<u32>) {
    let len = items.len() as u32;
    let ptr = m.give_u32s(items);
    m.store_u32(addr, ptr);
    m.store_u32(addr + 4, len);
}

fn store_column<M: Memory>(m: &mut M, addr: u32, c: Column) {
    store_string(m, addr + COLUMN_TEXT, c.text);
    store_u32s(m, addr + COLUMN_ENDS, c.ends);
    let len = c.binary.len() as u32;
    let ptr = m.alloc(len * BINARY_ITEM_SIZE, BINARY_ITEM_ALIGN);
    for (i, (index, bytes)) in c.binary.into_iter().enumerate() {
        let at = ptr + i as u32 * BINARY_ITEM_SIZE;
        m.store_u32(at, index);
        store_bytes(m, at + 4, bytes);
    }
    m.store_u32(addr + COLUMN_BINARY, ptr);
    m.store_u32(addr + COLUMN_BINARY + 4, len);
    store_u32s(m, addr + COLUMN_ABSENT, c.absent);
}

/// Store a `batch` at `addr` (4-aligned); its buffers move to the host's view without copying.
pub fn store_batch<M: Memory>(m: &mut M, addr: u32, b: Batch) {
    store_column(m, addr + BATCH_VALUES, b.values);
    match b.keys {
        None => m.store_u8(addr + BATCH_KEYS, 0),
        Some(k) => {
            m.store_u8(addr + BATCH_KEYS, 1);
            store_column(m, addr + BATCH_KEYS + 4, k);
        }
    }
    let at = addr + BATCH_TIMESTAMPS;
    match b.timestamps {
        None => m.store_u8(at, 0),
        Some(t) => {
            m.store_u8(at, 1);
            let len = t.values.len() as u32;
            let ptr = m.give_i64s(t.values);
            m.store_u32(at + 4, ptr);
            m.store_u32(at + 8, len);
            store_u32s(m, at + 12, t.absent);
        }
    }
    store_metadata(m, addr + BATCH_METADATA, b.metadata);
}

fn store_string_column<M: Memory>(m: &mut M, addr: u32, c: StringColumn) {
    store_string(m, addr + STRING_COLUMN_TEXT, c.text);
    store_u32s(m, addr + STRING_COLUMN_ENDS, c.ends);
}

fn store_metadata<M: Memory>(m: &mut M, addr: u32, c: MetadataColumn) {
    store_u32s(m, addr + META_RECORDS, c.records);
    store_string_column(m, addr + META_NAMES, c.names);
    store_string_column(m, addr + META_VALUES, c.values);
}

/// Store a `list<record-error>` (ptr, len) at `addr`.
pub fn store_record_errors<M: Memory>(m: &mut M, addr: u32, errors: Vec<RecordError>) {
    let len = errors.len() as u32;
    let ptr = m.alloc(len * RECORD_ERROR_SIZE, RECORD_ERROR_ALIGN);
    for (i, e) in errors.into_iter().enumerate() {
        let at = ptr + i as u32 * RECORD_ERROR_SIZE;
        m.store_u32(at, e.index);
        store_error(m, at + RECORD_ERROR_ERROR, e.error);
    }
    m.store_u32(addr, ptr);
    m.store_u32(addr + 4, len);
}

/// Store a `filter-outcome` at `addr`.
pub fn store_filter_outcome<M: Memory>(m: &mut M, addr: u32, o: FilterOutcome) {
    store_bytes(m, addr, o.keep);
    store_record_errors(m, addr + OUTCOME_ERRORS, o.errors);
}

/// Store a `transform-outcome` at `addr`.
pub fn store_transform_outcome<M: Memory>(m: &mut M, addr: u32, o: TransformOutcome) {
    store_batch(m, addr, o.records);
    store_record_errors(m, addr + TRANSFORM_OUTCOME_ERRORS, o.errors);
}

/// Store a `fold-outcome` at `addr`.
pub fn store_fold_outcome<M: Memory>(m: &mut M, addr: u32, o: FoldOutcome) {
    store_bytes(m, addr, o.accumulator);
    store_record_errors(m, addr + OUTCOME_ERRORS, o.errors);
}

/// Store a `result<batch, plugin-error>` at `addr`.
pub fn store_result_batch<M: Memory>(m: &mut M, addr: u32, r: Result<Batch, PluginError>) {
    match r {
        Ok(b) => {
            m.store_u8(addr, 0);
            store_batch(m, addr + RESULT_SMALL_PAYLOAD, b);
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_SMALL_PAYLOAD, e);
        }
    }
}

/// Store a `result<read-outcome, plugin-error>` at `addr`.
pub fn store_result_read<M: Memory>(m: &mut M, addr: u32, r: Result<ReadOutcome, PluginError>) {
    let at = addr + RESULT_SMALL_PAYLOAD;
    match r {
        Ok(outcome) => {
            m.store_u8(addr, 0);
            match outcome {
                ReadOutcome::Records(b) => {
                    m.store_u8(at, 0);
                    store_batch(m, at + READ_OUTCOME_BATCH, b);
                }
                ReadOutcome::Pending => m.store_u8(at, 1),
                ReadOutcome::End => m.store_u8(at, 2),
            }
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, at, e);
        }
    }
}

fn store_param<M: Memory>(m: &mut M, addr: u32, p: ParamInfo) {
    store_string(m, addr + PARAM_NAME, p.name);
    store_string(m, addr + PARAM_DESCRIPTION, p.description);
    m.store_u8(addr + PARAM_REQUIRED, p.required as u8);
    match p.default {
        None => m.store_u8(addr + PARAM_DEFAULT, 0),
        Some(d) => {
            m.store_u8(addr + PARAM_DEFAULT, 1);
            store_string(m, addr + PARAM_DEFAULT + 4, d);
        }
    }
}

/// Store a `plugin-info` at `addr`.
pub fn store_plugin_info<M: Memory>(m: &mut M, addr: u32, info: PluginInfo) {
    store_string(m, addr + INFO_NAME, info.name);
    store_string(m, addr + INFO_VERSION, info.version);
    m.store_u8(addr + INFO_KIND, info.kind.case());
    store_string(m, addr + INFO_DESCRIPTION, info.description);
    let len = info.params.len() as u32;
    let ptr = m.alloc(len * PARAM_SIZE, PARAM_ALIGN);
    for (i, p) in info.params.into_iter().enumerate() {
        store_param(m, ptr + i as u32 * PARAM_SIZE, p);
    }
    m.store_u32(addr + INFO_PARAMS, ptr);
    m.store_u32(addr + INFO_PARAMS + 4, len);
}

#[cfg(test)]
#[path = "abi_tests.rs"]
mod tests;
