"""guest-examples/js/Makefile: rebuilds only what changed, and names what to install."""

from __future__ import annotations

import subprocess

import pytest
from support.guests import ROOT, built_guest

JS = ROOT / "guest-examples" / "js"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-C", str(JS), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def built():
    return {n: built_guest("js", n) for n in ("json_filter", "mask_email")}


def _stale(target: str, *changed: str) -> bool:
    what_if = [arg for path in changed for arg in ("-W", path)]
    return _make("-q", *what_if, target).returncode != 0


@pytest.mark.parametrize(
    ("changed", "json_filter", "mask_email"),
    [
        (None, False, False),
        ("json_filter/app.js", True, False),
        ("mask_email/app.js", False, True),
        (str(ROOT / "host" / "dataflare" / "sdk" / "js" / "json.js"), True, True),
        ("package-lock.json", True, True),
        (str(ROOT / "wit" / "filter.wit"), True, True),
    ],
)
def test_a_change_rebuilds_exactly_its_dependents(built, changed, json_filter, mask_email):
    changed_files = () if changed is None else (changed,)
    assert _stale("json_filter", *changed_files) == json_filter
    assert _stale("mask_email", *changed_files) == mask_email


@pytest.mark.parametrize(
    ("override", "hint"),
    [
        ("NODE=/nonexistent/node", "node not found; install it with: apt-get install nodejs npm"),
        (
            "COMPONENTIZE_JS=/nonexistent/package.json",
            "componentize-js not found; install it with: npm ci --prefix guest-examples/js",
        ),
    ],
)
def test_a_missing_toolchain_names_what_to_install(tmp_path, override, hint):
    proc = _make(f"OUT={tmp_path}", override, "json_filter")
    assert proc.returncode != 0
    assert hint in proc.stderr
    assert not (tmp_path / "json_filter.wasm").exists()
