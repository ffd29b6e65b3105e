"""`inspect`, `test`, `check` and `run` share one compiled artifact of a component.

Each command once picked its own engine settings, and the compile cache is
keyed by them, so a new component compiled once per command family. These
tests start from an empty cache dir and count the cache's own entries and
hits/misses: never time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dataflare.cli import main
from dataflare.runtime import default_cache
from support.guests import v0_1_fixture

FILTERS = [
    "json_filter.rust",
    pytest.param("json_filter.python", marks=pytest.mark.slow),  # 18 MB: compiles for seconds
]
PIPELINE = """\
sources:
  - {{id: lines, type: jsonl, config: {{path: {data}}}}}
processors:
  - id: keep
    type: plugin
    config:
      plugin_type: filter
      plugin_source: wasm
      plugin_path: {plugin}
      params: {{field: r, value: EU}}
sinks:
  - {{id: out, type: jsonl, config: {{path: {out}}}}}
"""


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache dir that the process-wide cache uses for this test."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("DATAFLARE_CACHE_DIR", str(directory))
    return directory


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.cwasm"))


def counts() -> tuple[int, int]:
    stats = default_cache().stats
    return stats.hits, stats.misses


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("fixture", FILTERS)
def test_inspect_compiles_once_and_test_check_run_hit_that_entry(
    fixture: str, empty_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = tmp_path / "amount_min.wasm"
    shutil.copyfile(v0_1_fixture(fixture, tmp_path), plugin)
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join(json.dumps({"value": {"r": r}}) for r in ("EU", "US")) + "\n")
    data = tmp_path / "data.jsonl"  # what a pipeline reads: plain JSON values
    data.write_text('{"r": "EU"}\n{"r": "US"}\n')
    pipeline = tmp_path / "pipeline.yaml"
    out = tmp_path / "out.jsonl"
    pipeline.write_text(PIPELINE.format(data=data, plugin=plugin, out=out))

    hits, misses = counts()
    code, err = cli(capsys, "inspect", str(plugin))
    assert code == 0, err
    assert counts() == (hits, misses + 1)
    assert len(entries(empty_cache)) == 1
    assert "compiling amount_min.wasm, first time only, about " in err

    argvs = [
        ["test", str(plugin), "-i", str(records), "-p", "field=r", "-p", "value=EU"],
        ["check", str(plugin), "-p", "field=r", "-p", "value=EU", "--examples", "5"],
        ["run", str(pipeline), "--quiet"],
    ]
    for argv in argvs:
        code, err = cli(capsys, *argv)
        assert code == 0, (argv, err)
        assert counts()[1] == misses + 1, f"{argv[0]} compiled again"
        assert "compiling" not in err, argv
    assert counts()[0] > hits + len(argvs) - 1
    assert len(entries(empty_cache)) == 1, entries(empty_cache)
    assert out.read_text().count("EU") == 1
