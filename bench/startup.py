"""Start-up time of the `dataflare` command: best of N fresh processes per command.

Each sample starts a new interpreter, as a user's shell does, and times it
from outside (process start to exit). Best of N, not the median: start-up is
a floor, and what the machine does meanwhile only adds to it. The target for
`dataflare --help` is 0.3 s; `python -c pass` is the interpreter's own share.

    python bench/startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", ["-c", "pass"]),
    ("dataflare --help", ["-m", "dataflare", "--help"]),
    ("dataflare --version", ["-m", "dataflare", "--version"]),
    ("python -c 'import dataflare'", ["-c", "import dataflare"]),
]
TARGET = 0.3
"""Seconds `dataflare --help` may take (issue 12)."""


def best_of(args: list[str], repeats: int) -> float:
    """The fastest of `repeats` runs of `python <args>`, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def rows(repeats: int = 3) -> list[str]:
    """The markdown table: one row per command."""
    out = [f"| command | best of {repeats} | target |", "|---|---:|---:|"]
    for label, args in COMMANDS:
        seconds = best_of(args, repeats)
        target = f"{TARGET:.1f} s" if label == "dataflare --help" else "-"
        out.append(f"| `{label}` | {seconds:.3f} s | {target} |")
    return out


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    print("\n".join(rows(parser.parse_args().repeats)))


if __name__ == "__main__":
    main()
