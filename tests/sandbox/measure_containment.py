"""Measure how each hostile case is contained and how long it takes (a script, not a test).

    python tests/sandbox/measure_containment.py

Prints a Markdown table: case, limit, outcome, time to contain. Guest cases
call the hostile transform through the WASM adapter with the pipeline's
default limits (unless the case says otherwise), timing one batch call of
one record; input cases time the loader or a whole small run.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from dataflare import PluginStopped  # noqa: E402
from dataflare.errors import ConfigFileError, DataFlareError  # noqa: E402
from dataflare.model import Record  # noqa: E402
from dataflare.pipeline.config import load_config  # noqa: E402
from dataflare.pipeline.executor import Executor  # noqa: E402
from dataflare.pipeline.planner import load_plan  # noqa: E402
from dataflare.pipeline.poison_bisect import Isolator  # noqa: E402
from dataflare.pipeline.stage_limits import DEFAULT_LIMITS, StageLimits  # noqa: E402
from dataflare.plugins.wasm import WasmTransform, load_wasm_plugin  # noqa: E402
from dataflare.runtime.capabilities import Capabilities  # noqa: E402
from hostile_build import hostile_transform  # noqa: E402

WASM = hostile_transform()
ROWS: list[tuple[str, str, str, float]] = []


def plugin(limits: StageLimits = DEFAULT_LIMITS) -> WasmTransform:
    """The hostile transform as a pipeline stage would load it."""
    loaded = load_wasm_plugin(
        WASM, "transform", name="hostile", stage="hostile",
        limits=limits.runtime_limits(), engine_config=limits.engine_config(),
        caps=Capabilities(), fuel_per_record=limits.fuel_per_record,
        max_record_bytes=limits.max_record_bytes,
    )  # fmt: skip
    assert isinstance(loaded, WasmTransform)
    return loaded


def outcome_text(outcome: object) -> str:
    """One line: the error class and message, or what the guest returned."""
    if isinstance(outcome, Record):
        return f"record returned: value {outcome.value[:40]!r}"
    text = f"{type(outcome).__name__}: {outcome}"
    return text if len(text) < 230 else text[:230] + "..."


def guest(case: str, limit: str, record: Record, limits: StageLimits = DEFAULT_LIMITS) -> None:
    """Time one batch call of `record` and keep the row."""
    p = plugin(limits)
    start = time.perf_counter()
    try:
        outcome: object = p.transform_batch([record])[0]
    except DataFlareError as exc:
        outcome = exc
    elapsed = time.perf_counter() - start
    after = p.transform_batch([Record(b"keep")])[0]
    assert isinstance(after, Record), "the plugin did not recover"
    p.close()
    ROWS.append((case, limit, outcome_text(outcome), elapsed))


def timed(case: str, limit: str, action: Callable[[], str]) -> None:
    """Time `action` (which returns the outcome text)."""
    start = time.perf_counter()
    text = action()
    ROWS.append((case, limit, text, time.perf_counter() - start))


def main() -> None:
    """Run every case and print the table."""
    guest("reads /etc/passwd", "allow.dirs: none", Record(b"read:/etc/passwd"))
    guest("reads env secrets", "allow.env: none", Record(b"env"))
    guest("opens a socket", "network never granted", Record(b"socket", key=b"5432"))
    guest("loops forever", "fuel_per_record 1e10 (default)", Record(b"spin"))
    guest("loops forever, fuel off", "timeout_ms_per_batch 30000 (default)", Record(b"spin"),
          StageLimits(fuel_per_record=None))  # fmt: skip
    guest("allocates 4 GiB", "memory_mb 256 (default)", Record(b"hog"))
    guest("floods stdout (16 MiB)", "allow.stdout: false", Record(b"flood"))
    guest("returns a 100 MiB record", "wasmtime host-copy cap", Record(b"big:104857600"))
    guest("returns a 2 MB record", "max_record_bytes 1000000", Record(b"big:2000000"),
          StageLimits(max_record_bytes=1_000_000))  # fmt: skip
    guest("malformed UTF-8 in metadata", "WIT strings are UTF-8",
          Record(b"keep", metadata={"bad": "\udcff"}))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bomb = base / "bomb.yaml"
        lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
        bomb.write_text("\n".join(lines) + "\n")

        def load_bomb() -> str:
            try:
                load_config(bomb, direct_types=lambda kind: [])
            except ConfigFileError as exc:
                return exc.problems[0].split(": ", 2)[-1]
            return "loaded (NOT contained)"

        timed("YAML alias bomb (9^10 nodes)", "100000 nodes after expansion", load_bomb)
        with (base / "big.jsonl").open("wb") as handle:
            handle.write(b'{"a": "')
            handle.truncate(1 << 30)
        (base / "nul.jsonl").write_bytes(b'{"a": 1}\n{"a"\x00: 1}\n\x00\x00\n')

        def run_file(name: str) -> str:
            path = base / f"{name}.yaml"
            path.write_text(
                f"sources:\n  - {{id: src, type: jsonl, config: {{path: {name}.jsonl}}}}\n"
                "processors:\n  - {id: f, type: plugin, on_error: skip, config: {plugin_type: "
                "filter, plugin_name: json_filter, params: {field: a, value: 1}}}\n"
                "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"
            )
            try:
                stats = Executor(load_plan(path)).run()
            except DataFlareError as exc:
                return f"{type(exc).__name__}: {exc}"
            f = stats.stages["f"]
            return f"run completed: {f.records_out} kept, {f.errors} failed (serialization)"

        timed("1 GiB line in an input file (sparse)", "max_line_bytes 16 MiB",
              lambda: run_file("big"))  # fmt: skip
        timed("NUL bytes in an input file", "per-record parse errors",
              lambda: run_file("nul"))  # fmt: skip

    p = plugin()
    batch = [Record(b"keep%d" % i) for i in range(500)]
    batch[321] = Record(b"trap")

    def poison() -> str:
        isolator = Isolator("hostile")
        outcomes = isolator.run(batch, p.transform_batch)
        bad = [i for i, o in enumerate(outcomes) if not isinstance(o, Record)]
        return f"only record {bad} failed; {isolator.traps} trapped calls to find it"

    timed("poison record in a batch of 500", "bisection on fresh instances", poison)

    looping = [Record(b"keep%d" % i) for i in range(500)]
    looping[123] = Record(b"spin")

    def loop_in_batch() -> str:
        isolator = Isolator("hostile")
        outcomes = isolator.run(looping, p.transform_batch)
        bad = [i for i, o in enumerate(outcomes) if not isinstance(o, Record)]
        return f"only record {bad} failed ({outcomes[bad[0]]}); {isolator.traps} trapped calls"

    timed("loops forever, inside a batch of 500", "timeout 30 s per batch, then fuel per record",
          loop_in_batch)  # fmt: skip

    def every() -> str:
        try:
            Isolator("hostile").run([Record(b"trap")] * 500, p.transform_batch)
        except PluginStopped as exc:
            return f"PluginStopped: {exc}"[:230] + "..."
        return "not stopped"

    timed("traps on every record (500)", "8 consecutive traps", every)
    p.close()

    print("| case | limit | outcome | time to contain |")
    print("|---|---|---|---|")
    for case, limit, text, elapsed in ROWS:
        cell = text.replace("|", "\\|").replace("\n", " ")
        print(f"| {case} | {limit} | {cell} | {elapsed * 1000:.0f} ms |")
    print(json.dumps({"cases": len(ROWS)}), file=sys.stderr)


if __name__ == "__main__":
    main()
