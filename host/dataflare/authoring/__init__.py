"""Plugin projects outside any DataFlare checkout: `dataflare new` and `dataflare build`.

A project is a folder with a ``dataflare.toml`` manifest (`project`), made
from the templates shipped in the package (`scaffold`), and built into
``build/NAME.wasm`` by its language's toolchain (`languages`).
"""
