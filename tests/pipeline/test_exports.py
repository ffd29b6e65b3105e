"""The public names of the pipeline, connector and demo packages: complete and sorted."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = ["dataflare.pipeline", "dataflare.connectors", "dataflare.demo"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_is_sorted_and_importable(name):
    module = importlib.import_module(name)

    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def isort_key(n: str) -> tuple[bool, bool, str]:
        return (not n.isupper(), not n[0].isupper(), n)

    assert module.__all__ == sorted(module.__all__, key=isort_key)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_module_declares_all(name):
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"{name}.{info.name}")
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module.__name__} has no __all__"
        assert all(hasattr(module, attr) for attr in exported), module.__name__


def test_connectors_are_registered():
    from dataflare.plugins import registry

    importlib.import_module("dataflare.connectors")
    sources, sinks = set(registry.available("source")), set(registry.available("sink"))
    assert {"jsonl", "csv", "stdin", "sqlite", "postgres", "redis"} <= sources
    assert {"jsonl", "csv", "stdout", "sqlite", "postgres", "redis"} <= sinks
