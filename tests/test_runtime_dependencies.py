"""Every user-facing command runs with the runtime dependencies alone.

A third-party import anywhere in `host/dataflare` must be satisfied by
`[project] dependencies`, not by the `[dev]` extra: `dataflare check`
once died with ModuleNotFoundError because hypothesis was dev-only.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "host" / "dataflare"

# Loaded only by pytest itself, through the pytest11 entry point.
PYTEST_ONLY = {PACKAGE / "conformance" / "pytest_plugin.py"}
# Guest code: it runs inside components, importing its SDK siblings and componentize-py's
# bindings; the host never imports it.
GUEST_SDK = PACKAGE / "sdk"
# Imported only by `run --engine dask`, which says to install the extra when it is missing.
EXTRA_ONLY = {(PACKAGE / "scaleout" / "coordinator.py", "distributed"): "dask"}


def _canonical(name: str) -> str:
    """PEP 503: `prometheus-client` and the installed `prometheus_client` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # PEP 508: the name is the leading run of letters, digits, '.', '_' and '-'
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", text)[0]) for text in project["dependencies"]}


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_third_party_import_is_a_runtime_dependency() -> None:
    runtime = _runtime_distributions()
    owners = packages_distributions()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in PYTEST_ONLY or GUEST_SDK in path.parents:
            continue
        for name in _top_level_imports(path):
            if name in sys.stdlib_module_names or name in {"dataflare", "__future__"}:
                continue
            if (path, name) in EXTRA_ONLY:
                continue
            dists = {_canonical(dist) for dist in owners.get(name, [])}
            if not dists:
                pytest.fail(f"{path.relative_to(ROOT)} imports {name!r}, which is not installed")
            if not dists & runtime:
                wrong.append(f"{path.relative_to(ROOT)}: {name} (from {', '.join(sorted(dists))})")
    assert not wrong, "imports not covered by [project] dependencies:\n" + "\n".join(wrong)


def test_extra_only_imports_are_in_their_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for (_, name), extra in EXTRA_ONLY.items():
        listed = {_canonical(re.match(r"[A-Za-z0-9._-]+", text)[0]) for text in extras[extra]}
        owners = {_canonical(d) for d in packages_distributions().get(name, [])}
        # dask[distributed] pulls in the `distributed` distribution
        assert owners & (listed | {"distributed"}), (name, extra)
