//! One `export_<kind>!` macro per plugin kind. Each lists only its world's
//! exports (name, flat parameters, `rt` function); the shared parts live in
//! the hidden helpers below. Keep the names and flat signatures in step with
//! `wit/*.wit`.
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

/// Shared by every kind: the plugin's `Slot`, `cabi_realloc`, `describe` and
/// `configure` (named `rt::<kind>_describe`, `rt::<kind>_configure`), then the
/// kind's own exports. Each export is `"wit-name" (i32 params) => rt_fn`, with
/// `+ record` when the flattened `record` parameter follows those params.
#[doc(hidden)]
#[macro_export]
macro_rules! __dataflare_world {
    ($t:ty, $describe:ident, $configure:ident;
     $($name:literal ($($arg:ident),*) $(+ $record:ident)? => $f:ident;)*) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static SLOT: $crate::rt::Slot<$t> = $crate::rt::Slot::new();
            $crate::__dataflare_realloc!();
            $crate::__dataflare_export!($t, SLOT, "describe" () => $describe);
            $crate::__dataflare_export!($t, SLOT, "configure" (p, n) => $configure);
            $($crate::__dataflare_export!($t, SLOT, $name ($($arg),*) $(+ $record)? => $f);)*
        };
    };
}

/// One export (`cm32p2||<name>`) calling `rt::$f::<$t>(&slot, args..)`, and
/// its post-return function (`cm32p2||<name>_post`). The anonymous `const`
/// scope lets every export reuse the same two function names.
#[doc(hidden)]
#[macro_export]
macro_rules! __dataflare_export {
    ($t:ty, $slot:ident, $name:literal ($($arg:ident),*) => $f:ident) => {
        const _: () = {
            #[export_name = concat!("cm32p2||", $name)]
            unsafe extern "C" fn export($($arg: i32),*) -> i32 {
                $crate::rt::$f::<$t>(&$slot, $($arg),*)
            }
            $crate::__dataflare_post!($name);
        };
    };
    // A `record` parameter arrives as nine flat core values.
    ($t:ty, $slot:ident, $name:literal ($($arg:ident),*) + record => $f:ident) => {
        const _: () = {
            #[export_name = concat!("cm32p2||", $name)]
            unsafe extern "C" fn export($($arg: i32,)* a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i64, a7: i32, a8: i32) -> i32 {
                $crate::rt::$f::<$t>(&$slot, $($arg,)* $crate::rt::flat(a0, a1, a2, a3, a4, a5, a6, a7, a8))
            }
            $crate::__dataflare_post!($name);
        };
    };
}

/// The post-return function of export `$name`: frees what it handed out.
#[doc(hidden)]
#[macro_export]
macro_rules! __dataflare_post {
    ($name:literal) => {
        #[export_name = concat!("cm32p2||", $name, "_post")]
        unsafe extern "C" fn post(_ret: i32) {
            $crate::rt::post_return()
        }
    };
}

/// Export a [`Filter`](crate::Filter) implementation (which must also be `Default`) as the `filter` world.
#[macro_export]
macro_rules! export_filter {
    ($t:ty) => {
        $crate::__dataflare_world!($t, filter_describe, filter_configure;
            "filter" () + record => filter_one;
            "filter-batch" (p) => filter_batch;
        );
    };
}

/// Export a [`Transform`](crate::Transform) implementation (which must also be `Default`) as the `transform` world.
#[macro_export]
macro_rules! export_transform {
    ($t:ty) => {
        $crate::__dataflare_world!($t, transform_describe, transform_configure;
            "transform" () + record => transform_one;
            "transform-batch" (p) => transform_batch;
        );
    };
}

/// Export a [`Aggregate`](crate::Aggregate) implementation (which must also be `Default`) as the `aggregate` world.
#[macro_export]
macro_rules! export_aggregate {
    ($t:ty) => {
        $crate::__dataflare_world!($t, aggregate_describe, aggregate_configure;
            "init" () => aggregate_init;
            "aggregate" (ap, an) + record => aggregate_one;
            "aggregate-batch" (p) => aggregate_batch;
            "merge" (ap, an, bp, bn) => aggregate_merge;
            "emit" (p, n) => aggregate_emit;
        );
    };
}

/// Export a [`Source`](crate::Source) implementation (which must also be `Default`) as the `source` world.
#[macro_export]
macro_rules! export_source {
    ($t:ty) => {
        $crate::__dataflare_world!($t, source_describe, source_configure;
            "connect" () => source_connect;
            "read" (max) => source_read;
            "checkpoint" () => source_checkpoint;
            "restore" (p, n) => source_restore;
            "close" () => source_close;
        );
    };
}

/// Export a [`Sink`](crate::Sink) implementation (which must also be `Default`) as the `sink` world.
#[macro_export]
macro_rules! export_sink {
    ($t:ty) => {
        $crate::__dataflare_world!($t, sink_describe, sink_configure;
            "connect" () => sink_connect;
            "write" () + record => sink_write;
            "write-batch" (p) => sink_write_batch;
            "flush" () => sink_flush;
            "close" () => sink_close;
        );
    };
}
