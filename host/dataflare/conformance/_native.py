"""The conformance checks that apply to a native (Python) plugin, through its own protocol.

A native plugin has no component world, imports, fuel or linear memory, and
its batch forms return Python lists rather than columnar batches, so those
checks are reported as skipped with the reason. What does apply: describe,
configure, no exception other than `PluginError` on the standard and
generated records, determinism, batch = one by one, aggregate folds and
merge. Sources and sinks reach outside the process (files, databases), so
only describe and configure run on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from hypothesis import strategies as st

from dataflare._wit.types import Record as WitRecord
from dataflare.conformance._inputs import batches, large_record, render_records, standard_records
from dataflare.conformance._results import CHECK_NAMES, Budget, CheckResult, Report, Status
from dataflare.conformance._search import smallest_failure
from dataflare.errors import DataFlareError, PluginError
from dataflare.model import PluginKind, Record
from dataflare.plugins.kinds import (
    AggregatePlugin,
    AnyPlugin,
    FilterPlugin,
    FoldingPlugin,
    TransformPlugin,
)

__all__ = ["run_native_checks"]

_NOT_NATIVE = {
    "world": "a native plugin has no component world",
    "imports": "a native plugin imports no host functions",
    "resource-budget": "a native plugin runs in the host process, without fuel or memory limits",
    "batch-output": "native batch forms return lists, not columnar batches (see batch)",
}
_RECORD_KINDS = (PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE)
_OUTSIDE = "sources and sinks reach files or databases; run them in a pipeline"


def run_native_checks(
    label: str,
    factory: Callable[[], AnyPlugin],
    *,
    params: Mapping[str, str] | None = None,
    seed: int = 0,
    examples: int = 50,
) -> Report:
    """Check the native plugin `factory` makes (`label` names it in the report)."""
    params = dict(params or {})
    results = {name: CheckResult(name, Status.SKIP, why) for name, why in _NOT_NATIVE.items()}
    kind: PluginKind | None = None
    version: str | None = None

    def finish(why: str) -> Report:
        for name in CHECK_NAMES:
            results.setdefault(name, CheckResult(name, Status.SKIP, why))
        return Report(
            plugin=label,
            kind=None if kind is None else kind.value,
            version=version,
            world_version=None,
            seed=seed,
            examples=examples,
            params=params,
            # The schema wants the stated budget; resource-budget says it is not enforced.
            budget=Budget().to_json(),
            checks=tuple(results[name] for name in CHECK_NAMES),
        )

    try:
        info = factory().describe()
        kind, version = info.kind, info.version
        names = [p.name for p in info.params]
        twice = sorted({n for n in names if names.count(n) > 1})
        results["describe"] = (
            CheckResult("describe", Status.FAIL, f"parameters declared twice: {twice}")
            if twice
            else CheckResult("describe", Status.PASS, f"{info.name} {version}")
        )
    except Exception as exc:
        results["describe"] = _raised("describe", "describe()", exc)
        return finish("describe() must work first")

    def fresh() -> Any:
        plugin = factory()
        plugin.configure(params)
        return plugin

    try:
        fresh().close()
        results["configure"] = CheckResult("configure", Status.PASS, f"accepted {params}")
    except Exception as exc:
        results["configure"] = _raised("configure", "configure()", exc)
        return finish("the plugin could not be configured (see configure)")
    if kind not in _RECORD_KINDS:
        return finish(_OUTSIDE)

    strategy = batches(tuple(v for v in params.values() if v))
    search = {"seed": seed, "examples": examples}

    def no_trap(records: list[WitRecord]) -> str | None:
        try:
            _one_by_one(fresh(), records)
            _batch(fresh(), records)
        except Exception as exc:
            return f"raised {type(exc).__name__}: {exc} (only PluginError may escape)"
        return None

    standard = [*standard_records(tuple(params.values())), large_record()]
    for record in standard:
        why = no_trap([record])
        if why is not None:
            results["no-trap"] = CheckResult("no-trap", Status.FAIL, why, render_records([record]))
            return finish("the plugin raises on a standard record (see no-trap)")
    results["no-trap"] = _property("no-trap", strategy, no_trap, search, "no exception escaped")
    if results["no-trap"].failed:
        return finish("the plugin raises on generated records (see no-trap)")

    def determinism(records: list[WitRecord]) -> str | None:
        first, second = _one_by_one(fresh(), records), _one_by_one(fresh(), records)
        return None if first == second else f"two runs differ: {first!r} vs {second!r}"

    results["determinism"] = _property(
        "determinism", strategy, determinism, search, "two instances agree"
    )
    if results["determinism"].failed:
        return finish("comparing forms of a nondeterministic plugin proves nothing")

    def batch(records: list[WitRecord]) -> str | None:
        single, whole = _one_by_one(fresh(), records), _batch(fresh(), records)
        return None if single == whole else f"batch {whole!r} but one by one {single!r}"

    results["batch"] = _property("batch", strategy, batch, search, "batch = one by one")
    if kind is PluginKind.AGGREGATE:

        def chunks(records: list[WitRecord]) -> str | None:
            whole = _batch(fresh(), records)[-1]
            for cut in range(len(records) + 1):
                agg = fresh()
                acc, _ = agg.aggregate_batch(agg.init(), _native(records[:cut]))
                acc, _ = agg.aggregate_batch(acc, _native(records[cut:]))
                if agg.emit(acc) != whole:
                    return f"two batches cut at {cut} emit {agg.emit(acc)!r}, one emits {whole!r}"
            return None

        results["aggregate-fold"] = _property(
            "aggregate-fold",
            strategy,
            chunks,
            search,
            "folding in batches emits what one fold does",
        )
        results["merge"] = _merge(fresh, strategy, search)
    return finish("does not apply to a native plugin of this kind")


def _native(records: Sequence[WitRecord]) -> list[Record]:
    """The checks' records (WIT-shaped: metadata as pairs) as native plugins take them."""
    return [Record(r.value, r.key, r.timestamp, dict(r.metadata)) for r in records]


def _one_by_one(plugin: Any, wit: Sequence[WitRecord]) -> list[object]:
    """What the single-record form does with each record (errors as `PluginError`)."""
    records = _native(wit)
    if isinstance(plugin, FoldingPlugin):
        acc = plugin.init()
        errors: list[object] = []
        for record in records:
            try:
                acc = plugin.aggregate(acc, record)
                errors.append(None)
            except PluginError as exc:
                errors.append(exc)
        return [*errors, plugin.emit(acc)]
    one = plugin.filter if isinstance(plugin, FilterPlugin) else plugin.transform
    outcomes: list[object] = []
    for record in records:
        try:
            outcomes.append(one(record))
        except PluginError as exc:
            outcomes.append(exc)
    return outcomes


def _batch(plugin: Any, wit: Sequence[WitRecord]) -> list[object]:
    """What the batch form does with `records`, shaped as `_one_by_one` shows it."""
    records = _native(wit)
    if isinstance(plugin, FoldingPlugin):
        acc, errors = plugin.aggregate_batch(plugin.init(), list(records))
        return [*errors, plugin.emit(acc)]
    if isinstance(plugin, FilterPlugin):
        return list(plugin.filter_batch(list(records)))
    assert isinstance(plugin, TransformPlugin)
    return list(plugin.transform_batch(list(records)))


def _merge(
    fresh: Callable[[], Any], strategy: st.SearchStrategy[list[WitRecord]], search: dict[str, int]
) -> CheckResult:
    plugin = fresh()
    if not isinstance(plugin, AggregatePlugin):
        return CheckResult("merge", Status.SKIP, "the aggregate has no merge")
    try:
        plugin.merge(plugin.init(), plugin.init())
    except PluginError as exc:
        return CheckResult("merge", Status.SKIP, f"the aggregate cannot be split: {exc.message}")

    def split(records: list[WitRecord]) -> str | None:
        whole = _fold(fresh(), records)
        for cut in range(len(records) + 1):
            agg = fresh()
            merged = agg.merge(_acc(agg, records[:cut]), _acc(agg, records[cut:]))
            parts = agg.emit(merged)
            if parts != whole:
                return f"split at {cut}: merged emit {parts!r}, one fold emits {whole!r}"
        return None

    return _property("merge", strategy, split, search, "any split merged emits one fold's output")


def _acc(plugin: Any, records: Sequence[WitRecord]) -> bytes:
    acc: bytes = plugin.init()
    for record in _native(records):
        with suppress(PluginError):  # a failed record is left out of the fold
            acc = plugin.aggregate(acc, record)
    return acc


def _fold(plugin: Any, records: Sequence[WitRecord]) -> list[Record]:
    result: list[Record] = plugin.emit(_acc(plugin, records))
    return result


def _property(
    name: str,
    strategy: st.SearchStrategy[list[WitRecord]],
    why_failing: Callable[[list[WitRecord]], str | None],
    search: dict[str, int],
    passed: str,
) -> CheckResult:
    def guarded(records: list[WitRecord]) -> str | None:
        try:
            return why_failing(records)
        except Exception as exc:
            return f"raised {type(exc).__name__}: {exc}"

    found = smallest_failure(strategy, guarded, seed=search["seed"], examples=search["examples"])
    if found is None:
        return CheckResult(name, Status.PASS, f"{passed} ({search['examples']} generated batches)")
    records, why = found
    return CheckResult(name, Status.FAIL, why, render_records(records))


def _raised(name: str, call: str, exc: Exception) -> CheckResult:
    known = isinstance(exc, DataFlareError)
    detail = f"{call} failed: {exc}" if known else f"{call} raised {type(exc).__name__}: {exc}"
    return CheckResult(name, Status.FAIL, detail)
