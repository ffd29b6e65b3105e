//! Export glue the `export_*!` macros call: not for plugin authors.
//!
//! Ownership follows the canonical ABI. Parameters the host lowered into our
//! memory through `cabi_realloc` become ours (lifted without copying where
//! the layout allows). Results we lower stay alive in a keep-alive list until
//! the host calls the export's `cabi_post_*` function, which frees them.

#![allow(clippy::missing_safety_doc)]

use std::cell::UnsafeCell;

/// The plugin instance of one component, created with `Default` on first use,
/// and whether a source or sink was closed (after which its calls fail).
pub struct Slot<T>(UnsafeCell<Option<T>>, UnsafeCell<bool>);

// A component instance is single-threaded: no export runs concurrently.
unsafe impl<T> Sync for Slot<T> {}

impl<T: Default> Slot<T> {
    /// An empty slot (usable in a `static`).
    pub const fn new() -> Self {
        Slot(UnsafeCell::new(None), UnsafeCell::new(false))
    }

    /// The instance; callers must not hold two of these at once.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        let slot = &mut *self.0.get();
        if slot.is_none() {
            *slot = Some(T::default());
        }
        slot.as_mut().unwrap()
    }

    /// The instance of a source or sink (`kind`), or an `io` error once it
    /// was closed: the SDK keeps that rule so plugins need not.
    pub unsafe fn open(&self, kind: &str) -> Result<&mut T, crate::PluginError> {
        if *self.1.get() {
            Err(crate::PluginError::Io(format!("{} is closed", kind)))
        } else {
            Ok(self.get())
        }
    }

    /// Run the plugin's `close` once; a later close succeeds without calling it.
    /// A failed close leaves the instance open, so it may be retried.
    pub unsafe fn close(
        &self,
        close: impl FnOnce(&mut T) -> Result<(), crate::PluginError>,
    ) -> Result<(), crate::PluginError> {
        if *self.1.get() {
            return Ok(());
        }
        close(self.get())?;
        *self.1.get() = true;
        Ok(())
    }
}

#[cfg(test)]
#[path = "rt_tests.rs"]
mod tests;

#[cfg(target_arch = "wasm32")]
pub use self::wasm::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::Slot;
    use crate::abi::{self, FlatRecord, Memory};
    use crate::types::Config;
    use crate::{fail_all, Aggregate, Batch, Filter, FilterOutcome, FoldOutcome, PluginError};
    use crate::{Sink, Source, Transform, TransformOutcome};
    use std::alloc::{alloc, dealloc, handle_alloc_error, realloc as std_realloc, Layout};
    use std::cell::UnsafeCell;

    /// Buffers handed to the host, freed at post-return.
    struct KeepAlive {
        bytes: Vec<Vec<u8>>,
        u32s: Vec<Vec<u32>>,
        i64s: Vec<Vec<i64>>,
        blocks: Vec<(*mut u8, Layout)>,
    }

    struct Global<T>(UnsafeCell<T>);
    unsafe impl<T> Sync for Global<T> {}

    static KEEP: Global<KeepAlive> =
        Global(UnsafeCell::new(KeepAlive {
        bytes: Vec::new(),
        u32s: Vec::new(),
        i64s: Vec::new(),
        blocks: Vec::new(),
    }));

    /// Big enough and aligned enough for every result we return indirectly.
    #[repr(C, align(8))]
    struct RetArea([u8; abi::RET_AREA_SIZE]);
    static RET: Global<RetArea> = Global(UnsafeCell::new(RetArea([0; abi::RET_AREA_SIZE])));

    fn ret_area() -> u32 {
        RET.0.get() as u32
    }

    /// The component's own linear memory.
    pub struct Wasm;

    impl Memory for Wasm {
        fn alloc(&mut self, size: u32, align: u32) -> u32 {
            if size == 0 {
                return align;
            }
            let layout = Layout::from_size_align(size as usize, align as usize).unwrap();
            let ptr = unsafe { alloc(layout) };
            if ptr.is_null() {
                handle_alloc_error(layout);
            }
            unsafe { (*KEEP.0.get()).blocks.push((ptr, layout)) };
            ptr as u32
        }
        fn free(&mut self, addr: u32, size: u32, align: u32) {
            if size != 0 {
                let layout = Layout::from_size_align(size as usize, align as usize).unwrap();
                unsafe { dealloc(addr as *mut u8, layout) };
            }
        }
        fn load_u8(&self, addr: u32) -> u8 {
            unsafe { *(addr as *const u8) }
        }
        fn load_u32(&self, addr: u32) -> u32 {
            unsafe { (addr as *const u32).read_unaligned() }
        }
        fn load_i64(&self, addr: u32) -> i64 {
            unsafe { (addr as *const i64).read_unaligned() }
        }
        fn store_u8(&mut self, addr: u32, v: u8) {
            unsafe { *(addr as *mut u8) = v }
        }
        fn store_u32(&mut self, addr: u32, v: u32) {
            unsafe { (addr as *mut u32).write_unaligned(v) }
        }
        fn store_i64(&mut self, addr: u32, v: i64) {
            unsafe { (addr as *mut i64).write_unaligned(v) }
        }
        fn take_bytes(&mut self, addr: u32, len: u32) -> Vec<u8> {
            if len == 0 {
                return Vec::new();
            }
            // The host allocated exactly `len` bytes with align 1 via cabi_realloc.
            unsafe { Vec::from_raw_parts(addr as *mut u8, len as usize, len as usize) }
        }
        fn take_text(&mut self, addr: u32, len: u32) -> String {
            // The canonical ABI only lowers valid UTF-8 into a `string`, so
            // the host already checked what a second pass would check.
            unsafe { String::from_utf8_unchecked(self.take_bytes(addr, len)) }
        }
        fn take_u32s(&mut self, addr: u32, len: u32) -> Vec<u32> {
            if len == 0 {
                return Vec::new();
            }
            // Allocated by the host through cabi_realloc as len * 4 bytes, align 4.
            unsafe { Vec::from_raw_parts(addr as *mut u32, len as usize, len as usize) }
        }
        fn take_i64s(&mut self, addr: u32, len: u32) -> Vec<i64> {
            if len == 0 {
                return Vec::new();
            }
            // Allocated by the host through cabi_realloc as len * 8 bytes, align 8.
            unsafe { Vec::from_raw_parts(addr as *mut i64, len as usize, len as usize) }
        }
        fn give_bytes(&mut self, bytes: Vec<u8>) -> u32 {
            let ptr = bytes.as_ptr() as u32;
            unsafe { (*KEEP.0.get()).bytes.push(bytes) };
            ptr
        }
        fn give_u32s(&mut self, items: Vec<u32>) -> u32 {
            let ptr = items.as_ptr() as u32;
            unsafe { (*KEEP.0.get()).u32s.push(items) };
            ptr
        }
        fn give_i64s(&mut self, items: Vec<i64>) -> u32 {
            let ptr = items.as_ptr() as u32;
            unsafe { (*KEEP.0.get()).i64s.push(items) };
            ptr
        }
    }

    /// `cabi_realloc` as the canonical ABI defines it.
    pub unsafe fn realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
        if old_size == 0 {
            if new_size == 0 {
                return align as *mut u8;
            }
            let layout = Layout::from_size_align_unchecked(new_size, align);
            let ptr = alloc(layout);
            if ptr.is_null() {
                handle_alloc_error(layout);
            }
            return ptr;
        }
        let layout = Layout::from_size_align_unchecked(old_size, align);
        if new_size == 0 {
            dealloc(old, layout);
            return align as *mut u8;
        }
        let ptr = std_realloc(old, layout, new_size);
        if ptr.is_null() {
            handle_alloc_error(Layout::from_size_align_unchecked(new_size, align));
        }
        ptr
    }

    /// Every `cabi_post_*`: free what the last export handed out.
    pub unsafe fn post_return() {
        let keep = &mut *KEEP.0.get();
        keep.bytes.clear();
        keep.u32s.clear();
        keep.i64s.clear();
        for (ptr, layout) in keep.blocks.drain(..) {
            dealloc(ptr, layout);
        }
    }

    /// The nine flat core values of a `record` parameter.
    #[allow(clippy::too_many_arguments)]
    pub fn flat(a: i32, b: i32, c: i32, d: i32, e: i32, f: i32, g: i64, h: i32, i: i32) -> FlatRecord {
        FlatRecord {
            key_tag: a as u32,
            key_ptr: b as u32,
            key_len: c as u32,
            value_ptr: d as u32,
            value_len: e as u32,
            ts_tag: f as u32,
            ts: g,
            metadata_ptr: h as u32,
            metadata_len: i as u32,
        }
    }

    fn config(ptr: i32, len: i32) -> Config {
        Config::new(abi::lift_pairs(&mut Wasm, ptr as u32, len as u32))
    }

    fn unit(r: Result<(), crate::PluginError>) -> i32 {
        let ret = ret_area();
        abi::store_result_unit(&mut Wasm, ret, r);
        ret as i32
    }

    fn info(info: crate::PluginInfo) -> i32 {
        let ret = ret_area();
        abi::store_plugin_info(&mut Wasm, ret, info);
        ret as i32
    }

    /// Lift the batch in the parameter block at `params` + `at`, free the
    /// block (the host allocated it; it is ours now) and check the batch.
    fn take_batch(params: i32, size: u32, at: u32) -> (Batch, Result<(), PluginError>) {
        let batch = abi::lift_batch(&mut Wasm, params as u32 + at);
        Wasm.free(params as u32, size, abi::BATCH_ALIGN);
        let checked = batch.check();
        (batch, checked)
    }

    /// `<kind>_describe` and `<kind>_configure`: the same for every kind's trait.
    macro_rules! describe_configure {
        ($kind:ident, $describe:ident, $configure:ident) => {
            pub unsafe fn $describe<T: $kind + Default>(s: &Slot<T>) -> i32 {
                info(s.get().describe())
            }
            pub unsafe fn $configure<T: $kind + Default>(s: &Slot<T>, p: i32, n: i32) -> i32 {
                unit(s.get().configure(config(p, n)))
            }
        };
    }

    // ---- filter -------------------------------------------------------------

    describe_configure!(Filter, filter_describe, filter_configure);
    pub unsafe fn filter_one<T: Filter + Default>(s: &Slot<T>, f: FlatRecord) -> i32 {
        let record = abi::lift_record_flat(&mut Wasm, f);
        let ret = ret_area();
        abi::store_result_bool(&mut Wasm, ret, s.get().filter(record.view()));
        ret as i32
    }
    pub unsafe fn filter_batch<T: Filter + Default>(s: &Slot<T>, params: i32) -> i32 {
        let (batch, checked) = take_batch(params, abi::BATCH_PARAMS_SIZE, 0);
        let outcome = match checked {
            Ok(()) => s.get().filter_batch(&batch),
            Err(e) => FilterOutcome::failed(batch.len(), &e),
        };
        drop(batch);
        let ret = ret_area();
        abi::store_filter_outcome(&mut Wasm, ret, outcome);
        ret as i32
    }

    // ---- transform ----------------------------------------------------------

    describe_configure!(Transform, transform_describe, transform_configure);
    pub unsafe fn transform_one<T: Transform + Default>(s: &Slot<T>, f: FlatRecord) -> i32 {
        let record = abi::lift_record_flat(&mut Wasm, f);
        let out = s.get().transform(record.view());
        drop(record);
        let ret = ret_area();
        abi::store_result_record(&mut Wasm, ret, out);
        ret as i32
    }
    pub unsafe fn transform_batch<T: Transform + Default>(s: &Slot<T>, params: i32) -> i32 {
        let (batch, checked) = take_batch(params, abi::BATCH_PARAMS_SIZE, 0);
        let outcome = match checked {
            Ok(()) => s.get().transform_batch(&batch),
            Err(e) => TransformOutcome::failed(batch.len(), &e),
        };
        drop(batch);
        let ret = ret_area();
        abi::store_transform_outcome(&mut Wasm, ret, outcome);
        ret as i32
    }

    // ---- aggregate ----------------------------------------------------------

    describe_configure!(Aggregate, aggregate_describe, aggregate_configure);
    pub unsafe fn aggregate_init<T: Aggregate + Default>(s: &Slot<T>) -> i32 {
        let ret = ret_area();
        abi::store_list_u8(&mut Wasm, ret, s.get().init());
        ret as i32
    }
    pub unsafe fn aggregate_one<T: Aggregate + Default>(
        s: &Slot<T>,
        acc_ptr: i32,
        acc_len: i32,
        f: FlatRecord,
    ) -> i32 {
        let acc = Wasm.take_bytes(acc_ptr as u32, acc_len as u32);
        let record = abi::lift_record_flat(&mut Wasm, f);
        let ret = ret_area();
        abi::store_result_bytes(&mut Wasm, ret, s.get().aggregate(&acc, record.view()));
        ret as i32
    }
    pub unsafe fn aggregate_batch<T: Aggregate + Default>(s: &Slot<T>, params: i32) -> i32 {
        let at = params as u32;
        let acc = Wasm.take_bytes(Wasm.load_u32(at), Wasm.load_u32(at + 4));
        let (batch, checked) =
            take_batch(params, abi::ACC_BATCH_PARAMS_SIZE, abi::ACC_BATCH_PARAMS_BATCH);
        let outcome = match checked {
            Ok(()) => s.get().aggregate_batch(acc, &batch),
            Err(e) => FoldOutcome { errors: fail_all(batch.len(), &e), accumulator: acc },
        };
        drop(batch);
        let ret = ret_area();
        abi::store_fold_outcome(&mut Wasm, ret, outcome);
        ret as i32
    }
    pub unsafe fn aggregate_merge<T: Aggregate + Default>(
        s: &Slot<T>,
        ap: i32,
        an: i32,
        bp: i32,
        bn: i32,
    ) -> i32 {
        let a = Wasm.take_bytes(ap as u32, an as u32);
        let b = Wasm.take_bytes(bp as u32, bn as u32);
        let ret = ret_area();
        abi::store_result_bytes(&mut Wasm, ret, s.get().merge(&a, &b));
        ret as i32
    }
    pub unsafe fn aggregate_emit<T: Aggregate + Default>(s: &Slot<T>, p: i32, n: i32) -> i32 {
        let acc = Wasm.take_bytes(p as u32, n as u32);
        let ret = ret_area();
        abi::store_result_batch(&mut Wasm, ret, s.get().emit(&acc));
        ret as i32
    }

    // ---- source -------------------------------------------------------------

    describe_configure!(Source, source_describe, source_configure);
    pub unsafe fn source_connect<T: Source + Default>(s: &Slot<T>) -> i32 {
        unit(s.open("source").and_then(|p| p.connect()))
    }
    pub unsafe fn source_read<T: Source + Default>(s: &Slot<T>, max: i32) -> i32 {
        let ret = ret_area();
        abi::store_result_read(&mut Wasm, ret, s.open("source").and_then(|p| p.read(max as u32)));
        ret as i32
    }
    pub unsafe fn source_checkpoint<T: Source + Default>(s: &Slot<T>) -> i32 {
        let ret = ret_area();
        abi::store_result_bytes(&mut Wasm, ret, s.open("source").and_then(|p| p.checkpoint()));
        ret as i32
    }
    pub unsafe fn source_restore<T: Source + Default>(s: &Slot<T>, p: i32, n: i32) -> i32 {
        let position = Wasm.take_bytes(p as u32, n as u32);
        unit(s.open("source").and_then(|plugin| plugin.restore(&position)))
    }
    pub unsafe fn source_close<T: Source + Default>(s: &Slot<T>) -> i32 {
        unit(s.close(|p| p.close()))
    }

    // ---- sink ---------------------------------------------------------------

    describe_configure!(Sink, sink_describe, sink_configure);
    pub unsafe fn sink_connect<T: Sink + Default>(s: &Slot<T>) -> i32 {
        unit(s.open("sink").and_then(|p| p.connect()))
    }
    pub unsafe fn sink_write<T: Sink + Default>(s: &Slot<T>, f: FlatRecord) -> i32 {
        let record = abi::lift_record_flat(&mut Wasm, f);
        unit(s.open("sink").and_then(|p| p.write(record.view())))
    }
    pub unsafe fn sink_write_batch<T: Sink + Default>(s: &Slot<T>, params: i32) -> i32 {
        let (batch, checked) = take_batch(params, abi::BATCH_PARAMS_SIZE, 0);
        let errors = match checked.and_then(|()| s.open("sink")) {
            Ok(plugin) => plugin.write_batch(&batch),
            Err(e) => fail_all(batch.len(), &e),
        };
        drop(batch);
        let ret = ret_area();
        abi::store_record_errors(&mut Wasm, ret, errors);
        ret as i32
    }
    pub unsafe fn sink_flush<T: Sink + Default>(s: &Slot<T>) -> i32 {
        unit(s.open("sink").and_then(|p| p.flush()))
    }
    pub unsafe fn sink_close<T: Sink + Default>(s: &Slot<T>) -> i32 {
        unit(s.close(|p| p.close()))
    }
}
