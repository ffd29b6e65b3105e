"""WIT -> typed Python host bindings.

The generator is a staged pipeline: `parse` runs `wasm-tools component wit
--json` and builds the IR (`ir`); `plan` picks modules and names (rules in
`naming`); `render` (with `scope`, `builder`, `render_funcs` and the Jinja
templates) writes the source; `generate` formats it with ruff and writes
files. Generated code imports only `rt` (and `wasmtime`).
"""

from dataflare.bindgen.generate import check, generate

__all__ = ["check", "generate"]
