"""`dataflare bindgen`: generate typed Python host bindings from WIT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `bindgen` subcommand."""
    parser = subparsers.add_parser(
        "bindgen",
        help="generate typed Python bindings from WIT",
        description="Generate typed Python host bindings for a WIT folder or a component.",
    )
    parser.add_argument("source", type=Path, help="a WIT folder, a .wit file or a component .wasm")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output package folder")
    parser.add_argument(
        "--world",
        action="append",
        dest="worlds",
        metavar="W",
        help="generate only this world (repeatable; default: every world of the package)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in -o differ from what would be generated",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate (or with --check, verify) the bindings; the exit code."""
    # Imported on use: the generator needs Jinja, which `dataflare --help` must not load.
    from dataflare.bindgen import check, generate

    if args.check:
        stale = check(args.source, args.out, worlds=args.worlds)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        if stale:
            print("run `make bindings` (or `dataflare bindgen ...`) to regenerate", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(args.source, args.out, worlds=args.worlds):
        print(path)
    return 0
