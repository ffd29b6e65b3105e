"""`dataflare check PLUGIN`: run the conformance suite and print a table or JSON.

PLUGIN is a component (`.wasm`), a native plugin (`KIND/NAME` or a bare
name), or a `.py` file of `@dataflare.register` classes; native plugins get
the checks that apply to them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from dataflare.cli.plugin_options import add_plugin_options, parse_param, resolve_project_plugin
from dataflare.conformance import DEFAULT_EXAMPLES, Budget
from dataflare.model import PluginKind
from dataflare.plugins.kinds import AnyPlugin

__all__ = ["parse_param", "register"]  # parse_param: kept importable from here


def register(subparsers: Any) -> None:
    """Add the `check` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="check that a plugin component behaves as its world requires",
        description=(
            "Run the conformance checks on a plugin component: world and imports, describe,"
            " configure, resource budget, no trap on generated records, determinism, batch"
            " output (0.2), batch equivalence, aggregate folds, merge (0.2), source read (0.2),"
            " source/sink lifecycle; through the world version (0.1 or 0.2) the component was"
            " built for. A native plugin (KIND/NAME, or a .py file) gets describe, configure,"
            " no exception, determinism, batch, aggregate folds and merge. Exit 0 only if none"
            " fails."
        ),
    )
    add_plugin_options(
        parser,
        plugin_help="the component (.wasm), a native KIND/NAME, or a .py plugin file",
        world_help="the world it must target (default: told from its exports)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"generated examples per property check (default {DEFAULT_EXAMPLES})",
    )
    default = Budget()
    parser.add_argument(
        "--memory-mib",
        type=int,
        default=default.memory_bytes >> 20,
        help="memory budget per instance, MiB (default %(default)s)",
    )
    parser.add_argument(
        "--fuel-base",
        type=int,
        default=default.fuel_base,
        help="fuel budget per call (default %(default)s) ...",
    )
    parser.add_argument(
        "--fuel-per-byte",
        type=int,
        default=default.fuel_per_byte,
        help="... plus this much per byte of records passed in (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=default.timeout,
        help="wall-clock seconds per call (default %(default)s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the plugin named in `args`; 0 if every check passed, 1 otherwise."""
    # Imported on use: `dataflare --help` and the other subcommands stay fast.
    from dataflare.conformance import render_json, render_text, run_checks, run_native_checks

    if args.examples < 1:
        print("dataflare check: --examples must be at least 1", file=sys.stderr)
        return 2
    budget = Budget(
        memory_bytes=args.memory_mib << 20,
        fuel_base=args.fuel_base,
        fuel_per_byte=args.fuel_per_byte,
        timeout=args.timeout,
    )
    resolve_project_plugin(args)
    native = _native(args)
    if native is not None:
        label, factory = native
        report = run_native_checks(
            label, factory, params=dict(args.param), seed=args.seed, examples=args.examples
        )
    else:
        report = run_checks(
            args.plugin,
            world=PluginKind(args.world) if args.world else None,
            params=dict(args.param),
            seed=args.seed,
            examples=args.examples,
            budget=budget,
        )
    if args.format == "json":
        print(render_json(report))
    else:
        sys.stdout.write(render_text(report, color=sys.stdout.isatty()))
    return 0 if report.passed else 1


def _native(args: argparse.Namespace) -> tuple[str, Callable[[], AnyPlugin]] | None:
    """The label and class of the native plugin `args.plugin` names; None for a component."""
    from dataflare.plugins import registry
    from dataflare.plugins.plugin_file import load_plugin_file
    from dataflare.plugins.resolve import parse_spec

    spec = parse_spec(args.plugin, args.world)
    if spec.module is not None:
        kind, name, cls = load_plugin_file(spec.module).pick(spec.kind, args.name)
        return f"{args.plugin} ({kind.value}/{name})", cls
    if spec.path is not None:
        return None
    assert spec.kind is not None and spec.name is not None
    return f"{spec.kind.value}/{spec.name}", registry.get(spec.kind, spec.name)
