"""Render a `Report`: a rich table for people, JSON for machines."""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dataflare.conformance._results import Report, Status

__all__ = ["render_json", "render_text"]

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render_json(report: Report) -> str:
    """The report as JSON (schema: docs/conformance-schema.json)."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def render_text(report: Report, *, width: int = 120, color: bool = False) -> str:
    """The report as a table of checks: name, status, detail and any smallest input."""
    table = Table(title=f"dataflare check {report.plugin}", title_justify="left", expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail / smallest failing input", overflow="fold")
    for check in report.checks:
        detail = Text(check.detail)
        if check.input is not None:
            detail.append(f"\nsmallest input: {check.input}", style="italic")
        if check.status is Status.FAIL:
            for note in check.notes[:3]:
                detail.append(f"\n{note}", style="dim")
        table.add_row(
            check.name, Text(check.status.value.upper(), style=_STYLE[check.status]), detail
        )
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    console.print(table)
    kind = f"{report.kind} plugin" if report.kind else "component"
    if report.world_version:
        kind += f" (checked as world dataflare:plugin@{report.world_version})"
    verdict = "PASSED" if report.passed else f"FAILED ({', '.join(report.failures)})"
    console.print(
        f"{kind}: {verdict}  [seed {report.seed}, {report.examples} examples]", markup=False
    )
    return out.getvalue()
