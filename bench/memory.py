"""Peak RSS against the bytes in flight, one fresh process per case (issue 11, item 3).

    python bench/memory.py [--quick] [--host PATH]

Each case runs in a child process that loads a guest, builds the batch, makes
one batch call through the plugin adapter (or one JSON Lines pipeline run) and
reports its peak RSS (VmHWM), the high-water mark of the whole process. Bytes in flight
are the batch's value bytes; the target is peak RSS <= 4x those bytes + 200 MB.
`--host` measures another checkout's `host/` (e.g. before a change). A case
whose record is refused (`limit`) still reports its peak: refusing must not
cost memory either.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20
MB = 1_000_000
TARGET_FACTOR = 4
TARGET_SLACK = 200 * MB


def _peak() -> int:
    """This process's peak RSS in bytes.

    VmHWM, not `ru_maxrss`: Linux carries `ru_maxrss` over from the parent
    across fork and exec, so a child of a big process would report its parent's.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes whose field "a" is "x"."""
    head, tail = b'{"b":"', b'","a":"x"}'
    return head + b"y" * (size - len(head) - len(tail)) + tail


def _objects_line(size: int) -> bytes:
    """A JSON Lines line of about `size` bytes made of small objects (a big tree)."""
    count = size // 8
    return b'{"id":1,"xs":[' + b'{"a":1},' * (count - 1) + b'{"a":2}]}'


# (label, guest, kind, records, bytes per record, memory_mb or None, quick)
CASES: list[tuple[str, str, str, int, int, int | None, bool]] = [
    ("Rust echo transform", "echo", "transform", 1, MIB, None, True),
    ("Rust echo transform", "echo", "transform", 64, MIB, None, True),
    ("Rust echo transform", "echo", "transform", 1024, 16 * 1024, None, True),
    ("Rust echo transform", "echo", "transform", 1, 16 * MIB, None, True),
    ("Rust json_filter filter", "json_filter", "filter", 64, MIB, None, True),
    ("Rust json_filter filter", "json_filter", "filter", 1, 16 * MIB, None, True),
    ("Rust json_filter filter", "json_filter", "filter", 1, 16 * MIB, 2048, False),
    ("Rust json_filter filter", "json_filter", "filter", 1, 64 * MIB, None, True),
    ("Rust json_filter filter", "json_filter", "filter", 500, MIB, None, False),
    ("JSONL file -> JSONL file (one line of small objects)", "", "jsonl", 1, 64 * MB, None, True),
]


def child(args: list[str]) -> None:
    """Run one case in this process and print a JSON line of figures."""
    from dataflare import Record, RecordTooLarge
    from dataflare.runtime.limits import Limits

    kind, guest, count, size = args[0], args[1], int(args[2]), int(args[3])
    memory_mb = None if args[4] == "-" else int(args[4])
    if kind == "jsonl":
        _child_jsonl(size)
        return
    from dataflare.plugins.wasm import load_wasm_plugin

    limits = Limits(memory_bytes=None if memory_mb is None else memory_mb * MIB)
    plugin: Any = load_wasm_plugin(guest, limits=limits)
    if kind == "filter":
        plugin.configure({"field": "a", "value": "x"})
        records = [Record(value=_body(size)) for _ in range(count)]
    else:
        records = [Record(value=bytes(size)) for _ in range(count)]
    base = _peak()
    call = plugin.filter_batch if kind == "filter" else plugin.transform_batch
    try:
        out = call(records)
        limited = sum(isinstance(o, RecordTooLarge) for o in out)
        failed = sum(isinstance(o, Exception) for o in out) - limited
        outcome = "ok" if not limited and not failed else f"{limited} limit, {failed} other"
        if kind == "transform":
            good = [o for o in out if not isinstance(o, Exception)]
            assert all(o.value == records[0].value for o in good)
    except Exception as exc:  # the figure still counts: how the call failed
        outcome = f"call failed: {type(exc).__name__}: {str(exc)[:80]}"
    peak = _peak()
    print(json.dumps({"base": base, "peak": peak, "bytes": count * size, "outcome": outcome}))


def _child_jsonl(size: int) -> None:
    from dataflare import run_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        src, dst, pipe = Path(tmp, "in.jsonl"), Path(tmp, "out.jsonl"), Path(tmp, "p.yaml")
        line = _objects_line(size)
        src.write_bytes(line + b"\n")
        nbytes = len(line)
        del line
        pipe.write_text(
            "sources:\n  - id: in\n    type: jsonl\n"
            f"    config: {{path: {src}, max_line_bytes: '{nbytes + 16}'}}\n"
            f"sinks:\n  - id: out\n    type: jsonl\n    config: {{path: {dst}}}\n"
            f"state: {tmp}/state.json\n"
        )
        base = _peak()
        try:
            run_pipeline(pipe)
            outcome = "ok" if dst.stat().st_size == nbytes + 1 else "output differs"
        except Exception as exc:
            outcome = f"run failed: {type(exc).__name__}: {str(exc)[:80]}"
        peak = _peak()
    print(json.dumps({"base": base, "peak": peak, "bytes": nbytes, "outcome": outcome}))


def _guest(name: str) -> str:
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "guest-examples" / "rust"), name],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return str(ROOT / "build" / "guests" / "rust" / f"{name}.wasm")


def rows(quick: bool = False, host: Path | None = None) -> list[str]:
    """The markdown table: one row per case, each measured in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(host or ROOT / "host")}
    out = [
        "| case | records x bytes | MB in flight | peak RSS MB | RSS after load MB"
        " | peak / bytes | target MB (4x + 200) | met | outcome |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for label, name, kind, count, size, memory_mb, in_quick in CASES:
        if quick and not in_quick:
            continue
        path = _guest(name) if name else "-"
        proc = subprocess.run(
            [sys.executable, __file__, "--child", kind, path, str(count), str(size),
             "-" if memory_mb is None else str(memory_mb)],
            capture_output=True, text=True, env=env, check=False, timeout=900,
        )  # fmt: skip
        per = f"{size / MIB:g} MiB" if size % MIB == 0 else f"{size / 1024:g} KiB"
        if kind == "jsonl":
            per = f"{size / MB:g} MB"
        what = label + ("" if memory_mb is None else f", memory_mb {memory_mb}")
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1][:100]
            out.append(f"| {what} | {count} x {per} | | | | | | | child failed: {tail} |")
            continue
        fig = json.loads(proc.stdout.strip().splitlines()[-1])
        nbytes, peak, base = fig["bytes"], fig["peak"], fig["base"]
        target = TARGET_FACTOR * nbytes + TARGET_SLACK
        out.append(
            f"| {what} | {count} x {per} | {nbytes / MB:.1f} | {peak / MB:,.0f} | {base / MB:.0f}"
            f" | {peak / nbytes:.1f}x | {target / MB:,.0f} | {'yes' if peak <= target else 'NO'}"
            f" | {fig['outcome']} |"
        )
        print(out[-1], file=sys.stderr, flush=True)
    return out


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the slowest cases")
    parser.add_argument("--host", type=Path, help="the host/ folder to measure")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print("\n".join(rows(args.quick, args.host)))


if __name__ == "__main__":
    main()
