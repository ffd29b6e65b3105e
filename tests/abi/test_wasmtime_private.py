"""The contract with wasmtime-py's private internals: every name DataFlare relies on.

`dataflare.abi._wasmtime_private` is the only module that uses them. When a
wasmtime-py upgrade removes or changes one, a test here fails by its name.
"""

from __future__ import annotations

import ast
import ctypes
from pathlib import Path

import pytest
import wasmtime
from dataflare.abi import _wasmtime_private as wp
from dataflare.abi import c_ext
from wasmtime import _ffi
from wasmtime import component as wc
from wasmtime.component import _enter

from abi.conftest import require_native
from abi.wat import Trapper

HOST = Path(__file__).resolve().parents[2] / "host" / "dataflare"


def test_the_private_ffi_names_exist() -> None:
    for name in (
        "dll",
        "wasmtime_component_val_t",
        "wasmtime_component_valrecord_entry_t",
        "wasmtime_error_t",
        "wasmtime_trap_code_t",
    ):
        assert hasattr(_ffi, name), f"wasmtime._ffi.{name} is gone"
    assert _ffi.WASMTIME_COMPONENT_RESOURCE.value == wp.K_RESOURCE
    for symbol in (
        "wasmtime_component_func_call",
        "wasmtime_component_val_delete",
        "wasmtime_component_val_clone",
        "wasmtime_component_linker_instance_add_func",
        "wasmtime_component_resource_any_clone",
        "wasmtime_component_resource_any_delete",
        "wasmtime_component_resource_any_to_host",
        "wasmtime_component_resource_host_to_any",
        "wasmtime_component_resource_host_rep",
        "wasmtime_component_resource_host_type",
        "wasmtime_component_resource_host_delete",
    ):
        assert _ffi.dll[symbol] is not None
    assert callable(_enter.maybe_raise_last_exn)
    assert hasattr(_enter, "LAST_EXCEPTION")
    assert callable(wasmtime.WasmtimeError._from_ptr)
    assert callable(wasmtime.WasmtimeError("x").ptr)
    assert callable(wasmtime.WasmtimeError("x")._consume)
    assert callable(wc.ResourceAny._from_ptr)
    assert callable(wc.LinkerInstance._assert_not_locked)


def test_func_and_store_internals_give_addresses() -> None:
    trapper = Trapper()
    store, inst = trapper.instance(lambda: RuntimeError())
    func = inst.get_func(store, "boom")
    assert isinstance(func._func, ctypes.Structure)  # Func._func
    assert wp.func_address(func) == ctypes.addressof(func._func)
    assert wp.context_address(store) == ctypes.addressof(store._context().contents)
    store.close()
    with pytest.raises(ValueError):
        wp.context_address(store)


def test_the_value_layout_matches_wasmtime_py_structs() -> None:
    wp.check_layout(wp.LAYOUT)
    assert (wp.VAL, wp.ENTRY) == (32, 48)


def test_a_wrong_layout_fails_loudly_at_import() -> None:
    with pytest.raises(
        ImportError, match=r"changed the component value layout \(VAL is 32, not 40\)"
    ):
        wp.check_layout({"VAL": 40})


def test_the_c_extension_was_compiled_with_the_same_layout() -> None:
    require_native()
    from dataflare.abi import _fastc

    assert _fastc.LAYOUT == wp.LAYOUT
    assert c_ext.AVAILABLE


@pytest.mark.parametrize(
    ("export", "epoch", "code"),
    [
        ("spin", False, wasmtime.TrapCode.OUT_OF_FUEL),
        ("spin", True, wasmtime.TrapCode.INTERRUPT),
        ("boom", False, wasmtime.TrapCode.UNREACHABLE),
    ],
)
def test_trap_codes_are_read_from_a_wasmtime_error(
    export: str, epoch: bool, code: wasmtime.TrapCode
) -> None:
    """A `wasmtime_error_t` read as a `wasm_trap_t`: valid while both wrap one anyhow::Error."""
    store, inst = Trapper().instance(
        lambda: RuntimeError(), fuel=10**12 if epoch else 10**6, epoch=epoch
    )
    with pytest.raises(wasmtime.WasmtimeError) as info:
        inst.get_func(store, export)(store)
    assert wp.error_trap_code(info.value) is code


def test_an_error_without_a_trap_has_no_code() -> None:
    assert wp.error_trap_code(wasmtime.WasmtimeError("all fuel consumed")) is None


def test_no_other_module_touches_wasmtime_privates() -> None:
    """No `wasmtime._x` import and no `._func`/`._context`/`._from_ptr` outside the one module."""
    private_attrs = {"_func", "_context", "_from_ptr", "_ffi", "_enter", "_types"}
    offenders = []
    for path in sorted(HOST.rglob("*.py")):
        if path.name == "_wasmtime_private.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wasmtime"):
                names = [node.module or "", *(a.name for a in node.names)]
                if any(part.startswith("_") for n in names for part in n.split(".")):
                    offenders.append(f"{path.name}:{node.lineno}")
            on_self = isinstance(node, ast.Attribute) and (
                isinstance(node.value, ast.Name) and node.value.id == "self"
            )
            if isinstance(node, ast.Attribute) and node.attr in private_attrs and not on_self:
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert offenders == []
