"""Reading a YAML file into values that remember where they came from.

The loader composes the node graph with PyYAML's `SafeLoader` (no Python
tags) and converts it to plain Python values wrapped in `Located`, which
keeps the line and column of each node so every config error can point at
the exact spot. Aliases are expanded while converting, under a budget of
nodes: a "billion laughs" file fails with a clear error instead of eating
memory, and recursive aliases are rejected. Nesting is bounded too
(`MAX_DEPTH`): composing and converting recurse once per level, so a small
file of ``[[[[...]]]]`` would otherwise end in a `RecursionError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Located",
    "Mark",
    "YamlLoadError",
    "load_located",
    "parse_located",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A pipeline file is configuration; anything bigger is a mistake or an attack."""

MAX_NODES = 100_000
"""Nodes allowed after alias expansion; real pipelines use a few hundred."""

MAX_DEPTH = 64
"""Nesting levels allowed; a real pipeline needs about 6 (entry, config, params, ...)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a file."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Located:
    """A YAML value (scalar, list of `Located`, or dict of str to `Located`) and its position.

    `key_marks` gives, for a mapping, the position of each key, so an unknown
    key can be reported where it is written.
    """

    value: Any
    mark: Mark
    key_marks: dict[str, Mark] = field(default_factory=dict)


class YamlLoadError(Exception):
    """The text is not YAML we accept; `mark` is where the problem is."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(f"{mark}: {message}")
        self.mark = mark
        self.message = message


def load_located(path: Path, display: str | None = None) -> Located | None:
    """Parse `path`; None for an empty document. Raises `YamlLoadError` or `OSError`."""
    name = display or str(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise YamlLoadError(
            Mark(name, 1, 1),
            f"file is {size} bytes; a pipeline file may be at most {MAX_FILE_BYTES}",
        )
    return parse_located(path.read_text(encoding="utf-8"), name)


def parse_located(text: str, name: str) -> Located | None:
    """Parse YAML `text`, marks naming `name`; None for an empty document."""
    try:
        node = yaml.compose(text, Loader=_DepthLoader)
    except _TooDeep as exc:
        raise YamlLoadError(
            _mark(name, exc.mark),
            f"nested more than {MAX_DEPTH} levels deep; a pipeline file needs far fewer",
        ) from None
    except yaml.MarkedYAMLError as exc:
        where = exc.problem_mark or exc.context_mark
        mark = _mark(name, where) if where is not None else Mark(name, 1, 1)
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlLoadError(mark, f"malformed YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(Mark(name, 1, 1), f"malformed YAML: {exc}") from None
    if node is None:
        return None
    return _Converter(name).convert(node, ())


class _DepthLoader(yaml.SafeLoader):
    """`SafeLoader` that refuses nesting deeper than `MAX_DEPTH` before recursing into it.

    PyYAML's composer recurses once per level; counting here stops a deep
    file at the first level too many, with its position, whatever the style
    (block, flow sequences or flow mappings).
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        nests = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nests:
            if self._depth >= MAX_DEPTH:
                raise _TooDeep(event.start_mark)
            self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__(mark)
        self.mark = mark


_PLAIN_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def _mark(path: str, mark: yaml.Mark) -> Mark:
    return Mark(path, mark.line + 1, mark.column + 1)


class _Converter:
    """Turns a node graph into `Located` values, counting nodes as aliases expand."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._budget = MAX_NODES
        # Constructing scalars goes through SafeConstructor so `1`, `true`,
        # `1.5`, `null` get their YAML 1.1 types exactly as yaml.safe_load would.
        self._constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, parents: tuple[int, ...]) -> Located:
        mark = _mark(self._path, node.start_mark)
        self._budget -= 1
        if self._budget < 0:
            raise YamlLoadError(
                mark,
                f"the document expands to more than {MAX_NODES} values "
                "(an alias bomb? anchors and aliases may not multiply the file like this)",
            )
        if id(node) in parents:
            raise YamlLoadError(mark, "recursive alias: a node contains itself")
        if len(parents) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
            # Each alias may be nested within limits where it is defined, yet chain deeper.
            raise YamlLoadError(
                mark,
                f"nested more than {MAX_DEPTH} levels deep (through aliases); a pipeline "
                "file needs far fewer",
            )
        inner = (*parents, id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self._constructor.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as exc:
                raise YamlLoadError(mark, f"unsupported value: {exc.problem}") from None
            return Located(value, mark)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise YamlLoadError(mark, f"unsupported tag {node.tag!r}: only plain YAML is allowed")
        if isinstance(node, yaml.SequenceNode):
            return Located([self.convert(item, inner) for item in node.value], mark)
        if isinstance(node, yaml.MappingNode):
            values: dict[str, Located] = {}
            key_marks: dict[str, Mark] = {}
            for key_node, value_node in node.value:
                key_mark = _mark(self._path, key_node.start_mark)
                if (
                    not isinstance(key_node, yaml.ScalarNode)
                    or key_node.tag == "tag:yaml.org,2002:merge"
                ):
                    raise YamlLoadError(key_mark, "keys must be plain strings (no merge keys)")
                try:
                    raw_key = self._constructor.construct_object(key_node)
                except yaml.constructor.ConstructorError as exc:
                    raise YamlLoadError(key_mark, f"unsupported key: {exc.problem}") from None
                if isinstance(raw_key, bool):
                    raise YamlLoadError(
                        key_mark,
                        f"key {key_node.value!r} reads as a YAML boolean; quote it: "
                        f'"{key_node.value}"',
                    )
                key = str(raw_key)
                if key in values:
                    raise YamlLoadError(key_mark, f"duplicate key {key!r}")
                values[key] = self.convert(value_node, inner)
                key_marks[key] = key_mark
            return Located(values, mark, key_marks)
        raise YamlLoadError(
            mark, f"unsupported YAML node {type(node).__name__}"
        )  # pragma: no cover
