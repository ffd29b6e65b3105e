"""`dataflare build [DIR]`: build a plugin project into ``DIR/build/NAME.wasm``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `build` subcommand."""
    parser = subparsers.add_parser(
        "build",
        help="build a plugin project into build/NAME.wasm",
        description=(
            "Build the plugin project in DIR (default: the project of the current folder) "
            "with its language's toolchain: componentize-py (python), cargo and wasm-tools "
            "(rust), componentize-js pinned by the project's package.json (js). A missing "
            "tool is named with how to install it, and the build fails."
        ),
    )
    parser.add_argument(
        "dir", metavar="DIR", nargs="?", type=Path, help="the project folder (with dataflare.toml)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the project; 0 when ``build/NAME.wasm`` was written."""
    from dataflare.authoring.languages import language
    from dataflare.authoring.project import load_project, project_here

    if args.dir is not None:
        project = load_project(args.dir)
    else:
        project = project_here(
            "run this in a plugin project, or give its folder (`dataflare new KIND NAME` makes one)"
        )

    def say(line: str) -> None:
        print(f"  {line}", file=sys.stderr, flush=True)

    print(
        f"building {project.kind} plugin {project.name!r} ({project.lang})",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    out = language(project.lang).build(project, say)
    size = out.stat().st_size / 2**20
    print(f"built {out} ({size:.1f} MiB) in {time.monotonic() - started:.1f} s")
    return 0
