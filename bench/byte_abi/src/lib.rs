//! The byte-pointer ABI anchor for `make bench` (section (h)), issue 13.
//!
//! A *core* wasm module, not a component: the way plugins were called before
//! typed components. The host writes a framed batch into linear memory and
//! reads a framed result back; nothing crosses as a typed value.
//!
//! Exports:
//! - `memory`;
//! - `alloc(len) -> ptr`: a buffer of `len` bytes for the next call's input.
//!   One buffer is reused (grown as needed), so each call invalidates the
//!   previous pointer and the module's memory stays flat across batches;
//! - `configure(ptr, len) -> u32`: `u32 len + field bytes, u32 len + value
//!   bytes`; 0 on success, 1 when the frame or UTF-8 is bad;
//! - `filter_batch(ptr, len) -> ptr`: input `u32 count`, then per record
//!   `u32 len + bytes`; output `u32 count` + one byte per record: 1 keep,
//!   0 drop, 2 error (not JSON / not an object, where the typed export returns
//!   a per-record `plugin-error`). 0 is returned for a malformed frame.
//!
//! All integers are little-endian. The filter rules are `json_filter`'s
//! (guest-examples/rust/json_filter), with the same JSON reader.

use std::collections::BTreeMap;

/// The SDK's JSON reader, shared by path so the anchor does the same guest work.
#[path = "../../../host/dataflare/sdk/rust/dataflare-guest/src/json.rs"]
#[allow(dead_code)]
mod json;

use json::Value;

/// What `json::parse_object` needs from the SDK's crate root.
#[allow(dead_code)]
pub enum PluginError {
    Serialization(String),
}

const KEEP: u8 = 1;
const DROP: u8 = 0;
const ERROR: u8 = 2;

struct State {
    input: Vec<u8>,
    output: Vec<u8>,
    field: String,
    value: String,
    as_json: Option<Value>,
}

// The module is single-threaded (wasm32-unknown-unknown, no threads), and the
// host never re-enters it, so one mutable global is sound here.
static mut STATE: Option<State> = None;

fn state() -> &'static mut State {
    // SAFETY: single-threaded, no re-entrancy (see above).
    unsafe {
        STATE.get_or_insert_with(|| State {
            input: Vec::new(),
            output: Vec::new(),
            field: String::new(),
            value: String::new(),
            as_json: None,
        })
    }
}

/// A buffer of `len` bytes for the next `configure` or `filter_batch` input.
#[no_mangle]
pub extern "C" fn alloc(len: u32) -> *mut u8 {
    let st = state();
    st.input.clear();
    st.input.resize(len as usize, 0);
    st.input.as_mut_ptr()
}

/// Read `u32 len + bytes` at `*at`, advancing it; `None` past the end.
fn take<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let head = buf.get(*at..*at + 4)?;
    let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let body = buf.get(*at + 4..(*at + 4).checked_add(n)?)?;
    *at += 4 + n;
    Some(body)
}

fn input(ptr: *const u8, len: u32) -> &'static [u8] {
    // SAFETY: the host wrote `len` bytes at `ptr`, a pointer `alloc` returned.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }
}

/// Set `field` and `value` (see the module doc for the frame).
#[no_mangle]
pub extern "C" fn configure(ptr: *const u8, len: u32) -> u32 {
    let buf = input(ptr, len);
    let mut at = 0;
    let (field, value) = match (take(buf, &mut at), take(buf, &mut at)) {
        (Some(f), Some(v)) => (f, v),
        _ => return 1,
    };
    let (field, value) = match (std::str::from_utf8(field), std::str::from_utf8(value)) {
        (Ok(f), Ok(v)) => (f.to_string(), v.to_string()),
        _ => return 1,
    };
    let st = state();
    st.as_json = json::parse(value.as_bytes()).ok();
    st.field = field;
    st.value = value;
    0
}

/// json_filter's decision for one record value.
fn decide(st: &State, value: &[u8]) -> u8 {
    let obj: BTreeMap<String, Value> = match json::parse_object(value) {
        Ok(obj) => obj,
        Err(_) => return ERROR,
    };
    let keep = match obj.get(&st.field) {
        None => false,
        Some(Value::String(s)) => *s == st.value,
        Some(found) => st.as_json.as_ref().map_or(false, |want| json::equal(found, want)),
    };
    if keep {
        KEEP
    } else {
        DROP
    }
}

/// Decide a framed batch; returns a pointer to `u32 count` + one byte per record.
#[no_mangle]
pub extern "C" fn filter_batch(ptr: *const u8, len: u32) -> *const u8 {
    let buf = input(ptr, len);
    let st = state();
    let mut out = std::mem::take(&mut st.output);
    out.clear();
    let count = match buf.get(0..4) {
        Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        None => return std::ptr::null(),
    };
    out.extend_from_slice(&count.to_le_bytes());
    let mut at = 4;
    for _ in 0..count {
        match take(buf, &mut at) {
            Some(value) => out.push(decide(st, value)),
            None => return std::ptr::null(),
        }
    }
    st.output = out;
    st.output.as_ptr()
}
