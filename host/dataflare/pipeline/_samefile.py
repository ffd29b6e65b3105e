"""Refusing pipelines whose stages read and write the same file.

A sink appending to the file its source reads makes the source read its own
output, for ever; a sink that overwrites it truncates the input before it is
read; two sinks (a dead-letter sink included) on one file interleave or
truncate each other, and a state file on a data file overwrites it. Paths
are compared after resolving symlinks, and by device and inode when both
files exist, so hard links are caught too. A source reading a glob
(``in-*.jsonl``) reads every file it matches, a sink's file included.

A database is different: a SQLite source and sink on one file are fine as
long as the sink's table is not the one the source reads.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dataflare.pipeline._schema import Problems, StageConfig
from dataflare.pipeline._yaml import Mark

__all__ = ["FileUse", "check_same_files", "uses_of"]


@dataclass(frozen=True, slots=True)
class FileUse:
    """One stage's use of a file: who, where in the YAML, and which table if a database."""

    who: str
    mark: Mark
    path: Path
    writes: bool
    tables: tuple[str, ...] | None = None
    """Tables a database stage touches (None: a plain file); `("*",)`: unknown."""
    where: str = ""
    key: str = "path"
    """The YAML key naming the file, for messages."""


def uses_of(stages: Iterable[StageConfig]) -> list[FileUse]:
    """The files native sources and sinks name in their `path` parameter.

    WASM stages are left out: their paths are guest paths, seen through
    `allow.dirs`, not files on this machine.
    """
    uses = []
    for stage in stages:
        text = stage.params.get("path")
        if stage.plugin.wasm_path is not None or not text or stage.section == "processors":
            continue
        writes = stage.section == "sinks"
        uses.append(
            FileUse(
                who=f"{stage.section[:-1]} {stage.id!r}",
                mark=stage.param_marks.get("path", stage.mark),
                path=Path(text),
                writes=writes,
                tables=_tables(stage),
                where=stage.where,
            )
        )
    return uses


def check_same_files(uses: list[FileUse], problems: Problems) -> None:
    """Report every writer whose file is also read or written by an earlier use."""
    keys = [_identity(use.path) for use in uses]
    for i, use in enumerate(uses):
        if not use.writes:
            continue
        for j, other in enumerate(uses):
            if j == i or (other.writes and j > i):
                continue
            if not _same(keys[i], keys[j]) and not _globbed(keys[i][0], other):
                continue
            table = _shared_table(use, other)
            if table is False:
                continue
            verb = "writes" if other.writes else "reads"
            what = f"table {table!r} of " if isinstance(table, str) else ""
            real = keys[i][0]
            shown = f"{use.path} (that is {real})" if real != str(use.path) else str(use.path)
            problems.add(
                use.mark,
                use.where,
                f"`{use.key}` {shown}: writes {what}the same file that {other.who} {verb} (at "
                f"{other.mark}){_why(use, other, table)}",
            )
            break


def _why(use: FileUse, other: FileUse, table: str | bool) -> str:
    if isinstance(table, str):
        if other.writes:
            return ": both would write the same rows; use another table"
        return ": the source would read the rows the sink adds, for ever; use another table"
    if "state" in (use.key, other.key):
        return ": the state file is rewritten at every commit; use another file"
    if other.writes:
        return ": the two would overwrite or interleave each other's records; use another file"
    return (
        ": the run would read its own output for ever (mode: append) or truncate its input "
        "before reading it; use another file"
    )


def _tables(stage: StageConfig) -> tuple[str, ...] | None:
    params = stage.params
    if "table" not in params and "query" not in params:
        return None
    if params.get("table"):
        return (params["table"].casefold(),)
    return _query_tables(params.get("query", ""))


# The tables a query reads, roughly: names after FROM or JOIN, quoted or not.
_FROM = re.compile(r"\b(?:from|join)\s+(?:\"((?:[^\"]|\"\")+)\"|([A-Za-z_][A-Za-z0-9_$]*))", re.I)


def _query_tables(query: str) -> tuple[str, ...]:
    names = [
        (quoted.replace('""', '"') if quoted else bare).casefold()
        for quoted, bare in _FROM.findall(query)
    ]
    return tuple(names) or ("*",)


def _shared_table(a: FileUse, b: FileUse) -> str | bool:
    """False when both are database stages on different tables; else the table or True."""
    if a.tables is None or b.tables is None:
        return True
    if "*" in a.tables or "*" in b.tables:
        return True
    common = sorted(set(a.tables) & set(b.tables))
    return common[0] if common else False


def _globbed(real: str, reader: FileUse) -> bool:
    """Whether `reader` reads a glob (``in-*.jsonl``) that the file at `real` matches."""
    pattern = str(reader.path)
    if reader.writes or not glob.has_magic(pattern):
        return False
    folder, name = os.path.split(os.path.abspath(pattern))
    if not glob.has_magic(folder):
        folder = os.path.realpath(folder)
    return fnmatch.fnmatchcase(real, os.path.join(folder, name))


def _identity(path: Path) -> tuple[str, tuple[int, int] | None]:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return real, None
    return real, (st.st_dev, st.st_ino)


def _same(a: tuple[str, tuple[int, int] | None], b: tuple[str, tuple[int, int] | None]) -> bool:
    if a[1] is not None and b[1] is not None:
        return a[1] == b[1]
    return a[0] == b[0]
