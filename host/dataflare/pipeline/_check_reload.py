"""Checking an entry's `reload` (hot plug of a WASM processor on a changed file)."""

from __future__ import annotations

from dataflare.model import PluginKind
from dataflare.pipeline._checks import Checker, type_name
from dataflare.pipeline._schema import PluginRef
from dataflare.pipeline._yaml import Located, Mark

__all__ = ["RELOAD_MODES", "ReloadChecker"]

RELOAD_MODES = ("watch", "off")
"""`watch`: swap the plugin when its `plugin_path` file changes; `off` (default): on request."""

_WHY_NOT: dict[PluginKind, str] = {
    PluginKind.SOURCE: "a source's read position belongs to the instance that holds it",
    PluginKind.SINK: "a sink's open transaction belongs to the instance that holds it",
}


class ReloadChecker(Checker):
    """Validates `reload: watch | off` of one entry."""

    def reload(
        self, node: Located, key_mark: Mark, ref: PluginRef | None, where: str
    ) -> bool | None:
        """True to watch the stage's file, False not to; None if invalid."""
        if ref is not None and ref.wasm_path is None:
            self.p.add(
                key_mark,
                where,
                "`reload` applies to WASM stages only (`plugin_source: wasm`): it watches "
                "the `plugin_path` file",
            )
            return None
        if ref is not None and ref.kind in _WHY_NOT:
            self.p.add(
                key_mark,
                where,
                f"`reload` applies to filter, transform and aggregate stages only, not to "
                f"{ref.kind.value} stages: {_WHY_NOT[ref.kind]}",
            )
            return None
        value = node.value
        if value in RELOAD_MODES:
            return bool(value == "watch")
        self.p.add(
            node.mark,
            where,
            f"`reload`: expected `watch` or `off`, got {type_name(value)} {value!r}",
        )
        return None
