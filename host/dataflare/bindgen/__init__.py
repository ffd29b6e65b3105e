"""WIT -> typed Python host bindings (`dataflare bindgen`).

The generator is a staged pipeline: `parse` runs `wasm-tools component wit
--json` and builds the IR (`ir`); `plan` picks modules and names every
Python symbol (rules in `naming`); `render` (with `scope`, `builder`,
`render_funcs` and the Jinja templates in `templates/`) writes the source;
`generate` formats it with ruff and writes or checks files.

The code it writes runs on `dataflare.abi` (imported as `dataflare.abi.rt`),
never on this package: importing bindings or running a pipeline does not
import the generator or Jinja.
"""

from dataflare.bindgen.generate import check, generate

__all__ = ["check", "generate"]
