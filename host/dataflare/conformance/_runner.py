"""Run every check on one component, in order, skipping what an earlier failure makes moot."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dataflare.conformance._budget import check_budget
from dataflare.conformance._harness import Subject
from dataflare.conformance._lifecycle import check_lifecycle
from dataflare.conformance._props import (
    PropertyRun,
    check_aggregate_fold,
    check_batch,
    check_determinism,
    check_no_trap,
)
from dataflare.conformance._results import (
    CHECK_NAMES,
    DEFAULT_EXAMPLES,
    Budget,
    CheckResult,
    Report,
    Status,
)
from dataflare.conformance._static import check_configure, check_describe, check_world_and_imports
from dataflare.model import PluginKind

__all__ = ["run_checks"]

_APPLIES = {
    "batch": {PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE, PluginKind.SINK},
    "aggregate-fold": {PluginKind.AGGREGATE},
    "lifecycle": {PluginKind.SOURCE, PluginKind.SINK},
}


def run_checks(
    path: str | os.PathLike[str],
    *,
    world: PluginKind | None = None,
    params: Mapping[str, str] | None = None,
    seed: int = 0,
    examples: int = DEFAULT_EXAMPLES,
    budget: Budget | None = None,
) -> Report:
    """Check the component at `path` against its world (or `world`); never raises for a bad plugin.

    `params` configure the plugin for the record checks; `seed` and
    `examples` drive hypothesis; `budget` is the per-call resource budget.
    """
    where = Path(path)
    params = dict(params or {})
    budget = budget or Budget()
    results: dict[str, CheckResult] = {}
    kind: str | None = None
    version: str | None = None

    def finish() -> Report:
        for name in CHECK_NAMES:
            results.setdefault(name, CheckResult(name, Status.SKIP, "not run"))
        return Report(
            plugin=str(where),
            kind=kind,
            version=version,
            seed=seed,
            examples=examples,
            params=params,
            budget=budget.to_json(),
            checks=tuple(results[name] for name in CHECK_NAMES),
        )

    def skip_rest(why: str) -> Report:
        for name in CHECK_NAMES:
            results.setdefault(name, CheckResult(name, Status.SKIP, why))
        return finish()

    results["world"], results["imports"], loaded = check_world_and_imports(where, world)
    if loaded is None:
        return skip_rest("needs a component that loads as a plugin (see world and imports)")
    kind, version = loaded.kind.value, loaded.version
    for name, kinds in _APPLIES.items():
        if loaded.kind not in kinds:
            results[name] = CheckResult(name, Status.SKIP, f"does not apply to world {kind}")

    subject = Subject(loaded, budget)
    results["describe"], info = check_describe(subject)
    if info is None:
        return skip_rest("describe() must work first")
    results["configure"], usable = check_configure(subject, info, params)
    if not usable:
        return skip_rest("the plugin could not be configured (see configure)")

    vocabulary = tuple(dict.fromkeys(v for _, v in subject.config if v))
    results["resource-budget"], standard, exhausted = check_budget(subject, vocabulary)
    if "lifecycle" not in results:
        results["lifecycle"] = check_lifecycle(subject)
    if exhausted:
        return skip_rest(
            "the plugin exceeds its budget on the standard inputs (see resource-budget)"
        )

    run = PropertyRun(subject, vocabulary, seed, examples)
    results["no-trap"] = check_no_trap(run, standard)
    results["determinism"] = check_determinism(run)
    if results["determinism"].failed:
        return skip_rest(
            "comparing forms of a nondeterministic plugin proves nothing (see determinism)"
        )
    if "batch" not in results:
        results["batch"] = check_batch(run)
    if "aggregate-fold" not in results:
        results["aggregate-fold"] = check_aggregate_fold(run)
    return finish()
