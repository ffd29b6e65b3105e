"""`dataflare inspect` and `dataflare test` on a Python guest component."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from dataflare.cli import main


def test_inspect_component(
    guest_path: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(guest_path("count_sum")), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["world"] == "dataflare:plugin/aggregate"
    assert facts["world_version"] == "0.2.0"
    exports = {"init", "aggregate", "aggregate-batch", "merge", "emit", "describe", "configure"}
    assert exports <= set(facts["exports"])
    assert "dataflare:plugin/log@0.2.0" in facts["imports"]
    assert [p["name"] for p in facts["params"]] == ["group_by", "sum_field"]


def test_inspect_text_summarises_wasi(
    guest_path: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(guest_path("json_filter"))]) == 0
    out = capsys.readouterr().out
    assert "world        dataflare:plugin/filter@0.2.0" in out
    assert "wasi:* interfaces (sandboxed)" in out


def test_test_component_agrees_with_its_native_twin(
    guest_path: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"value": {"email": "zoe@x.org", "n": 1}},
                {"value": "[]"},
                {"value_base64": "/w=="},
                {"key": "k", "value": {"email": 3}, "metadata": {"ü": "ñ"}},
            ]
        )
    )
    outputs = []
    for plugin in (str(guest_path("mask_email")), "transform/mask_email"):
        assert main(["test", plugin, "--records", "-i", str(records)]) == 1
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert (
        json.loads(outputs[0].splitlines()[0])["record"]["value"] == '{"email":"z***@x.org","n":1}'
    )


def test_world_option_rejects_the_wrong_kind(
    guest_path: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(guest_path("json_filter")), "--world", "sink"]) == 2
    assert "sink" in capsys.readouterr().err
