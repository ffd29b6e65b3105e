"""A tiny WAT component whose exports spin, trap and call a failing host function."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import wasmtime
from dataflare.abi.host import HostContext
from wasmtime import component as wc

WAT = """
(component
  (import "host-fail" (func $hf))
  (core func $hf_lowered (canon lower (func $hf)))
  (core module $m
    (import "host" "fail" (func $fail))
    (func (export "spin") (loop $l (br $l)))
    (func (export "boom") unreachable)
    (func (export "fail") (call $fail))
  )
  (core instance $hi (export "fail" (func $hf_lowered)))
  (core instance $i (instantiate $m (with "host" (instance $hi))))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "boom") (canon lift (core func $i "boom")))
  (func (export "fail") (canon lift (core func $i "fail")))
)
"""


class Trapper:
    """One engine with fuel and epochs, and fresh instances of the WAT component."""

    def __init__(self) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.component = wc.Component(self.engine, WAT)

    def instance(
        self,
        host_fail: Callable[[], Exception],
        *,
        fuel: int = 10**6,
        epoch: bool = False,
        native: bool | None = None,
    ) -> tuple[wasmtime.Store, Any]:
        """A fresh store and instance; with `epoch`, the deadline passes in 0.1 s.

        `host-fail` is served through `HostContext.add_func` on the `native` path.
        """
        linker = wc.Linker(self.engine)

        def fail() -> None:
            raise host_fail()

        with linker.root() as root:
            HostContext(native=native).add_func(root, "host-fail", fail, (), None)
        store = wasmtime.Store(self.engine)
        store.set_fuel(fuel)
        store.set_epoch_deadline(1 if epoch else 1 << 40)
        inst = linker.instantiate(store, self.component)
        if epoch:
            timer = threading.Timer(0.1, self.engine.increment_epoch)
            timer.daemon = True
            timer.start()
        return store, inst
