"""Each module of the plugin layer declares a sorted (as ruff sorts it), complete `__all__`."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "dataflare.plugins.base",
    "dataflare.plugins.registry",
    "dataflare.plugins.resolve",
    "dataflare.plugins.wasm",
    "dataflare.builtin",
    "dataflare.builtin._json",
    "dataflare.builtin.count_sum",
    "dataflare.builtin.json_filter",
    "dataflare.builtin.mask_email",
    "dataflare.cli.inspect_cmd",
    "dataflare.cli.test_cmd",
]


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_resolvable_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_style)
    assert all(hasattr(module, n) for n in exported)
    own_public = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == name
    }
    assert own_public - {"run"} <= set(exported)
