"""What the Python guest SDK (dfbatch) costs, measured inside the guest.

Builds bench/python_guest_sdk/app.py for the filter and transform worlds
(componentize-py, ~10 s each, only when its sources changed), calls each
with batches of 1024 JSON records through the generated 0.2 bindings, and
prints the guest's own timing of each batch call (median of N), per record:

- `sdk only`: dfbatch around a plugin function that does nothing;
- `hand-written`: the example's JSON work in a plain loop over the columns;
- `with sdk`: the same work through dfbatch, as the examples run it;
- `sdk share`: `sdk only` ÷ `with sdk`, the SDK's share of the guest's time per batch.

    python bench/python_guest_sdk.py [--repeats N]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import wasmtime
from wasmtime.component import Linker

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bench" / "python_guest_sdk"
COMMON = ROOT / "host" / "dataflare" / "sdk" / "python"
OUT = ROOT / "build" / "bench" / "python_guest_sdk"
MODES = ("sdk", "plain", "example")
WORLDS = {"filter": "Filter", "transform": "Transform"}


def build(world: str) -> Path:
    """The probe component for `world`, rebuilt when a source is newer."""
    out = OUT / f"{world}.wasm"
    sources = [*SOURCE.glob("*.py"), *COMMON.glob("*.py"), *(ROOT / "wit").glob("*.wit")]
    if not out.exists() or max(p.stat().st_mtime for p in sources) > out.stat().st_mtime:
        OUT.mkdir(parents=True, exist_ok=True)
        cmd = ["componentize-py", "-q", "-d", str(ROOT / "wit"), "-w", world, "componentize"]
        subprocess.run(
            [*cmd, "app", "-p", str(SOURCE), "-p", str(COMMON), "-o", str(out)], check=True
        )
    return out


def bindings() -> ModuleType:
    """The generated `dataflare:plugin@0.2.0` host bindings, as package `sdk_probe_wit`."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dataflare",
            "bindgen",
            str(ROOT / "wit"),
            "-o",
            str(OUT / "sdk_probe_wit"),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(OUT))
    return importlib.import_module("sdk_probe_wit")


class Lines:
    """Serves the `log` import; keeps the guest's timings."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, level: Any, message: str) -> None:
        self.lines.append(message)


def batch(t: Any, size: int, n: int = 1024) -> Any:
    """n JSON records of about `size` bytes, each with a key, a timestamp and one metadata pair."""
    pad = "x" * max(0, size - 48)
    value = f'{{"a":1,"email":"alice@example.com","pad":"{pad}"}}'
    raw = len(value.encode())
    return t.Batch(
        t.BytesColumn(value * n, [raw * (i + 1) for i in range(n)], [], []),
        t.BytesColumn("k" * n, list(range(1, n + 1)), [], []),
        t.TimestampColumn(list(range(n)), []),
        t.MetadataColumn(
            list(range(n)),
            t.StringColumn("source" * n, [6 * (i + 1) for i in range(n)]),
            t.StringColumn("bench" * n, [5 * (i + 1) for i in range(n)]),
        ),
    )


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "host"))
    from dataflare.runtime.cache import default_cache
    from dataflare.runtime.engine import DEFAULT_CONFIG, get_engine
    from dataflare.runtime.sandbox import new_store

    wit = bindings()
    engine = get_engine(DEFAULT_CONFIG)
    print("| world | value | sdk only µs/rec | hand-written µs/rec | with sdk µs/rec | sdk share |")
    print("|---|---:|---:|---:|---:|---:|")
    for world, cls in WORLDS.items():
        module = getattr(wit, world)
        component = default_cache().compile(build(world).read_bytes(), DEFAULT_CONFIG)
        logs = Lines()
        linker = Linker(engine)
        linker.add_wasip2()
        module.add_imports_to_linker(linker, log=logs)
        store = new_store(engine, wasmtime.WasiConfig())
        guest = getattr(module, cls)(store, linker.instantiate(store, component))
        call = getattr(guest, f"{world}_batch")
        for size in (64, 1024):
            records = batch(wit.types, size)
            per_record = {}
            for mode in MODES:
                guest.configure([("mode", mode)])
                logs.lines.clear()
                for _ in range(args.repeats):
                    call(records)
                micros = [float(line.split()[1]) for line in logs.lines]
                per_record[mode] = statistics.median(micros) / 1024
            share = per_record["sdk"] / per_record["example"]
            print(
                f"| {world} | {size} B | {per_record['sdk']:.2f} | {per_record['plain']:.2f}"
                f" | {per_record['example']:.2f} | {share:.0%} |"
            )


if __name__ == "__main__":
    main()
