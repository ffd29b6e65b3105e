"""The runtime with the generated world classes and `add_imports_to_linker`."""

from __future__ import annotations

import logging
import types

import dataflare.runtime
import pytest
from dataflare._wit_v0_1.filter import Filter
from dataflare._wit_v0_1.types import Record
from dataflare.abi import rt
from dataflare.errors import GuestTrap
from dataflare.runtime import PluginInstance, open_instance


def rec(value: bytes) -> Record:
    return Record(key=None, value=value, timestamp=None, metadata=[])


def test_open_instance_uses_the_generated_class(probe_loaded):
    with open_instance(probe_loaded, name="probe") as instance:
        assert instance.call(lambda world: isinstance(world, Filter))
        assert instance.call(lambda world: world.filter(rec(b"keep"))) == rt.Ok(True)
        assert instance.call(lambda world: world.filter(rec(b"drop"))) == rt.Ok(False)
        with pytest.raises(
            GuestTrap, match=r"^plugin 'probe' trapped: wasm trap: wasm `unreachable`"
        ):
            instance.call(lambda world: world.filter(rec(b"trap")))
        assert instance.call(lambda world: world.describe()).name == "probe"
        assert instance.traps == 1


def test_generated_log_import_reaches_logging(probe_loaded, caplog):
    caplog.set_level(logging.DEBUG, logger="dataflare.plugin.gen")
    with PluginInstance(probe_loaded, Filter, name="gen", stage="s2") as instance:
        assert instance.call(lambda world: world.filter(rec(b"log"))) == rt.Ok(True)
    got = [(r.levelno, r.getMessage(), r.stage) for r in caplog.records]
    assert (logging.WARNING, "probe warn", "s2") in got


def test_public_names_are_sorted_and_complete():
    names = dataflare.runtime.__all__
    assert names == sorted(names)
    public = {
        name
        for name, value in vars(dataflare.runtime).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(names)
