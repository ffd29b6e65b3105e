"""The `dataflare` command line: the only place that prints for users and exits.

Each subcommand lives in its own module exposing `register(subparsers)`,
which adds its parser and sets `func` (a callable taking the parsed args and
returning an exit code). A subcommand module imports only what its parser
needs at the top and the rest inside `func`, so that `dataflare --help`
loads neither wasmtime, nor the generator, nor any connector's dependencies
(`bench/startup.py` times it; a test lists what it imports).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from dataflare.errors import DataFlareError

__all__ = ["main"]

# Subcommand modules (`dataflare.cli.<name>_cmd`), in help order.
_SUBCOMMANDS = ("run", "new", "build", "inspect", "test", "check", "bindgen")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="dataflare", description="Run data pipelines of native and WebAssembly plugins."
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"dataflare.cli.{name}_cmd").register(subparsers)
    return parser


class _VersionAction(argparse.Action):
    """`--version`, reading the installed package's metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        import dataflare

        print(f"{parser.prog} {dataflare.__version__}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the subcommand, map DataFlare errors to exit code 2."""
    from dataflare.compile_notice import compile_notices

    args = build_parser().parse_args(argv)
    try:
        with compile_notices():  # a long first compile must not look like a hang
            code: int = args.func(args)
    except DataFlareError as exc:
        print(f"dataflare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dataflare: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _broken_pipe()
    return code


BROKEN_PIPE_EXIT = 141
"""What a shell reports for a command killed by SIGPIPE (128 + 13), as `| head` does."""


def _broken_pipe() -> int:
    """The reader of stdout went away (`| head`): stop quietly, without a traceback.

    Python would flush stdout again at exit and print a second error, so stdout
    is pointed at /dev/null first (the recipe in the `signal` module's docs).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE_EXIT
