//! Canonical-ABI layouts of our WIT types, and lifting/lowering through a [`Memory`].
//!
//! Offsets follow the Component Model's `CanonicalABI.md` (wasm32: pointers
//! and lengths are `u32`). Every function here works on addresses in an
//! abstract [`Memory`], so the same code runs against the guest's linear
//! memory in a component and against a fake memory in host-side unit tests,
//! which check these constants against a spec calculator.

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

/// `batch-fold`: accumulator list at 0, outcomes list at 8.
pub const BATCH_FOLD_SIZE: u32 = 16;
pub const BATCH_FOLD_OUTCOMES: u32 = 8;

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
    /// Hand bytes to the host; they stay valid until post-return.
    fn give_bytes(&mut self, bytes: Vec<u8>) -> u32;
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

/// Lift `list<record>` and free the host's element array.
pub fn lift_records<M: Memory>(m: &mut M, ptr: u32, len: u32) -> Vec<Record> {
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let flat = load_record_flat(m, ptr + i * RECORD_SIZE);
        out.push(lift_record_flat(m, flat));
    }
    m.free(ptr, len * RECORD_SIZE, RECORD_ALIGN);
    out
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

/// Lower `list<record>`; returns (ptr, len).
pub fn lower_records<M: Memory>(m: &mut M, records: Vec<Record>) -> (u32, u32) {
    let len = records.len() as u32;
    let ptr = m.alloc(len * RECORD_SIZE, RECORD_ALIGN);
    for (i, r) in records.into_iter().enumerate() {
        store_record(m, ptr + i as u32 * RECORD_SIZE, r);
    }
    (ptr, len)
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

/// Store a `result<list<record>, plugin-error>` at `addr`.
pub fn store_result_records<M: Memory>(
    m: &mut M,
    addr: u32,
    r: Result<Vec<Record>, PluginError>,
) {
    match r {
        Ok(records) => {
            m.store_u8(addr, 0);
            let (ptr, len) = lower_records(m, records);
            m.store_u32(addr + RESULT_SMALL_PAYLOAD, ptr);
            m.store_u32(addr + RESULT_SMALL_PAYLOAD + 4, len);
        }
        Err(e) => {
            m.store_u8(addr, 1);
            store_error(m, addr + RESULT_SMALL_PAYLOAD, e);
        }
    }
}

/// Lower `list<result<_, plugin-error>>`; returns (ptr, len).
pub fn lower_unit_results<M: Memory>(m: &mut M, rs: Vec<Result<(), PluginError>>) -> (u32, u32) {
    let len = rs.len() as u32;
    let ptr = m.alloc(len * RESULT_UNIT_SIZE, ERROR_ALIGN);
    for (i, r) in rs.into_iter().enumerate() {
        store_result_unit(m, ptr + i as u32 * RESULT_UNIT_SIZE, r);
    }
    (ptr, len)
}

/// Lower `list<result<bool, plugin-error>>`; returns (ptr, len).
pub fn lower_bool_results<M: Memory>(m: &mut M, rs: Vec<Result<bool, PluginError>>) -> (u32, u32) {
    let len = rs.len() as u32;
    let ptr = m.alloc(len * RESULT_BOOL_SIZE, ERROR_ALIGN);
    for (i, r) in rs.into_iter().enumerate() {
        store_result_bool(m, ptr + i as u32 * RESULT_BOOL_SIZE, r);
    }
    (ptr, len)
}

/// Lower `list<result<record, plugin-error>>`; returns (ptr, len).
pub fn lower_record_results<M: Memory>(
    m: &mut M,
    rs: Vec<Result<Record, PluginError>>,
) -> (u32, u32) {
    let len = rs.len() as u32;
    let ptr = m.alloc(len * RESULT_RECORD_SIZE, RESULT_RECORD_ALIGN);
    for (i, r) in rs.into_iter().enumerate() {
        store_result_record(m, ptr + i as u32 * RESULT_RECORD_SIZE, r);
    }
    (ptr, len)
}

/// Store a `batch-fold` at `addr`.
pub fn store_batch_fold<M: Memory>(
    m: &mut M,
    addr: u32,
    acc: Vec<u8>,
    outcomes: Vec<Result<(), PluginError>>,
) {
    store_bytes(m, addr, acc);
    let (ptr, len) = lower_unit_results(m, outcomes);
    m.store_u32(addr + BATCH_FOLD_OUTCOMES, ptr);
    m.store_u32(addr + BATCH_FOLD_OUTCOMES + 4, len);
}

/// Store a `list<u8>` (e.g. an accumulator) at `addr`.
pub fn store_list_u8<M: Memory>(m: &mut M, addr: u32, bytes: Vec<u8>) {
    store_bytes(m, addr, bytes);
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
