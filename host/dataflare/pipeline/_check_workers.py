"""Checking an entry's `workers` (pooled WASM filter/transform stages), with located problems."""

from __future__ import annotations

from dataflare.model import PluginKind
from dataflare.pipeline._checks import Checker, type_name
from dataflare.pipeline._schema import PluginRef
from dataflare.pipeline._yaml import Located, Mark
from dataflare.runtime.pool import default_size

__all__ = ["MAX_WORKERS", "WorkersChecker"]

MAX_WORKERS = 64
"""More instances than this is a typo, not a plan: each one holds its own linear memory."""

_WHY_NOT: dict[PluginKind, str] = {
    PluginKind.AGGREGATE: "an aggregate folds every record into one accumulator",
    PluginKind.SOURCE: "a source has one read position",
    PluginKind.SINK: "a sink's writes must stay in one order and one transaction",
}


class WorkersChecker(Checker):
    """Validates `workers: N | auto` of one entry."""

    def workers(
        self, node: Located, key_mark: Mark, ref: PluginRef | None, where: str
    ) -> int | None:
        """Pooled instances for the stage (`auto`: this process's cores); None if invalid."""
        if ref is not None and ref.wasm_path is None:
            self.p.add(
                key_mark,
                where,
                "`workers` applies to WASM filter and transform stages only "
                "(`plugin_source: wasm`); native plugins run on the pipeline's thread",
            )
            return None
        if ref is not None and ref.kind in _WHY_NOT:
            self.p.add(
                key_mark,
                where,
                f"`workers` applies to filter and transform stages only, not to "
                f"{ref.kind.value} stages: {_WHY_NOT[ref.kind]}, which cannot be split across "
                "instances",
            )
            return None
        value = node.value
        if value == "auto":
            return default_size()
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WORKERS:
            return value
        self.p.add(
            node.mark,
            where,
            f"`workers`: expected `auto` or an integer from 1 to {MAX_WORKERS}, got "
            f"{type_name(value)} {value!r}",
        )
        return None
