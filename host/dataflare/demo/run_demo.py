"""The demo run behind `python -m dataflare.demo` (the README's `make demo`), with no server.

Generates the sample events into ``build/demo/`` (once), runs
``pipeline.yaml`` (WASM filter -> WASM transform -> native aggregate -> a
SQLite table) through ``dataflare run``, then prints the table and the wall
time. The WASM plugins are the Python guest examples, built by
``make -C guest-examples/python all`` (the `demo` make target does that first).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dataflare.cli import main as cli_main
from dataflare.demo.dataset import ensure_events

__all__ = ["main"]

GUESTS = ("json_filter", "mask_email")
DEFAULT_EVENTS = 50_000
"""About 15 s on a busy 2-core machine (the Python guests run at ~3-4k records/s).

``--events 100000`` takes about 30 s there.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m dataflare.demo", description=__doc__)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events to generate")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated events")
    parser.add_argument("--build-dir", type=Path, default=Path("build"), help="the build folder")
    args = parser.parse_args(argv)
    console = Console()
    started = time.monotonic()
    build: Path = args.build_dir.resolve()
    missing = [g for g in GUESTS if not (build / "guests" / "python" / f"{g}.wasm").is_file()]
    if missing:
        print(
            f"demo: missing WASM plugins {', '.join(missing)} in {build / 'guests' / 'python'}; "
            "build them with: make -C guest-examples/python all",
            file=sys.stderr,
        )
        return 2
    folder = build / "demo"
    events = ensure_events(folder, args.events, args.seed)
    pipeline = folder / "pipeline.yaml"
    shutil.copyfile(Path(__file__).with_name("pipeline.yaml"), pipeline)
    (folder / "demo.db").unlink(missing_ok=True)
    console.print(f"[bold]DataFlare demo[/bold]: {args.events:,} events from {events}")
    code = cli_main(["run", str(pipeline)])
    if code != 0:
        return code
    table = Table(title=f"revenue_by_country in {folder / 'demo.db'}")
    for column in ("country", "events", "revenue"):
        table.add_column(column, justify="left" if column == "country" else "right")
    with sqlite3.connect(folder / "demo.db") as db:
        query = 'SELECT "group", count, sum FROM revenue_by_country ORDER BY sum DESC'
        for group, count, total in db.execute(query):
            table.add_row(group, f"{count:,}", f"{total:,.2f}")
    console.print(table)
    console.print(f"wall time: {time.monotonic() - started:.1f}s")
    return 0
