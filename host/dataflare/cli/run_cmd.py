"""`dataflare run PIPELINE.yaml [--dry-run] [--quiet] [--admin HOST:PORT]`: validate, then run.

With ``--admin`` the run serves its admin API (`dataflare.pipeline.admin`):
status, Prometheus metrics and hot plug, on loopback unless ``--admin-token``
(or ``DATAFLARE_ADMIN_TOKEN``) is given.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataflare.pipeline import Executor

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `run` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a YAML pipeline",
        description="Validate a pipeline file, then run it: sources -> processors -> sinks.",
    )
    parser.add_argument("pipeline", help="the pipeline YAML file")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and print the plan; run nothing"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress display and no summary"
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="count",
        default=0,
        help="more logs: -v info, -vv debug (plugin log lines are tagged with their stage id)",
    )
    parser.add_argument(
        "--admin",
        metavar="HOST:PORT",
        help="serve the admin API (GET /status, GET /metrics, POST /stages/ID/reload and "
        "/stages/ID/plugin) here; loopback only unless --admin-token is given",
    )
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        default=os.environ.get("DATAFLARE_ADMIN_TOKEN"),
        help="the bearer token every POST to the admin API needs (default: "
        "$DATAFLARE_ADMIN_TOKEN); required to listen beyond loopback",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local (default): this process; dask: one task per source partition on Dask "
        "distributed (needs dataflare[dask])",
    )
    parser.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="with --engine dask: worker processes of the local cluster (default: one per core)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --engine dask: use this existing cluster instead of a local one",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the pipeline named in `args`; exit code 0, 2 for a refused --admin, 130 interrupted.

    SIGINT or SIGTERM stops the run after the batch in flight (drained and
    committed, plugins closed); a second one aborts it. A drained unbounded run
    exits 0; a bounded run stopped early exits 130.
    """
    with _stage_logging(args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    # Imported on use, like every subcommand's work: `dataflare --help` loads none of it.
    from rich.console import Console

    from dataflare.cli.run_display import Progress, summary_table
    from dataflare.pipeline import Executor, load_plan
    from dataflare.pipeline.admin import check_bind, parse_address
    from dataflare.pipeline.interrupt import stop_on_signals

    # A bad address is refused before the plan loads any component.
    address = parse_address(args.admin) if args.admin else None
    if address is not None:
        check_bind(address[0], args.admin_token)
    if args.engine == "dask":
        return _run_dask(args)
    plan = load_plan(args.pipeline)
    # A pipeline writing records to stdout keeps stdout for them alone.
    data_on_stdout = any(
        s.config.type == "stdout" or s.config.plugin.name == "stdout" for s in plan.sinks
    )
    console = Console(stderr=data_on_stdout)
    if args.dry_run:
        plan.close()
        console.print(plan.describe(), markup=False, highlight=False)
        return 0
    executor = Executor(plan)
    live = console.is_terminal and not args.quiet and not data_on_stdout
    try:
        with (
            _admin(executor, address, args.admin_token),
            stop_on_signals(threading.Event()) as stop,
        ):
            executor.stop = stop
            with Progress(executor.stats, console, enabled=live) as progress:
                executor.on_batch = progress.update
                executor.run()
    finally:
        if not args.quiet:
            console.print(summary_table(executor.stats, title=f"pipeline {plan.config.name}"))
            console.file.flush()  # before any error message on stderr
    # A stop is how an unbounded run ends (drained: 0); a bounded one stopped early is cut short.
    stats = executor.stats
    return 130 if stats.interrupted and not stats.unbounded else 0


def _run_dask(args: argparse.Namespace) -> int:
    """``--engine dask``: plan here, run the partitions on the cluster, print the totals."""
    from rich.console import Console

    from dataflare.errors import AdminRefused
    from dataflare.pipeline import load_plan
    from dataflare.scaleout import dask_client, plan_for_dask, run_on_dask

    console = Console(stderr=True)
    if args.admin:
        raise AdminRefused("--admin is not available with --engine dask")
    if args.dry_run:
        plan = load_plan(args.pipeline)
        try:
            text = plan.describe() + "\n" + plan_for_dask(plan).describe()
        finally:
            plan.close()
        Console().print(text, markup=False, highlight=False)  # stdout, as a local dry run
        return 0
    with dask_client(args.dask_workers, args.scheduler) as client:
        summary = run_on_dask(args.pipeline, client)
    if not args.quiet:
        console.print(f"{len(summary.results)} partition(s) on Dask", highlight=False)
        for stage, (got, out, errors) in summary.counts.items():
            console.print(
                f"  {stage}: in {got}, out {out}, errors {errors}", markup=False, highlight=False
            )
    return 0


@contextmanager
def _admin(
    executor: Executor, address: tuple[str, int] | None, token: str | None
) -> Iterator[None]:
    """Serve `executor`'s admin API at `address` (if any) for the run's duration.

    Its URL goes to stderr whatever --quiet says: with port 0 it is the only
    way to learn the port.
    """
    if address is None:
        yield
        return
    from dataflare.pipeline.admin import AdminServer

    try:
        server = AdminServer(executor, *address, token=token)
    except BaseException:
        executor.plan.close()  # the run never starts: nothing else will close its plugins
        raise
    with server:
        print(f"admin API on {server.url}", file=sys.stderr, flush=True)
        yield


@contextmanager
def _stage_logging(verbose: int) -> Iterator[None]:
    """Send `dataflare.*` logs to stderr, tagged by stage, for this run only.

    The previous logger state comes back afterwards, so calling the CLI
    in-process (tests, notebooks) leaves the host's logging as it was.
    """
    from dataflare.cli.run_display import StageLogHandler

    logger = logging.getLogger("dataflare")
    saved = (logger.level, logger.propagate)
    handler = StageLogHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logger.propagate = False  # no second copy through a handler on the root logger
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
