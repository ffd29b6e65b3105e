"""The error tree drawn in `dataflare.errors`' docstring is the real class tree."""

from __future__ import annotations

import inspect
import re

import dataflare.errors
from dataflare.errors import DataFlareError

# A node: tree-drawing characters, then a class name (comment lines start lower case).
_NODE = re.compile(r"^(?P<prefix>[ │]*(?:[├└]── )?)(?P<name>[A-Z]\w+)")


def _drawn_tree() -> dict[str, str | None]:
    """Class name -> the name of its parent in the drawing (None for the root)."""
    doc = dataflare.errors.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n")[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = _NODE.match(line.removeprefix("    "))
        if match is None:
            continue
        depth = len(match["prefix"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def test_the_drawing_names_every_error_class_with_its_real_parent() -> None:
    drawn = _drawn_tree()
    real = {
        name: value
        for name, value in vars(dataflare.errors).items()
        if inspect.isclass(value) and issubclass(value, DataFlareError)
    }
    assert set(drawn) == set(real)
    for name, parent in drawn.items():
        if parent is None:
            assert real[name] is DataFlareError
        else:
            assert real[name].__bases__[0] is real[parent], name


def test_a_record_too_large_is_a_per_record_plugin_error_not_a_trap() -> None:
    err = dataflare.errors.RecordTooLarge("too big", limit="call_bytes", value=10)
    assert isinstance(err, dataflare.errors.PluginError)
    assert not isinstance(err, dataflare.errors.GuestTrap)
    assert (err.kind, err.limit, err.value) == ("limit", "call_bytes", 10)
