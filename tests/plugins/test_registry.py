"""The registry: decorator, lookups, entry points, validation at registration."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from dataflare import InvalidPluginError
from dataflare.errors import PluginError, PluginNotFoundError
from dataflare.model import PluginInfo, PluginKind, Record
from dataflare.plugins import registry
from dataflare.plugins.base import FilterBase, TransformBase
from dataflare.plugins.registry import ENTRY_POINT_GROUP, Registry

from plugins import sample_plugins

SAMPLES = "plugins.sample_plugins"


def no_entry_points() -> list[EntryPoint]:
    return []


def points(*pairs: tuple[str, str]) -> Registry:
    eps = [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in pairs]
    return Registry(lambda: eps)


class Shout(TransformBase):
    def transform(self, record: Record) -> Record:
        return Record(record.value.upper())


def test_decorator_registers_and_returns_the_class() -> None:
    reg = Registry(no_entry_points)

    @reg.register("filter", "keep")
    class Keep(FilterBase):
        def filter(self, record: Record) -> bool:
            return True

    assert reg.get("filter", "keep") is Keep
    assert reg.get(PluginKind.FILTER, "keep") is Keep
    assert reg.available("filter") == ["keep"]
    assert reg.available("transform") == []
    assert Keep().describe().name == "keep"


def test_explicit_name_attribute_is_kept() -> None:
    reg = Registry(no_entry_points)

    class Named(FilterBase):
        name = "my-own-name"

        def filter(self, record: Record) -> bool:
            return True

    reg.register("filter", "alias")(Named)
    assert Named().describe().name == "my-own-name"


def test_available_is_sorted() -> None:
    reg = Registry(no_entry_points)
    for name in ("zeta", "alpha", "mid"):
        reg.add("transform", name, Shout)
    assert reg.available("transform") == ["alpha", "mid", "zeta"]


def test_unknown_name_lists_available_names_of_that_kind() -> None:
    reg = Registry(no_entry_points)
    reg.add("transform", "shout", Shout)
    reg.add("transform", "also", Shout)
    with pytest.raises(PluginNotFoundError) as info:
        reg.get("transform", "whisper")
    assert str(info.value) == "no transform plugin named 'whisper'; available: also, shout"
    with pytest.raises(
        PluginNotFoundError, match="no filter plugin named 'shout'; available: none"
    ):
        reg.get("filter", "shout")


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(
        PluginNotFoundError, match="unknown plugin kind 'filtre'; kinds are: source"
    ):
        Registry(no_entry_points).get("filtre", "x")
    with pytest.raises(InvalidPluginError, match="cannot register 'x'"):
        Registry(no_entry_points).register("filtre", "x")


def test_same_class_twice_is_fine_another_class_is_not() -> None:
    reg = Registry(no_entry_points)
    reg.add("transform", "shout", Shout)
    reg.add("transform", "shout", Shout)

    class Other(TransformBase):
        def transform(self, record: Record) -> Record:
            return record

    with pytest.raises(InvalidPluginError, match=r"already registered by .*Shout"):
        reg.add("transform", "shout", Other)


class MissingBatch:
    def describe(self) -> PluginInfo: ...
    def configure(self, config: Mapping[str, str]) -> None: ...
    def close(self) -> None: ...
    def filter(self, record: Record) -> bool: ...


class WrongArity:
    def describe(self) -> PluginInfo: ...
    def configure(self) -> None: ...
    def close(self) -> None: ...
    def filter(self, record: Record) -> bool: ...
    def filter_batch(self, records: Sequence[Record]) -> list[bool | PluginError]: ...


class Hand:
    """A plugin written without the base classes, with flexible signatures."""

    def describe(self) -> PluginInfo: ...
    def configure(self, config: Mapping[str, str], *extra: object) -> None: ...
    def close(self) -> None: ...
    def filter(self, record: Record, strict: bool = False) -> bool: ...
    @staticmethod
    def filter_batch(records: Sequence[Record]) -> list[bool | PluginError]: ...


class NotImplementedYet(FilterBase):
    pass


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (MissingBatch, r"missing method filter_batch\(self, records.*required by FilterPlugin"),
        (
            WrongArity,
            r"configure\(self\) -> 'None' does not match FilterPlugin.configure\(self, config",
        ),
        (NotImplementedYet, r"abstract method\(s\) not implemented: filter"),
        (Shout, r"the class says it is a transform plugin"),
        (sample_plugins.NOT_A_CLASS, r"expected a class, got 42"),
    ],
)
def test_invalid_class_is_rejected_when_registered(cls: type, message: str) -> None:
    reg = Registry(no_entry_points)
    with pytest.raises(InvalidPluginError, match=message) as info:
        reg.register("filter", "bad")(cls)
    assert "filter plugin 'bad'" in str(info.value)
    assert reg.available("filter") == []


def test_hand_written_class_with_compatible_signatures_is_accepted() -> None:
    reg = Registry(no_entry_points)
    reg.add("filter", "hand", Hand)
    assert reg.get("filter", "hand") is Hand


def test_kind_dot_name_entry_point_is_listed_before_it_is_loaded() -> None:
    reg = points(("filter.keep_all", f"{SAMPLES}:KeepAll"), ("filter.broken", "nowhere.at_all:X"))
    assert reg.available("filter") == ["broken", "keep_all"]
    assert reg.get("filter", "keep_all") is sample_plugins.KeepAll


def test_bare_entry_point_reads_kind_from_the_class() -> None:
    reg = points(("identity", f"{SAMPLES}:Identity"))
    assert reg.available("filter") == []
    assert reg.available("transform") == ["identity"]
    assert reg.get("transform", "identity") is sample_plugins.Identity
    with pytest.raises(PluginNotFoundError):
        reg.get("filter", "identity")


def test_broken_entry_point_error_names_it() -> None:
    reg = points(("filter.broken", "nowhere.at_all:X"))
    with pytest.raises(InvalidPluginError) as info:
        reg.get("filter", "broken")
    text = str(info.value)
    assert "entry point 'filter.broken' (nowhere.at_all:X)" in text
    assert "dataflare.plugins" in text
    assert "ModuleNotFoundError" in text
    # Still broken (and still named) on a second attempt, not "not found".
    with pytest.raises(InvalidPluginError, match=r"filter\.broken"):
        reg.get("filter", "broken")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{SAMPLES}:NotAPlugin", r"missing method"),
        (f"{SAMPLES}:NOT_A_CLASS", r"is not a class: 42"),
        (f"{SAMPLES}:Missing", r"failed to load: AttributeError"),
    ],
)
def test_entry_point_to_a_bad_object_is_rejected_on_load(value: str, message: str) -> None:
    reg = points(("filter.bad", value))
    with pytest.raises(InvalidPluginError, match=message):
        reg.get("filter", "bad")


def test_bare_entry_point_without_kind_says_how_to_name_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg = points(("nokind", f"{SAMPLES}:NotAPlugin"))
    with pytest.raises(InvalidPluginError, match=r"name the entry point '<kind>.nokind'"):
        reg.get("filter", "nokind")
    assert reg.available("filter") == []
    assert "nokind" in caplog.text


def test_decorated_plugin_wins_over_an_entry_point_of_the_same_name() -> None:
    reg = points(("transform.shout", f"{SAMPLES}:Identity"))
    reg.add("transform", "shout", Shout)
    assert reg.get("transform", "shout") is Shout


def test_entry_point_of_an_unknown_kind_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg = points(("filtre.x", f"{SAMPLES}:KeepAll"))
    assert reg.available("filter") == []
    assert "'filtre' is not a plugin kind" in caplog.text


def test_entry_points_of_an_installed_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real (fake) distribution on sys.path, found through importlib.metadata."""
    (tmp_path / "fakeplug.py").write_text(
        "from dataflare.plugins.base import FilterBase\n"
        "class DropAll(FilterBase):\n"
        "    def filter(self, record):\n"
        "        return False\n"
    )
    dist = tmp_path / "fakeplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nfilter.drop_all = fakeplug:DropAll\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry()
    assert "drop_all" in reg.available("filter")
    plugin = reg.get("filter", "drop_all")()
    assert plugin.filter(Record(b"")) is False


def test_default_registry_has_the_builtins() -> None:
    assert {"json_filter"} <= set(registry.available("filter"))
    assert {"mask_email"} <= set(registry.available("transform"))
    assert {"count_sum"} <= set(registry.available("aggregate"))
    assert registry.get("filter", "json_filter").__name__ == "JsonFilter"


def test_builtins_are_listed_without_importing_their_modules() -> None:
    reg = Registry(no_entry_points, builtins=("plugins.sample_builtins",))
    assert reg.available("filter") == ["broken", "lazy_keep"]
    assert "plugins.sample_lazy_plugin" not in sys.modules
    cls = reg.get("filter", "lazy_keep")
    assert cls.__name__ == "LazyKeep"
    assert "plugins.sample_lazy_plugin" in sys.modules


def test_a_missing_builtins_table_is_an_error_not_skipped() -> None:
    reg = Registry(no_entry_points, builtins=("plugins.no_such_module",))
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        reg.available("filter")


def test_a_builtin_module_that_fails_inside_is_not_hidden() -> None:
    reg = Registry(no_entry_points, builtins=("plugins.sample_builtins",))
    with pytest.raises(InvalidPluginError, match="not_installed_dependency"):
        reg.get("filter", "broken")


def test_builtins_win_over_entry_points_of_the_same_name() -> None:
    eps = [EntryPoint("filter.lazy_keep", f"{SAMPLES}:KeepAll", ENTRY_POINT_GROUP)]
    reg = Registry(lambda: eps, builtins=("plugins.sample_builtins",))
    assert reg.get("filter", "lazy_keep").__name__ == "LazyKeep"


@pytest.mark.parametrize("package", ["dataflare.builtin", "dataflare.connectors"])
def test_each_builtins_table_entry_is_the_class_its_module_registers(package: str) -> None:
    import importlib

    for key, target in importlib.import_module(package).PLUGINS.items():
        kind, _, name = key.partition(".")
        module, _, attr = target.partition(":")
        assert registry.get(kind, name) is getattr(importlib.import_module(module), attr)
