"""What reaches a caller when a guest call fails, on every call path, and its trap code.

Fuel, epoch and guest traps come back as `GuestTrap` with wasmtime's code
readable by `trap_code`; a host function's own exception comes back as
itself; a host function's `WasmtimeError` has no code, whatever its text.
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime
from dataflare.abi import c_ext
from dataflare.abi.guest import GuestContext
from dataflare.abi.traps import TrapCode, trap_code
from dataflare.abi.typedfunc import TypedFunc
from dataflare.errors import GuestTrap

from abi.wat import Trapper

PATHS = ["c", "python"] if c_ext.AVAILABLE else ["python"]


class HostBug(Exception):
    pass


@pytest.fixture(scope="module")
def trapper() -> Trapper:
    return Trapper()


def call(
    trapper: Trapper, path: str, export: str, *, epoch: bool = False, host: Any = None
) -> None:
    """Call `export` on a fresh instance through `path`."""
    store, inst = trapper.instance(
        host or (lambda: HostBug("host bug")),
        fuel=10**12 if epoch else 10**6,
        epoch=epoch,
        native=path == "c",
    )
    func = inst.get_func(store, export)
    cx = GuestContext(store, inst)
    TypedFunc(cx, func, (), None, native=path == "c")()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("export", "epoch", "code"),
    [
        ("spin", False, TrapCode.OUT_OF_FUEL),
        ("spin", True, TrapCode.INTERRUPT),
        ("boom", False, TrapCode.UNREACHABLE),
    ],
)
def test_traps_carry_wasmtimes_code(
    trapper: Trapper, path: str, export: str, epoch: bool, code: TrapCode
) -> None:
    with pytest.raises(GuestTrap, match=r"^guest trapped: ") as info:
        call(trapper, path, export, epoch=epoch)
    assert trap_code(info.value) is code


@pytest.mark.parametrize("path", PATHS)
def test_a_host_function_exception_arrives_as_itself(trapper: Trapper, path: str) -> None:
    with pytest.raises(HostBug, match="host bug"):
        call(trapper, path, "fail")


@pytest.mark.parametrize("path", PATHS)
def test_a_host_wasmtime_error_has_no_code_whatever_it_says(trapper: Trapper, path: str) -> None:
    def lying() -> Exception:
        return wasmtime.WasmtimeError("wasm trap: all fuel consumed by WebAssembly")

    with pytest.raises(GuestTrap, match="all fuel consumed") as info:
        call(trapper, path, "fail", host=lying)
    assert trap_code(info.value) is None


def test_an_exception_without_a_wasmtime_cause_has_no_code() -> None:
    assert trap_code(GuestTrap("wasm trap: interrupt")) is None
