"""Run every check on one component, in order, skipping what an earlier failure makes moot."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dataflare.conformance._batch_output import check_batch_output
from dataflare.conformance._budget import check_budget
from dataflare.conformance._harness import Subject
from dataflare.conformance._lifecycle import check_lifecycle
from dataflare.conformance._merge import check_merge
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
from dataflare.conformance._source_read import check_source_read
from dataflare.conformance._static import check_configure, check_describe, check_world_and_imports
from dataflare.model import PluginKind

__all__ = ["run_checks"]

_RECORD_KINDS = {PluginKind.FILTER, PluginKind.TRANSFORM, PluginKind.AGGREGATE, PluginKind.SINK}
_APPLIES = {
    "batch-output": _RECORD_KINDS,
    "batch": _RECORD_KINDS,
    "aggregate-fold": {PluginKind.AGGREGATE},
    "merge": {PluginKind.AGGREGATE},
    "source-read": {PluginKind.SOURCE},
    "lifecycle": {PluginKind.SOURCE, PluginKind.SINK},
}
_FROM_V0_2 = {
    "batch-output": "0.1 batch exports answer one result per record, with nothing columnar",
    "merge": "0.1 aggregates have no merge",
    "source-read": "0.1 sources have no pending: an empty read is the end",
}
"""Checks of what world 0.2 added, with why they do not apply to a 0.1 component."""


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
    world_version: str | None = None

    def finish() -> Report:
        for name in CHECK_NAMES:
            results.setdefault(name, CheckResult(name, Status.SKIP, "not run"))
        return Report(
            plugin=str(where),
            kind=kind,
            version=version,
            world_version=world_version,
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
    subject = Subject(loaded, budget)
    world_version = subject.world_version
    for name, kinds in _APPLIES.items():
        if loaded.kind not in kinds:
            results[name] = CheckResult(name, Status.SKIP, f"does not apply to world {kind}")
        elif name in _FROM_V0_2 and not subject.columnar:
            results[name] = CheckResult(
                name, Status.SKIP, f"world {world_version}: {_FROM_V0_2[name]}"
            )

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
    checks = {
        "batch-output": check_batch_output,
        "batch": check_batch,
        "aggregate-fold": check_aggregate_fold,
        "merge": check_merge,
        "source-read": check_source_read,
    }
    for name, check in checks.items():
        if name not in results:
            results[name] = check(run)
    return finish()
