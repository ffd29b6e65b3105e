"""The options `dataflare test` and `dataflare check` share, defined once for both."""

from __future__ import annotations

import argparse

__all__ = ["KINDS", "add_plugin_options", "parse_param"]

KINDS = ("filter", "transform", "aggregate", "source", "sink")
"""The plugin kinds, in the order help texts list them."""


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
    parser.add_argument("plugin", metavar="PLUGIN", help=plugin_help)
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
