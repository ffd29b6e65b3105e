"""The hostile corpus: each attack is contained, reported clearly, and the host runs on.

Every test runs a real pipeline (jsonl -> hostile WASM transform -> jsonl,
dead letters to a second jsonl) in-process with the pipeline's default
limits unless the test sets its own; a good record travels with each attack
and must come out unharmed, and the next run in the same process works.
"""

from __future__ import annotations

import logging
import os

import pytest
from dataflare import PluginStopped
from dataflare.model import Record
from dataflare.pipeline.poison_bisect import MAX_CONSECUTIVE_TRAPS

KIND = "dataflare.error.kind"
MESSAGE = "dataflare.error.message"


def _meta(letter: dict[str, object]) -> dict[str, str]:
    meta = letter["metadata"]
    assert isinstance(meta, dict)
    return meta


def _values(records: list[dict[str, object]]) -> list[object]:
    return [r["value"] for r in records]


def test_reading_etc_passwd_gets_an_io_error_never_the_file(run_hostile):
    _, out, dlq = run_hostile([b"read:/etc/passwd", b"keep"])
    assert _values(out) == ["keep"]
    assert [_meta(d)[KIND] for d in dlq] == ["io"]
    assert "cannot read /etc/passwd" in _meta(dlq[0])[MESSAGE]
    assert all("root:" not in str(r) for r in out + dlq)


def test_a_granted_ro_dir_is_readable_but_not_writable(run_hostile, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("granted content")
    _, out, dlq = run_hostile(
        [b"read:/data/in.txt", b"write:/data/new.txt", b"read:/etc/passwd"],
        f"allow: {{dirs: [{{host: {data}, guest: /data, mode: ro}}]}}",
    )
    assert _values(out) == ["granted content"]
    assert [(_meta(d)[KIND], d["value"]) for d in dlq] == [
        ("io", "write:/data/new.txt"),
        ("io", "read:/etc/passwd"),
    ]
    assert not (data / "new.txt").exists()


def test_a_granted_rw_dir_is_writable(run_hostile, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _, out, dlq = run_hostile(
        [b"write:/data/new.txt"], f"allow: {{dirs: [{{host: {data}, guest: /data, mode: rw}}]}}"
    )
    assert (_values(out), dlq) == (["wrote"], [])
    assert (data / "new.txt").read_bytes() == b"pwned"


def test_env_secrets_are_invisible_unless_named(run_hostile, monkeypatch):
    monkeypatch.setenv("DATAFLARE_TEST_SECRET", "hunter2")
    monkeypatch.setenv("DATAFLARE_TEST_PUBLIC", "hello")
    _, out, _ = run_hostile([b"env"])
    assert _values(out) == [""]
    _, out, _ = run_hostile([b"env"], "allow: {env: [DATAFLARE_TEST_PUBLIC, NOT_SET_ANYWHERE]}")
    assert _values(out) == ["DATAFLARE_TEST_PUBLIC=hello"]


def test_opening_a_socket_fails_with_an_io_error(run_hostile):
    _, out, dlq = run_hostile([Record(b"socket", key=b"22"), b"keep"])
    assert _values(out) == ["keep"]
    assert [_meta(d)[KIND] for d in dlq] == ["io"]
    assert "cannot connect" in _meta(dlq[0])[MESSAGE]


def test_an_infinite_loop_is_stopped_by_the_timeout(run_hostile):
    stats, out, dlq = run_hostile(
        [b"keep", b"spin", b"keep2"],
        "limits: {timeout_ms_per_batch: 300, fuel_per_record: null}",
    )
    assert _values(out) == ["keep", "keep2"]
    assert [d["value"] for d in dlq] == ["spin"]
    assert _meta(dlq[0])[KIND] == "limit"
    assert "(time limit 0.3s per call)" in _meta(dlq[0])[MESSAGE]
    assert stats.stages["hostile"].traps >= 1


def test_an_infinite_loop_is_stopped_by_fuel_by_default(run_hostile):
    _, out, dlq = run_hostile([b"spin", b"keep"], "limits: {fuel_per_record: 100000000}")
    assert _values(out) == ["keep"]
    assert _meta(dlq[0])[KIND] == "limit"
    assert "all fuel consumed" in _meta(dlq[0])[MESSAGE]
    assert "(fuel limit 100000000 per call)" in _meta(dlq[0])[MESSAGE]


def test_allocating_4_gib_hits_the_memory_limit(run_hostile):
    _, out, dlq = run_hostile([b"hog", b"keep"], "limits: {memory_mb: 64}")
    assert _values(out) == ["keep"]
    assert _meta(dlq[0])[KIND] == "limit"
    assert "memory limit 67108864 bytes" in _meta(dlq[0])[MESSAGE]


def test_stdout_flood_is_discarded_without_the_capability(run_hostile, caplog):
    with caplog.at_level(logging.INFO, logger="dataflare.plugin"):
        _, out, dlq = run_hostile([b"flood"])
    assert (_values(out), dlq) == (["flood"], [])
    plugin_lines = [r for r in caplog.records if r.name.startswith("dataflare.plugin.")]
    assert [r.getMessage() for r in plugin_lines] == [
        f"{16 * 1024 * 1024} bytes of stdout output discarded (not allowed; grant "
        "`allow: {stdout: true}`)"
    ]


def test_stdout_flood_is_capped_with_the_capability(run_hostile, caplog):
    with caplog.at_level(logging.INFO, logger="dataflare.plugin"):
        _, out, _ = run_hostile([b"flood"], "allow: {stdout: true}")
    assert _values(out) == ["flood"]
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("dataflare.plugin.")]
    assert len(lines) == 64 + 1  # 64 KiB of 1 KiB lines, then the note
    assert lines[-1].endswith("bytes of stdout output dropped (limit 65536 bytes per call)")


def test_a_record_over_max_record_bytes_is_refused(run_hostile):
    _, out, dlq = run_hostile([b"big:2000000", b"keep"], "limits: {max_record_bytes: 1000000}")
    assert _values(out) == ["keep"]
    assert _meta(dlq[0])[KIND] == "limit"
    assert (
        "returned a record of 2000000 bytes; limit max_record_bytes=1000000"
        in (_meta(dlq[0])[MESSAGE])
    )


def test_a_100_mib_record_is_refused_by_the_copy_limit(run_hostile):
    _, out, dlq = run_hostile([b"big:104857600", b"keep"])
    assert _values(out) == ["keep"]
    assert _meta(dlq[0])[KIND] == "limit"
    assert (
        "too much data is being copied between the host and the guest" in (_meta(dlq[0])[MESSAGE])
    )


def test_malformed_utf8_metadata_fails_only_its_record(run_hostile):
    _, out, dlq = run_hostile([Record(b"keep", metadata={"bad": "\udcff"}), b"keep2"])
    assert _values(out) == ["keep2"]
    assert _meta(dlq[0])[KIND] == "serialization"
    assert "metadata 'bad' is not valid UTF-8" in _meta(dlq[0])[MESSAGE]


def test_a_poison_record_is_isolated_and_its_batch_mates_continue(run_hostile):
    values = [b"keep%d" % i for i in range(10)]
    values[6] = b"trap"
    stats, out, dlq = run_hostile(values, batch_size=10)
    assert _values(out) == [v.decode() for v in values if v != b"trap"]
    assert [(d["value"], _meta(d)[KIND]) for d in dlq] == [("trap", "trap")]
    assert stats.stages["hostile"].errors == 1


def test_a_plugin_that_traps_on_every_record_is_stopped(run_hostile):
    with pytest.raises(PluginStopped) as info:
        run_hostile([b"trap"] * 40, batch_size=40)
    assert (
        f"stage 'hostile' stopped: its plugin trapped on {MAX_CONSECUTIVE_TRAPS} records in a row"
        in str(info.value)
    )
    # The host is still fine: the next run in this process works.
    _, out, _ = run_hostile([b"keep"])
    assert _values(out) == ["keep"]


def test_the_sandbox_grants_nothing_to_the_host_process_itself():
    # A sanity check that the tests above did not leak grants into this process.
    assert "DATAFLARE_TEST_SECRET" not in os.environ
