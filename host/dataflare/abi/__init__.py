"""Typed values across the component boundary, at run time: what generated bindings call.

The counterpart of `dataflare.bindgen`, which writes bindings; this package
runs them, and never imports the generator. Generated code imports only
`rt`, which re-exports the pieces. Modules, by job:

- `codec`, `codec_variants`: the WIT type of each value generated bindings
  pass, as a `spec` both codec paths compile (no conversion of their own);
- `typedfunc`: `TypedFunc`, an export bound to its codecs, and the call;
- `val_nodes` (with `val_scalars`, `val_containers`, `val_variants`,
  `val_memory`, `val_resources`): the Python codec path, writing and
  reading the C API's value arrays; `c_ext` with `_fastc*.c`: the same in C
  (resource handles go to the Python nodes);
- `functype`: the bind-time check of an export's WIT type;
- `traps`: the one translation of wasmtime errors into `GuestTrap`, and trap codes;
- `guest`: export lookup and guest resources; `host`: host functions (our
  own trampoline, on the same codec paths) and host resources;
- `_wasmtime_private`: every use of wasmtime-py's private internals.
"""
