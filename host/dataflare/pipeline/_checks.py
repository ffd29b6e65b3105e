"""Small located checks shared by the validators: types, unknown keys, suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from dataflare.pipeline._schema import Problems
from dataflare.pipeline._yaml import Located

__all__ = ["U32_MAX", "Checker", "scalar_text", "suggest", "type_name"]

U32_MAX = (1 << 32) - 1
"""The largest count a WIT `u32` (such as a source's `read(max)`) can carry."""


class Checker:
    """Holds the problem list and the pipeline file's folder; checks one node at a time."""

    def __init__(self, base: Path, problems: Problems) -> None:
        self.base = base
        self.p = problems

    def unknown_keys(self, node: Located, allowed: Sequence[str], where: str) -> bool:
        """Report each key of mapping `node` not in `allowed`; False if there was one."""
        ok = True
        for key in node.value:
            if key not in allowed:
                self.p.add(
                    node.key_marks.get(key, node.mark),
                    where,
                    f"unknown key {key!r}; expected one of: "
                    f"{', '.join(allowed)}{suggest(key, allowed)}",
                )
                ok = False
        return ok

    def string(self, node: Located, where: str, what: str) -> str | None:
        """The non-empty string at `node`, or None after reporting what it is instead."""
        if isinstance(node.value, str) and node.value:
            return node.value
        self.p.add(
            node.mark, where, f"{what}: expected a non-empty string, got {type_name(node.value)}"
        )
        return None

    def mapping(self, node: Located, where: str, what: str) -> bool:
        """True if `node` holds a mapping, else False after reporting what it holds."""
        if isinstance(node.value, dict):
            return True
        self.p.add(node.mark, where, f"{what}: expected a mapping, got {type_name(node.value)}")
        return False

    def positive_int(
        self, node: Located, where: str, what: str, most: int | None = None
    ) -> int | None:
        """The integer from 1 to `most` (if given) at `node`, or None after reporting it.

        The upper bound matters: YAML integers are unbounded, and a value past
        what the runtime takes (a WIT u32, a u64 budget) would only fail, or
        wrap, once the run has started.
        """
        value = node.value
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if is_int and value > 0 and (most is None or value <= most):
            return value  # type: ignore[no-any-return]
        expected = "a positive integer"
        if is_int and most is not None and value > most:
            expected += f" of at most {most}"
        self.p.add(
            node.mark,
            where,
            f"{what}: expected {expected}, got {type_name(value)} {value!r}",
        )
        return None


def scalar_text(value: object) -> str | None:
    """A YAML scalar as the string `configure` receives; None for non-scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def type_name(value: object) -> str:
    """What a YAML value is, for messages (\"a list\", \"an integer\")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return f"a {type(value).__name__}"


def suggest(word: str, choices: Sequence[str]) -> str:
    """A \" (did you mean ...?)\" hint, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
