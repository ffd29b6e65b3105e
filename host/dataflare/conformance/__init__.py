"""The conformance suite: does a component behave as its DataFlare world requires?

For plugin authors::

    dataflare check my_filter.wasm --param field=status --param value=active
    dataflare check my_filter.wasm --world filter --format json --seed 7 --examples 200

exits 0 only when no check fails, and prints one row per check (JSON schema:
``docs/conformance-schema.json``). Inside your own tests::

    pytest --dataflare-plugin my_filter.wasm --dataflare-param field=status

adds one test per check; the ``dataflare_check`` fixture runs the suite on
any path and returns a `Report` (see `dataflare.conformance.pytest_plugin`).

The checks, in order (a failure skips the checks that depend on it):

* ``world``: targets one of our worlds at a supported version, exports all
  of its functions (``--world`` pins which one).
* ``imports``: nothing beyond what the world allows; the policy is in
  `dataflare.conformance._imports` (filesystem/sockets warn, unlinkable fail).
* ``describe``: kind matches the world, parameter names unique and non-empty.
* ``configure``: the given params plus declared defaults are accepted; each
  required param left out is a ``configuration`` error, not success or a trap.
* ``resource-budget``: the standard inputs (empty, 1 MiB, non-UTF-8, unicode
  and empty metadata, no key/timestamp, extreme timestamps) run within
  ``Budget`` (memory per instance; fuel per call = base + per byte of
  records); reports peak memory and fuel per record. A runaway is caught
  by fuel, with an epoch wall-clock limit as backstop.
* ``no-trap``: no trap on standard and hypothesis-generated inputs; every
  failure must be a ``plugin-error``.
* ``determinism``: two fresh instances give the same outcomes.
* ``batch-output`` (world 0.2): every columnar result is well formed: ends
  non-decreasing UTF-8 byte offsets ending at the text's length, binary and
  absent indices increasing with empty spans, a keep bitmap of one bit per
  record, error indices in the batch, and ``emit``'s batch likewise.
* ``batch``: the batch export equals the single one record by record
  (values and error kinds), with one outcome per record; in 0.2 the records
  (non-UTF-8 values and keys, absent keys and timestamps, metadata) go as
  one columnar batch.
* ``aggregate-fold``: folding with ``aggregate-batch`` in any chunks emits
  what folding one by one from ``init`` emits.
* ``merge`` (world 0.2): folding the parts of any split from ``init`` and
  merging left to right emits the same records, in order, as one fold.
* ``source-read`` (world 0.2): ``read`` gives 1..max well-formed records,
  ``pending`` or ``end``, and ``end`` stays ``end`` until ``restore``.
* ``lifecycle`` (sources, sinks): connect, use, close succeed; use after
  close is a ``plugin-error``, never a trap; a source resumes at a checkpoint.

A component is checked through the world version it was built for (0.1.x or
0.2.x); checks of what 0.2 added are skipped for a 0.1 component, and the
report's ``world_version`` says which world was checked.

A failing property shows its smallest input (hypothesis shrinking, seeded by
``--seed``, ``--examples`` tries per check). Python API: `run_checks` returns
a `Report`; `render_text` / `render_json` present it.

Names load on first use, so importing this package (as pytest does for the
plugin in every run) costs nothing until a check actually runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataflare.lazy_classes import lazy_getattr

if TYPE_CHECKING:
    from dataflare.conformance._imports import classify_imports
    from dataflare.conformance._native import run_native_checks
    from dataflare.conformance._render import render_json, render_text
    from dataflare.conformance._results import (
        CHECK_NAMES,
        DEFAULT_EXAMPLES,
        SCHEMA_VERSION,
        Budget,
        CheckResult,
        Report,
        Status,
    )
    from dataflare.conformance._runner import run_checks

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_EXAMPLES",
    "SCHEMA_VERSION",
    "Budget",
    "CheckResult",
    "Report",
    "Status",
    "classify_imports",
    "render_json",
    "render_text",
    "run_checks",
    "run_native_checks",
]

_WHERE = {
    "CHECK_NAMES": "_results",
    "DEFAULT_EXAMPLES": "_results",
    "SCHEMA_VERSION": "_results",
    "Budget": "_results",
    "CheckResult": "_results",
    "Report": "_results",
    "Status": "_results",
    "classify_imports": "_imports",
    "render_json": "_render",
    "render_text": "_render",
    "run_checks": "_runner",
    "run_native_checks": "_native",
}


__getattr__ = lazy_getattr(__name__, {name: f"{__name__}.{m}" for name, m in _WHERE.items()})
