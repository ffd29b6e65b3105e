"""WIT -> typed Python host bindings (`dataflare bindgen`).

The generator is a staged pipeline: `parse` runs `wasm-tools component wit
--json` and builds the IR (`ir`); `plan` picks modules and names every
Python symbol (rules in `naming`); `render` (with `scope`, `builder`,
`render_funcs` and the Jinja templates in `templates/`) writes the source;
`generate` formats it with ruff and writes or checks files.

Generated code imports only `rt`, which re-exports the runtime pieces:
`codec` and `variants` (typed value <-> wasmtime value converters), `guest`
(the single guest-call site and guest resource wrappers) and `host` (host
function wrappers and host resource tables).
"""

from dataflare.bindgen.generate import check, generate

__all__ = ["check", "generate"]
