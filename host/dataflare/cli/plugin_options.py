"""The options `dataflare test` and `dataflare check` share, defined once for both."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataflare.authoring.project import (
    KINDS,  # the plugin kinds, in the order help lists them
    MANIFEST,
    load_project,
    project_here,
)
from dataflare.errors import ProjectError

__all__ = ["KINDS", "add_plugin_options", "parse_param", "resolve_project_plugin"]


def parse_param(text: str) -> tuple[str, str]:
    """``"k=v"`` -> ``("k", "v")``; argparse reports the error as a usage error."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_plugin_options(
    parser: argparse.ArgumentParser, *, plugin_help: str, world_help: str
) -> None:
    """Add PLUGIN, `--name`, `--world` and `-p/--param NAME=VALUE` to a subcommand's parser."""
    parser.add_argument(
        "plugin",
        metavar="PLUGIN",
        nargs="?",
        help=f"{plugin_help}, or a plugin project folder (default: the project of the "
        "current folder, its build/NAME.wasm)",
    )
    parser.add_argument("--name", help="which plugin of a .py file that registers several")
    parser.add_argument("--world", choices=KINDS, help=world_help)
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        type=parse_param,
        default=[],
        metavar="NAME=VALUE",
        help="a parameter for configure (repeat for several)",
    )


def resolve_project_plugin(args: argparse.Namespace) -> None:
    """Point `args.plugin` at a project's built component when PLUGIN is a project or absent.

    In a plugin project (a folder with ``dataflare.toml``, or one below it)
    `dataflare check` with no PLUGIN checks ``build/NAME.wasm``, and `--world`
    defaults to the project's kind.
    """
    if args.plugin is None:
        project = project_here(
            "name a .wasm component, a native KIND/NAME or a .py file, or run this in a "
            "plugin project (`dataflare new`)",
            lead="no PLUGIN given, and ",
        )
    elif Path(args.plugin, MANIFEST).is_file():
        project = load_project(Path(args.plugin))
    else:
        return
    if not project.component.is_file():
        raise ProjectError(
            f"{project.component}: not built yet; run `dataflare build {project.root}` first"
        )
    args.plugin = str(project.component)
    if args.world is None:
        args.world = project.kind
