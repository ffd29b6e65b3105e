"""Fixtures for the sandbox tests: the hostile guest and a pipeline runner."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from dataflare.model import Record
from dataflare.pipeline.executor import Executor
from dataflare.pipeline.planner import load_plan
from dataflare.pipeline.stats import RunStats
from hostile_build import hostile_transform


@pytest.fixture(scope="session")
def hostile_wasm() -> Path:
    """The hostile componentize-py transform (built once per source hash)."""
    return hostile_transform()


Run = Callable[..., tuple[RunStats, list[dict[str, object]], list[dict[str, object]]]]


@pytest.fixture
def run_hostile(tmp_path: Path, hostile_wasm: Path) -> Run:
    """Run `values` through the hostile transform with `extra` YAML (limits/allow).

    Returns the stats, the records the main sink got and the dead letters
    (both as record envelopes).
    """

    def run(
        values: list[bytes | Record], extra: str = "", *, batch_size: int = 10
    ) -> tuple[RunStats, list[dict[str, object]], list[dict[str, object]]]:
        src = tmp_path / "in.jsonl"
        with src.open("w", encoding="utf-8") as handle:
            for item in values:
                rec = item if isinstance(item, Record) else Record(item)
                envelope: dict[str, object] = {
                    "value": rec.value.decode("utf-8"),
                    "metadata": dict(rec.metadata),
                }
                if rec.key is not None:
                    envelope["key"] = rec.key.decode()
                handle.write(json.dumps(envelope) + "\n")
        body = textwrap.indent(textwrap.dedent(extra).strip("\n"), "    ")
        text = f"""\
batch_size: {batch_size}
sources:
  - {{id: src, type: jsonl, config: {{path: in.jsonl, format: record}}}}
processors:
  - id: hostile
    type: plugin
    on_error: dead_letter
    dead_letter: dlq
    config: {{plugin_type: transform, plugin_source: wasm, plugin_path: {hostile_wasm}}}
{body}
sinks:
  - {{id: out, type: jsonl, config: {{path: out.jsonl, format: record}}}}
  - {{id: dlq, type: jsonl, config: {{path: dlq.jsonl, format: record}}}}
"""
        path = tmp_path / "pipeline.yaml"
        path.write_text(text, encoding="utf-8")
        stats = Executor(load_plan(path)).run()
        return stats, _lines(tmp_path / "out.jsonl"), _lines(tmp_path / "dlq.jsonl")

    return run


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
