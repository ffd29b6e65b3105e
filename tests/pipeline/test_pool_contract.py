# ruff: noqa: E501
"""A pooled stage (`workers: N`) whose plugin returns the wrong number of outcomes.

It must stop the run with the same "broke the batch contract" error a single
instance gets, never a bare `ValueError` traceback, and a wrong count that
evens out across members (one extra, one missing) must not shift records.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from dataflare import BatchContractError
from dataflare.model import PluginInfo, PluginKind, Record
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.runtime.pool import InstancePool, pooled_batch
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

# Loaded by the subprocess through sitecustomize: stands in for
# `load_wasm_plugin`, so `python -m dataflare run` goes through the real
# plan, pool and executor with a "guest" that answers `extra` outcomes too many.
FAKE_WASM = """
from dataflare.model import PluginInfo, PluginKind
import dataflare.plugins.wasm as wasm


class Miscount:
    def __init__(self):
        self.extra = 1

    def describe(self):
        return PluginInfo("miscount", "0.1.0", PluginKind.TRANSFORM)

    def configure(self, config):
        self.extra = int(config.get("extra", "1"))

    def transform(self, record):
        return record

    def transform_batch(self, records):
        out = list(records)
        return out + out[: self.extra] if self.extra >= 0 else out[: self.extra]

    def close(self):
        pass


def load_wasm_plugin(path, kind, **kwargs):
    return Miscount()


wasm.load_wasm_plugin = load_wasm_plugin
"""


def _pipeline(tmp_path: Path, workers: int, extra: int, count: int = 126) -> Path:
    (tmp_path / "in.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(count)))
    (tmp_path / "p.wasm").write_bytes(b"\0asm")
    path = tmp_path / "x.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            sources:
              - {{id: src, type: jsonl, config: {{path: in.jsonl}}}}
            processors:
              - {{id: miscount, type: plugin, workers: {workers}, config: {{plugin_type: transform, plugin_source: wasm, plugin_path: p.wasm, params: {{extra: {extra}}}}}}}
            sinks:
              - {{id: out, type: jsonl, config: {{path: out.jsonl}}}}
            """
        )
    )
    return path


def _run_cli(tmp_path: Path, pipeline: Path) -> subprocess.CompletedProcess[str]:
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(FAKE_WASM)
    env = {"PYTHONPATH": f"{shim}:{ROOT / 'host'}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "dataflare", "run", "--quiet", str(pipeline)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_cli_reports_a_broken_contract_the_same_way_for_any_worker_count(tmp_path, workers):
    proc = _run_cli(tmp_path, _pipeline(tmp_path, workers, extra=1))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "stage 'miscount' broke the batch contract: processing: returned" in proc.stderr
    assert "outcomes for a batch of" in proc.stderr
    assert not (tmp_path / "out.jsonl").exists() or (tmp_path / "out.jsonl").read_text() == ""


class _Member:
    def __init__(self, answers: dict[int, int]) -> None:
        self.answers = answers

    def call(self, chunk: Sequence[int]) -> list[int]:
        extra = self.answers.get(chunk[0], 0)
        out = list(chunk)
        return out + out[:extra] if extra >= 0 else out[:extra]


def test_outcomes_that_even_out_across_members_are_still_refused():
    # Chunk starting at 0 answers one too many, the one at 2 one too few: the
    # total is right, but records 2 and 3 would get the wrong outcomes.
    member = _Member({0: 1, 2: -1})
    with InstancePool(lambda: member, 2) as pool, pytest.raises(BatchContractError) as info:
        pooled_batch(pool, [0, 1, 2, 3], lambda m, c: m.call(c), stage="s")
    assert str(info.value) == (
        "stage 's' broke the batch contract: processing: returned 3 outcomes for a batch of 2 records"
    )


@given(
    size=st.integers(1, 4),
    records=st.integers(1, 40),
    data=st.data(),
)
def test_any_miscounting_member_stops_the_stage_with_the_contract_error(size, records, data):
    items = list(range(records))
    starts = data.draw(st.sets(st.sampled_from(items), min_size=1))
    extras = {s: data.draw(st.sampled_from([-1, 1, 2])) for s in starts}
    member = _Member(extras)

    def call(m: _Member, chunk: Sequence[int]) -> list[int]:
        return m.call(chunk)

    with InstancePool(lambda: member, size) as pool:
        try:
            got = pooled_batch(pool, items, call, stage="s")
        except BatchContractError as exc:
            assert exc.stage == "s" and exc.records != exc.outputs
        else:
            # No chunk started at a miscounting record: every answer was whole.
            assert got == items


def test_the_executor_stops_on_it_without_wrapping(tmp_path, monkeypatch):
    import dataflare.plugins.wasm as wasm

    class Extra:
        def describe(self) -> PluginInfo:
            return PluginInfo("extra", "0.1.0", PluginKind.TRANSFORM)

        def configure(self, config: object) -> None:
            pass

        def transform_batch(self, records: Sequence[Record]) -> list[Record]:
            return [*records, records[0]]

        def close(self) -> None:
            pass

    monkeypatch.setattr(wasm, "load_wasm_plugin", lambda *a, **k: Extra())
    plan = load_plan(_pipeline(tmp_path, 2, extra=1, count=100))
    try:
        with pytest.raises(
            BatchContractError,
            match=r"^stage 'miscount' broke the batch contract: processing: returned \d+ outcomes for a batch of \d+ records$",
        ):
            Executor(plan).run()
    finally:
        plan.close()
