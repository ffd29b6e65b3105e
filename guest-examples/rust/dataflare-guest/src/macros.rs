//! One `export_<kind>!` macro per plugin kind. The five follow one pattern;
//! keep their export names and flat signatures in step with `wit/*.wit`.
//!
//! Each macro emits, for the wasm32 target only, the core exports that
//! `wasm-tools component new` matches against the world's top-level exports:
//! one function per WIT export (flattened canonical-ABI signature), one
//! post-return function per export, and `cabi_realloc`. Export names use the
//! Component Model's standard mangling (`cm32p2||<name>`, `cm32p2||<name>_post`)
//! rather than bare names, because bare `close`, `read` or `write` would
//! collide with libc's symbols on wasm32-wasi.

/// Shared by every kind: `cabi_realloc`, and on wasm32-wasi `_initialize`.
///
/// Exporting `_initialize` (which the component runs once at instantiation)
/// makes the linker treat the module as a reactor: without it, wasm-ld wraps
/// every export in a call to the C constructors, re-reading the environment
/// and the preopened directories on every call.
#[doc(hidden)]
#[macro_export]
macro_rules! __dataflare_realloc {
    () => {
        #[cfg(target_os = "wasi")]
        #[export_name = "_initialize"]
        unsafe extern "C" fn __df_initialize() {
            extern "C" {
                fn __wasm_call_ctors();
            }
            __wasm_call_ctors()
        }
        #[no_mangle]
        unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
            $crate::rt::realloc(old, old_size, align, new_size)
        }
    };
}

/// Export a [`Filter`](crate::Filter) implementation (which must also be `Default`) as the `filter` world.
#[macro_export]
macro_rules! export_filter {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();

            #[export_name = "cm32p2||describe"]
            unsafe extern "C" fn __df_describe() -> i32 {
                $crate::rt::filter_describe::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||describe_post"]
            unsafe extern "C" fn __df_post_describe(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||configure"]
            unsafe extern "C" fn __df_configure(p: i32, n: i32) -> i32 {
                $crate::rt::filter_configure::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||configure_post"]
            unsafe extern "C" fn __df_post_configure(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||filter"]
            unsafe extern "C" fn __df_filter(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i64, a7: i32, a8: i32) -> i32 {
                $crate::rt::filter_one::<$t>(&SLOT, $crate::rt::flat(a0, a1, a2, a3, a4, a5, a6, a7, a8))
            }
            #[export_name = "cm32p2||filter_post"]
            unsafe extern "C" fn __df_post_filter(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||filter-batch"]
            unsafe extern "C" fn __df_filter_batch(p: i32, n: i32) -> i32 {
                $crate::rt::filter_batch::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||filter-batch_post"]
            unsafe extern "C" fn __df_post_filter_batch(_ret: i32) {
                $crate::rt::post_return()
            }

        };
    };
}

/// Export a [`Transform`](crate::Transform) implementation (which must also be `Default`) as the `transform` world.
#[macro_export]
macro_rules! export_transform {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();

            #[export_name = "cm32p2||describe"]
            unsafe extern "C" fn __df_describe() -> i32 {
                $crate::rt::transform_describe::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||describe_post"]
            unsafe extern "C" fn __df_post_describe(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||configure"]
            unsafe extern "C" fn __df_configure(p: i32, n: i32) -> i32 {
                $crate::rt::transform_configure::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||configure_post"]
            unsafe extern "C" fn __df_post_configure(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||transform"]
            unsafe extern "C" fn __df_transform(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i64, a7: i32, a8: i32) -> i32 {
                $crate::rt::transform_one::<$t>(&SLOT, $crate::rt::flat(a0, a1, a2, a3, a4, a5, a6, a7, a8))
            }
            #[export_name = "cm32p2||transform_post"]
            unsafe extern "C" fn __df_post_transform(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||transform-batch"]
            unsafe extern "C" fn __df_transform_batch(p: i32, n: i32) -> i32 {
                $crate::rt::transform_batch::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||transform-batch_post"]
            unsafe extern "C" fn __df_post_transform_batch(_ret: i32) {
                $crate::rt::post_return()
            }

        };
    };
}

/// Export a [`Aggregate`](crate::Aggregate) implementation (which must also be `Default`) as the `aggregate` world.
#[macro_export]
macro_rules! export_aggregate {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();

            #[export_name = "cm32p2||describe"]
            unsafe extern "C" fn __df_describe() -> i32 {
                $crate::rt::aggregate_describe::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||describe_post"]
            unsafe extern "C" fn __df_post_describe(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||configure"]
            unsafe extern "C" fn __df_configure(p: i32, n: i32) -> i32 {
                $crate::rt::aggregate_configure::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||configure_post"]
            unsafe extern "C" fn __df_post_configure(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||init"]
            unsafe extern "C" fn __df_init() -> i32 {
                $crate::rt::aggregate_init::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||init_post"]
            unsafe extern "C" fn __df_post_init(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||aggregate"]
            unsafe extern "C" fn __df_aggregate(ap: i32, an: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i64, a7: i32, a8: i32) -> i32 {
                $crate::rt::aggregate_one::<$t>(&SLOT, ap, an, $crate::rt::flat(a0, a1, a2, a3, a4, a5, a6, a7, a8))
            }
            #[export_name = "cm32p2||aggregate_post"]
            unsafe extern "C" fn __df_post_aggregate(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||aggregate-batch"]
            unsafe extern "C" fn __df_aggregate_batch(ap: i32, an: i32, p: i32, n: i32) -> i32 {
                $crate::rt::aggregate_batch::<$t>(&SLOT, ap, an, p, n)
            }
            #[export_name = "cm32p2||aggregate-batch_post"]
            unsafe extern "C" fn __df_post_aggregate_batch(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||emit"]
            unsafe extern "C" fn __df_emit(p: i32, n: i32) -> i32 {
                $crate::rt::aggregate_emit::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||emit_post"]
            unsafe extern "C" fn __df_post_emit(_ret: i32) {
                $crate::rt::post_return()
            }

        };
    };
}

/// Export a [`Source`](crate::Source) implementation (which must also be `Default`) as the `source` world.
#[macro_export]
macro_rules! export_source {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();

            #[export_name = "cm32p2||describe"]
            unsafe extern "C" fn __df_describe() -> i32 {
                $crate::rt::source_describe::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||describe_post"]
            unsafe extern "C" fn __df_post_describe(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||configure"]
            unsafe extern "C" fn __df_configure(p: i32, n: i32) -> i32 {
                $crate::rt::source_configure::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||configure_post"]
            unsafe extern "C" fn __df_post_configure(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||connect"]
            unsafe extern "C" fn __df_connect() -> i32 {
                $crate::rt::source_connect::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||connect_post"]
            unsafe extern "C" fn __df_post_connect(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||read"]
            unsafe extern "C" fn __df_read(max: i32) -> i32 {
                $crate::rt::source_read::<$t>(&SLOT, max)
            }
            #[export_name = "cm32p2||read_post"]
            unsafe extern "C" fn __df_post_read(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||checkpoint"]
            unsafe extern "C" fn __df_checkpoint() -> i32 {
                $crate::rt::source_checkpoint::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||checkpoint_post"]
            unsafe extern "C" fn __df_post_checkpoint(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||restore"]
            unsafe extern "C" fn __df_restore(p: i32, n: i32) -> i32 {
                $crate::rt::source_restore::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||restore_post"]
            unsafe extern "C" fn __df_post_restore(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||close"]
            unsafe extern "C" fn __df_close() -> i32 {
                $crate::rt::source_close::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||close_post"]
            unsafe extern "C" fn __df_post_close(_ret: i32) {
                $crate::rt::post_return()
            }

        };
    };
}

/// Export a [`Sink`](crate::Sink) implementation (which must also be `Default`) as the `sink` world.
#[macro_export]
macro_rules! export_sink {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();

            #[export_name = "cm32p2||describe"]
            unsafe extern "C" fn __df_describe() -> i32 {
                $crate::rt::sink_describe::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||describe_post"]
            unsafe extern "C" fn __df_post_describe(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||configure"]
            unsafe extern "C" fn __df_configure(p: i32, n: i32) -> i32 {
                $crate::rt::sink_configure::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||configure_post"]
            unsafe extern "C" fn __df_post_configure(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||connect"]
            unsafe extern "C" fn __df_connect() -> i32 {
                $crate::rt::sink_connect::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||connect_post"]
            unsafe extern "C" fn __df_post_connect(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||write"]
            unsafe extern "C" fn __df_write(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i64, a7: i32, a8: i32) -> i32 {
                $crate::rt::sink_write::<$t>(&SLOT, $crate::rt::flat(a0, a1, a2, a3, a4, a5, a6, a7, a8))
            }
            #[export_name = "cm32p2||write_post"]
            unsafe extern "C" fn __df_post_write(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||write-batch"]
            unsafe extern "C" fn __df_write_batch(p: i32, n: i32) -> i32 {
                $crate::rt::sink_write_batch::<$t>(&SLOT, p, n)
            }
            #[export_name = "cm32p2||write-batch_post"]
            unsafe extern "C" fn __df_post_write_batch(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||flush"]
            unsafe extern "C" fn __df_flush() -> i32 {
                $crate::rt::sink_flush::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||flush_post"]
            unsafe extern "C" fn __df_post_flush(_ret: i32) {
                $crate::rt::post_return()
            }

            #[export_name = "cm32p2||close"]
            unsafe extern "C" fn __df_close() -> i32 {
                $crate::rt::sink_close::<$t>(&SLOT)
            }
            #[export_name = "cm32p2||close_post"]
            unsafe extern "C" fn __df_post_close(_ret: i32) {
                $crate::rt::post_return()
            }

        };
    };
}
