"""Typed values across the component boundary, at run time: what generated bindings call.

The counterpart of `dataflare.bindgen`, which writes bindings; this package
runs them, and never imports the generator. Generated code imports only
`rt`, which re-exports the pieces: `codec` and `variants` (typed value <->
wasmtime value converters), `fastcodec` (`TypedFunc`: an export bound to its
codecs, lowering and lifting straight to and from the C API's value arrays,
through the optional C extension `_fastc` when it is built), `guest` (guest
resource wrappers and the guest-call error translation) and `host` (host
function wrappers and host resource tables).
"""
