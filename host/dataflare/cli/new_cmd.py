"""`dataflare new KIND NAME --lang LANG`: start a plugin project in a folder of its own."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dataflare.authoring.project import KINDS, LANGS

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `new` subcommand."""
    parser = subparsers.add_parser(
        "new",
        help="create a plugin project (source, WIT, build setup, tests, pipeline)",
        description=(
            "Create a standalone plugin project: the plugin source with one parameter, the "
            "WIT it targets (copied and pinned), its build configuration, example records, "
            "a pipeline that runs it, and pytest tests (conformance and golden outputs). "
            "Then `dataflare build` in that folder."
        ),
    )
    parser.add_argument("kind", metavar="KIND", choices=KINDS, help=" | ".join(KINDS))
    parser.add_argument("name", metavar="NAME", help="plugin name: lowercase, digits and _")
    parser.add_argument(
        "--lang", choices=LANGS, default="python", help="guest language (default: python)"
    )
    parser.add_argument(
        "--dir", type=Path, help="the project folder, new or empty (default: ./NAME)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the project and say what to do next."""
    from dataflare.authoring.scaffold import new_project

    dest: Path = args.dir if args.dir is not None else Path(args.name)
    project = new_project(args.kind, args.name, args.lang, dest)
    shown = os.path.relpath(project.root)
    shown = shown if not shown.startswith("..") else str(project.root)
    print(f"created {project.kind} plugin {project.name!r} ({project.lang}) in {shown}/")
    print("next:")
    print(f"  cd {shown}")
    print(f"  dataflare build            # -> build/{project.name}.wasm")
    print("  dataflare check            # the conformance checks for its world")
    print("  python -m pytest           # its tests: conformance and golden outputs")
    print("  dataflare run pipeline.yaml")
    return 0
