"""Checks that need at most a few calls: world, imports, describe, configure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wasmtime.component import Component

from dataflare._wit import types as wit
from dataflare.abi.rt import WorldSpec
from dataflare.conformance._harness import (
    CHECK_ENGINE,
    Outcome,
    Refused,
    Returned,
    Subject,
    describe_outcome,
)
from dataflare.conformance._imports import classify_imports
from dataflare.conformance._results import CheckResult, Status
from dataflare.errors import ComponentLoadError, WorldMismatchError
from dataflare.model import PluginKind
from dataflare.runtime import LoadedComponent, default_cache, get_engine, load_component
from dataflare.runtime.identify import WorldProblem, identify

__all__ = ["check_configure", "check_describe", "check_world_and_imports"]

_SEMVER = re.compile(r"^\d+\.\d+\.\d+([-+].*)?$")
_SHAPE = {
    "0.1": "batch exports take lists of records",
    "0.2": "columnar batch exports, aggregate merge, source pending vs end",
}
"""What each supported world version means for the checks, shown in the world check."""


@dataclass(frozen=True, slots=True)
class _Names:
    exports: tuple[str, ...]
    imports: tuple[str, ...]
    component: Component


def _names(path: Path) -> _Names:
    component = default_cache().compile(path.read_bytes(), CHECK_ENGINE, name=path.name)
    engine = get_engine(CHECK_ENGINE)
    return _Names(
        tuple(component.type.exports(engine)), tuple(component.type.imports(engine)), component
    )


def check_world_and_imports(
    path: Path, expected: PluginKind | None
) -> tuple[CheckResult, CheckResult, LoadedComponent | None]:
    """`world`: one of our worlds, compatible version, every export; `imports`: the policy.

    The two are told apart even though the loader refuses both the same way:
    a world problem is judged on the imports the policy accepts, and an
    import problem names each refused interface.
    """
    loaded: LoadedComponent | None = None
    try:
        loaded = load_component(path, expected, engine_config=CHECK_ENGINE)
        names = _Names(
            tuple(loaded.component.type.exports(loaded.engine)), loaded.imports, loaded.component
        )
    except ComponentLoadError as exc:
        world = CheckResult("world", Status.FAIL, str(exc))
        return world, CheckResult("imports", Status.SKIP, "the component could not be read"), None
    except WorldMismatchError:
        names = _names(path)
    verdict = classify_imports(names.imports, None)
    linkable = [*verdict.allowed, *(name for name, _ in verdict.warned)]
    try:
        found = identify(names.exports, linkable, expected)
    except WorldProblem as exc:
        world = CheckResult("world", Status.FAIL, f"{path.name}: {exc}")
        return world, _imports_result(names.imports, None), None
    spec = found.world
    world = CheckResult(
        "world",
        Status.PASS,
        f"targets {spec.package}/{spec.name}@{found.version}, checked as world {spec.version}"
        f"{_shape(spec.version)}; exports {', '.join(spec.exports)}",
        metrics={"world": spec.name, "version": found.version, "world_version": spec.version},
    )
    imports = _imports_result(names.imports, spec)
    if imports.failed:
        return world, imports, None
    if loaded is None:
        loaded = LoadedComponent(
            path=path,
            component=names.component,
            world=spec,
            version=found.version,
            kind=found.kind,
            engine_config=CHECK_ENGINE,
            imports=names.imports,
        )
    return world, imports, loaded


def _shape(version: str) -> str:
    shape = _SHAPE.get(version.rsplit(".", 1)[0])
    return f" ({shape})" if shape else ""


def _imports_result(imports: tuple[str, ...], world: WorldSpec | None) -> CheckResult:
    verdict = classify_imports(imports, world)
    metrics = {
        "allowed": list(verdict.allowed),
        "warned": [name for name, _ in verdict.warned],
        "refused": [name for name, _ in verdict.refused],
    }
    if verdict.refused:
        shown = "; ".join(f"{name} ({why})" for name, why in verdict.refused)
        return CheckResult(
            "imports",
            Status.FAIL,
            f"asks for imports the world does not allow: {shown}",
            metrics=metrics,
        )
    if verdict.warned:
        groups: dict[str, list[str]] = {}
        for name, why in verdict.warned:
            groups.setdefault(why, []).append(name.split("/")[0])
        shown = "; ".join(f"{', '.join(sorted(set(p)))}: {why}" for why, p in groups.items())
        return CheckResult(
            "imports",
            Status.WARN,
            f"{len(verdict.warned)} capability imports are linked but inert in the"
            f" sandbox ({shown})",
            metrics=metrics,
            notes=tuple(name for name, _ in verdict.warned),
        )
    return CheckResult(
        "imports", Status.PASS, f"{len(verdict.allowed)} imports, all allowed", metrics=metrics
    )


def check_describe(subject: Subject) -> tuple[CheckResult, wit.PluginInfo | None]:
    """`describe` returns sane info: kind matches the world, params unique and named."""
    probe = subject.probe(configure=False)
    outcome = probe.call("describe")
    probe.close()
    if not isinstance(outcome, Returned):
        return CheckResult("describe", Status.FAIL, f"describe() {describe_outcome(outcome)}"), None
    info: wit.PluginInfo = outcome.value
    problems, warnings = [], []
    if info.kind.value != subject.kind.value:
        problems.append(
            f"kind is {info.kind.value!r} but the component targets world {subject.kind.value!r}"
        )
    if not info.name.strip():
        problems.append("name is empty")
    names = [p.name for p in info.params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"parameter names repeat: {', '.join(repeated)}")
    if any(not n.strip() for n in names):
        problems.append("a parameter has an empty name")
    if not _SEMVER.match(info.version):
        warnings.append(f"version {info.version!r} is not a semantic version")
    for p in info.params:
        if p.required and p.default is not None:
            warnings.append(f"required parameter {p.name!r} has a default that is never used")
    params = ", ".join(f"{p.name}{'*' if p.required else ''}" for p in info.params) or "none"
    summary = f"{info.name} {info.version} ({info.kind.value}); params: {params}"
    metrics = {"name": info.name, "version": info.version, "params": names}
    if problems:
        return CheckResult("describe", Status.FAIL, "; ".join(problems), metrics=metrics), info
    if warnings:
        return CheckResult(
            "describe", Status.WARN, f"{summary}; " + "; ".join(warnings), metrics=metrics
        ), info
    return CheckResult("describe", Status.PASS, summary, metrics=metrics), info


def check_configure(
    subject: Subject, info: wit.PluginInfo, params: Mapping[str, str]
) -> tuple[CheckResult, bool]:
    """`configure` accepts the declared params; a missing required one is a configuration error.

    Returns the result and whether `params` configure the plugin (so the
    record checks can run).
    """
    declared = {p.name: p for p in info.params}
    base = dict(params)
    unset = [p.name for p in info.params if p.required and p.name not in base]
    if unset:
        hint = " ".join(f"--param {n}=VALUE" for n in unset)
        return (
            CheckResult(
                "configure",
                Status.FAIL,
                f"required parameter(s) {', '.join(unset)} have no value, so the plugin cannot"
                f" be configured for the other checks; pass {hint}",
            ),
            False,
        )
    outcome = _configure(subject, base)
    if not isinstance(outcome, Returned):
        return (
            CheckResult(
                "configure",
                Status.FAIL,
                f"rejected the given params: {describe_outcome(outcome)}",
                input=repr(base),
            ),
            False,
        )
    problems: list[tuple[str, dict[str, str]]] = []
    with_defaults = {**{n: p.default for n, p in declared.items() if p.default is not None}, **base}
    outcome = _configure(subject, with_defaults)
    if not isinstance(outcome, Returned):
        problems.append(
            (f"rejected the declared defaults: {describe_outcome(outcome)}", with_defaults)
        )
    for name in [p.name for p in info.params if p.required]:
        without = {k: v for k, v in base.items() if k != name}
        outcome = _configure(subject, without)
        if isinstance(outcome, Returned):
            problems.append(
                (
                    f"accepted a config without required parameter {name!r} (configure ignores it)",
                    without,
                )
            )
        elif isinstance(outcome, Refused) and outcome.kind != "configuration":
            problems.append(
                (
                    f"missing {name!r} gave a {outcome.kind} error, not a configuration error",
                    without,
                )
            )
        elif not isinstance(outcome, Refused):
            problems.append((f"missing {name!r}: {describe_outcome(outcome)}", without))
    subject.config = list(base.items())
    if problems:
        message, config = problems[0]
        notes = tuple(m for m, _ in problems[1:])
        return CheckResult("configure", Status.FAIL, message, input=repr(config), notes=notes), True
    required = sum(1 for p in info.params if p.required)
    return (
        CheckResult(
            "configure",
            Status.PASS,
            f"accepts {len(base)} given and {len(with_defaults) - len(base)} default param(s);"
            f" each of {required} required param(s), left out, is a configuration error",
        ),
        True,
    )


def _configure(subject: Subject, config: Mapping[str, str]) -> Outcome:
    probe = subject.probe(configure=False)
    outcome = probe.call("configure", list(config.items()))
    probe.close()
    return outcome
