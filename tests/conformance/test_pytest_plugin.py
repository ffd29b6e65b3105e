"""The pytest plugin: inert and cheap unless asked, one test per check when asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from support.guests import ROOT

V0_1 = ROOT / "tests" / "fixtures" / "v0_1"


def _pytest(cwd, *args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_importing_the_plugin_loads_nothing_heavy():
    code = (
        "import sys, dataflare.conformance.pytest_plugin as p;"
        "print(sorted(m for m in ('wasmtime', 'hypothesis', 'rich', 'dataflare.runtime')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_the_option_the_plugin_adds_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    proc = _pytest(tmp_path, "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_one_test_per_check_and_failures_name_the_check(tmp_path, broken_corpus):
    wasm = broken_corpus / "batch_length.wasm"
    proc = _pytest(tmp_path, "-q", "-rA", f"--dataflare-plugin={wasm}", "--dataflare-examples=4")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed, 7 passed, 4 skipped" in proc.stdout  # batch-output and batch
    assert "batch-output: filter-batch of 0 record(s): keep has 1 byte(s)" in proc.stdout
    assert "smallest input: []" in proc.stdout


def test_params_reach_configure_and_a_good_plugin_passes(tmp_path):
    wasm = V0_1 / "json_filter.rust.wasm"
    args = [f"--dataflare-plugin={wasm}", "--dataflare-examples=3", "--dataflare-world=filter"]
    proc = _pytest(tmp_path, "-q", *args, "--dataflare-param=field=a", "--dataflare-param=value=b")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 passed, 5 skipped" in proc.stdout  # 0.1: the three 0.2 checks skip too
    proc = _pytest(tmp_path, "-q", *args)
    assert proc.returncode == 1
    assert "pass --param field=VALUE --param value=VALUE" in proc.stdout


def test_the_fixture_runs_the_suite_inside_an_authors_test(tmp_path, broken_corpus):
    wasm = broken_corpus / "nondeterministic.wasm"
    (tmp_path / "test_mine.py").write_text(
        textwrap.dedent(f"""
        def test_conforms(dataflare_check):
            report = dataflare_check({str(wasm)!r}, examples=4)
            assert report.failures == ("determinism",)
    """)
    )
    proc = _pytest(tmp_path, "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_a_malformed_param_is_a_usage_error(tmp_path, bad):
    wasm = V0_1 / "gen_source.rust.wasm"
    proc = _pytest(tmp_path, "-q", f"--dataflare-plugin={wasm}", f"--dataflare-param={bad}")
    assert proc.returncode != 0
    assert "NAME=VALUE" in proc.stdout + proc.stderr
