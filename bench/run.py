"""`make bench`: typed-call, pipeline, load-time and thread benchmarks in one table.

Every figure is a median over repeated runs made by this script in this run;
ratios compare figures measured side by side. Progress goes to stderr, the
table to stdout and to build/bench/RESULTS.md, or with `--record` (`make
bench-record`) to the tracked bench/RESULTS.md. Guests are built with `make` first.

    python bench/run.py [--quick] [--record] [--only SECTIONS]

(a) typed call on WIT 0.2 batch exports: the generated bindings' fast path
    (`dataflare.abi.typedfunc`, through the `_fastc` C extension when it is
    built) vs the stock path (wasmtime-py's own value conversion and
    `Func.__call__`, `stock_call`), and the fast path's pure-Python codec.
(b) the same fast call vs the C-API floor: the same call with its argument
    value arrays built once outside the timed loop (result still freed).
(c) records/s through whole pipelines, JSON Lines file in and out, this tree
    vs the last 0.1 release (`old_release`), fresh processes, interleaved.
(d) cold (empty cache, fresh process) vs cached load per guest language.
(e) 1 vs 2 threads: two pooled 0.2 adapters of a guest on two threads.
(f) peak RSS against the bytes in flight, one fresh process per case
    (`bench/memory.py`; target: 4x the batch's bytes + 200 MB).
(g) start-up of the `dataflare` command, best of 3 fresh processes
    (`bench/startup.py`; target: `dataflare --help` within 0.3 s).
(h) the byte-pointer ABI anchor (issue 13): the same json_filter as a core
    module called through linear memory (`bench/byte_abi`, `byte_abi_call`),
    the 0.1 typed `filter-batch`, the 0.2 columnar path (adapter and bare
    call) and a native `json.loads` loop, interleaved.
(i) large records: 1024 records of 16 KiB through the 0.2 Rust guests in
    one batch (0.1 refused it).
(j) a followed JSON Lines pipeline in steady state vs the bounded run of the
    same pipeline, same process (`bench/follow_throughput.py`; target 0.8x).
(k) the Dask engine: 1 vs 2 worker processes on the Rust filter and Python
    transform pipelines, and a worker's start-up (transfer, cold compile, warm
    load) (`bench/scaleout.py`; target: 2 workers at least 1.7x 1 worker).
(s) hot-plug swap pause of a cached Rust and a cached Python component, p50 and
    p99 over 20 swaps in a running pipeline (`bench/swap_pause.py`).

    python bench/run.py --only h    # some sections only; no RESULTS.md is written
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import byte_abi_call  # noqa: E402
import follow_throughput  # noqa: E402
import guest_cost  # noqa: E402
import load_times  # noqa: E402
import memory  # noqa: E402
import old_release  # noqa: E402
import scaleout  # noqa: E402
import startup  # noqa: E402
import swap_pause  # noqa: E402
import time_split  # noqa: E402
from dataflare import GuestTrap, PluginKind, Record, columns  # noqa: E402
from dataflare._wit import types as wit  # noqa: E402
from dataflare._wit_v0_1 import filter as wit01_filter  # noqa: E402
from dataflare._wit_v0_1 import transform as wit01_transform  # noqa: E402
from dataflare._wit_v0_1 import types as wit01  # noqa: E402
from dataflare.abi import rt, val_memory  # noqa: E402
from dataflare.abi._wasmtime_private import context_address, func_call  # noqa: E402
from dataflare.abi.typedfunc import TypedFunc  # noqa: E402
from dataflare.plugins import wit_utf8  # noqa: E402
from dataflare.plugins.wasm import adapter_for  # noqa: E402
from dataflare.plugins.wasm_columns import WasmColumnsFilter, WasmColumnsTransform  # noqa: E402
from dataflare.plugins.wit_columns import bitmap_to_keep, to_wit_batch  # noqa: E402
from dataflare.runtime import load_component  # noqa: E402
from dataflare.runtime.instance import PluginInstance  # noqa: E402
from dataflare.runtime.pool import InstancePool  # noqa: E402
from stock_call import StockCall, plain  # noqa: E402

GUESTS = {
    "rust": ["echo", "json_filter", "mask_email"],
    "python": ["json_filter", "mask_email"],  # mask_email: (s) too
    "js": ["json_filter"],
}
STOCK_BUDGET = 512 * 1024  # bytes per call above which the stock path is not run


def log(msg: str) -> None:
    """Progress on stderr."""
    print(msg, file=sys.stderr, flush=True)


def guest(lang: str, name: str) -> Path:
    """Build (make) and return a guest component."""
    subprocess.run(
        ["make", "-s", "-C", str(ROOT / "guest-examples" / lang), name],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return ROOT / "build" / "guests" / lang / f"{name}.wasm"


def median_time(fn: Callable[[], Any], repeats: int, budget: float = 3.0) -> float:
    """Median seconds per `fn()` over `repeats` runs (fewer if over `budget`)."""
    fn()  # warm-up: arena sizing, caches
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget and len(times) >= 3:
            break
    return statistics.median(times)


def record(size: int) -> wit.Record:
    """A WIT record with a `size`-byte JSON value and two metadata pairs."""
    body = b'{"id":1,"status":"active","email":"a@b.org","pad":"'
    value = (body + b"x" * size)[: size - 2] + b'"}'
    return wit.Record(b"key-1", value, 1_700_000_000_000, [("source", "bench"), ("n", "1")])


def interleaved(
    fns: list[Callable[[], Any]],
    repeats: int,
    budget: float = 8.0,
    stat: Callable[[list[float]], float] = statistics.median,
) -> list[float]:
    """Median (or `stat`) seconds of each function, sampled round-robin so all see the same load.

    The machine is shared: timing one function after another lets a burst of
    someone else's work land on one side of a ratio only.
    """
    for fn in fns:
        fn()  # warm-up
    samples: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    for _ in range(repeats):
        for fn, out in zip(fns, samples, strict=True):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget and len(samples[0]) >= 3:
            break
    return [stat(s) for s in samples]


def fastest(fns: list[Callable[[], Any]], repeats: int, budget: float = 20.0) -> list[float]:
    """`interleaved`, but the fastest sample of each: on a machine loaded past its cores a
    median measures the scheduler, while each function's best sample is the one that ran
    undisturbed, and every function had the same chances at one."""
    return interleaved(fns, repeats, budget, stat=min)


# ---------------------------------------------------------------- (a), (b)


def records(size: int, n: int, *, paused: bool = False, full: bool = True) -> list[Record]:
    """`n` records of a `size`-byte JSON value; with `full`, a key, a timestamp, 2 metadata pairs.

    With `paused`, every other record says `status: "paused"` (same length),
    so a filter on `status == active` keeps half.
    """
    body = b'{"id":1,"status":"active","email":"a@b.org","pad":"'
    value = (body + b"x" * size)[: size - 2] + b'"}'
    other = value.replace(b'"active"', b'"paused"') if paused else value
    if not full:
        return [Record(value if i % 2 == 0 else other) for i in range(n)]
    meta = {"source": "bench", "n": "1"}
    return [
        Record(value if i % 2 == 0 else other, b"key-1", 1_700_000_000_000, meta) for i in range(n)
    ]


def wit_batch(recs: list[Record], *, utf8_bytes: bool = True) -> wit.Batch:
    """`recs` as the WIT 0.2 `batch` the host's adapters send (through Arrow).

    Its `text`s are UTF-8 bytes, as `wit_utf8`'s bindings take them; with
    `utf8_bytes=False`, `str`s as the generated bindings (and wasmtime-py) take them.
    """
    return to_wit_batch(columns.from_records(recs), utf8_bytes=utf8_bytes)


def anchor_values(size: int, n: int) -> list[wit01.Record]:
    """(h)'s full records as 0.1 WIT records, every other one paused (`columns_call.py`)."""
    return v0_1_records(records(size, n, paused=True))


class Target:
    """A 0.2 component and batch export for (a)/(b), and the outputs it must give."""

    def __init__(
        self,
        label: str,
        name: str,
        kind: PluginKind,
        *,
        lang: str = "rust",
        config: list[tuple[str, str]] | None = None,
        sizes: tuple[int, ...] = (64, 1024, 16 * 1024),
    ) -> None:
        self.label = label
        self.sizes = sizes
        self.kind = kind
        self.loaded = load_component(guest(lang, name), kind)
        assert self.loaded.version.startswith("0.2"), self.loaded.version
        transform = kind is PluginKind.TRANSFORM
        self.world = wit_utf8.Transform if transform else wit_utf8.Filter
        self.config = (
            [("tag", "bench")] if transform else [("field", "status"), ("value", "active")]
        )  # fmt: skip
        if config is not None:
            self.config = config
        self.export = "transform-batch" if transform else "filter-batch"
        # the codecs the host's adapters call with: `text` as UTF-8 bytes (`wit_utf8`)
        self.params = (wit_utf8.BATCH,)
        self.ret: Any = wit_utf8._TRANSFORM_OUTCOME if transform else wit_utf8._FILTER_OUTCOME
        self.echo = name == "echo"

    def check(self, batch: wit.Batch, got: Any) -> None:
        """`got` is what this target must answer for `batch` (filters keep all; echo echoes)."""
        assert not got.errors, got.errors[:3]
        if self.kind is PluginKind.FILTER:
            n = len(batch.values.ends)
            assert bitmap_to_keep(got.keep, n).to_pylist() == [True] * n
        elif self.echo:
            assert plain(got.records) == plain(batch)

    def bind(self) -> tuple[Any, TypedFunc[Any], TypedFunc[Any], StockCall]:
        """A fresh configured instance, its fast export (C), its Python-codec and stock twins."""
        inst = PluginInstance(self.loaded, self.world)
        world: Any = inst.call(lambda w: w)
        assert isinstance(world.configure(self.config), rt.Ok)
        func = world._cx.func(None, self.export)
        fast = TypedFunc(world._cx, func, self.params, self.ret)
        py = TypedFunc(world._cx, func, self.params, self.ret, native=False)
        stock = StockCall(world._cx.store, func)
        assert not py.native
        if not fast.native:
            log("  (a/b) the C extension is not built: the fast column is the Python codec")
        return inst, fast, py, stock


def typed_calls(repeats: int) -> list[str]:
    """Rows for (a) and (b), on WIT 0.2 batch exports."""
    rows = [
        "| guest export | value | batch | stock rec/s | Python codec rec/s | fast rec/s"
        " | fast/stock | floor rec/s | fast/floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    targets = [
        Target("Rust echo `transform-batch`", "echo", PluginKind.TRANSFORM),
        Target("Rust json_filter `filter-batch`", "json_filter", PluginKind.FILTER),
        Target(
            "Python mask_email `transform-batch`",
            "mask_email",
            PluginKind.TRANSFORM,
            lang="python",
            config=[("field", "email")],
            sizes=(64,),
        ),
    ]
    for target in targets:
        inst, fast, py, stock = target.bind()
        for size in target.sizes:
            for n in (1, 64, 1024):
                recs = records(size, n)
                batch = wit_batch(recs)
                head = f"| {target.label} | {size} B | {n} |"
                try:
                    got = fast(batch)
                    target.check(batch, got)
                except GuestTrap as exc:  # wasmtime caps the bytes copied per call
                    rows.append(f"{head} refused by wasmtime: {exc} ||||||")
                    log(f"  (a/b) {rows[-1]}")
                    inst.close()
                    inst, fast, py, stock = target.bind()
                    continue
                assert py(batch) == got
                fns: list[Callable[[], Any]] = [
                    lambda b=batch, f=fast: f(b),  # type: ignore[misc]
                    floor_call(py, batch),
                    lambda b=batch, f=py: f(b),  # type: ignore[misc]
                ]
                run_stock = size * n <= STOCK_BUDGET
                if run_stock:
                    as_str = wit_batch(recs, utf8_bytes=False)  # what wasmtime-py takes
                    assert plain(stock(as_str)) == plain(got)
                    fns.append(lambda b=as_str, f=stock: f(b))  # type: ignore[misc]
                t_fast, t_floor, t_py, *t_rest = fastest(fns, repeats, budget=8.0)
                if run_stock:
                    t_stock = t_rest[0]
                    stock_cell = f"{n / t_stock:,.0f}"
                    ratio = f"**{t_stock / t_fast:.1f}x**"
                    floor_ratio = f" ({t_stock / t_floor:.1f}x)"
                else:
                    stock_cell, ratio, floor_ratio = "not run", "-", ""
                rows.append(
                    f"{head} {stock_cell} | {n / t_py:,.0f} | {n / t_fast:,.0f} | {ratio} |"
                    f" {n / t_floor:,.0f}{floor_ratio} | **{t_floor / t_fast:.0%}** |"
                )
                log(f"  (a/b) {rows[-1]}")
        inst.close()
    return rows


def floor_call(tf: TypedFunc[Any], arg: Any) -> Callable[[], None]:
    """The C call alone: argument arrays prebuilt once, result freed, nothing lifted."""
    arena = val_memory._Arena()
    params = arena.alloc(val_memory.VAL)
    tf._lowers[0](arg, params, arena)
    result = (ctypes.c_ubyte * val_memory.VAL)()
    res = ctypes.addressof(result)
    store = tf._cx.store

    def call() -> None:
        err = func_call(tf._func_addr, context_address(store), params, 1, res, 1)
        assert not err, "floor call failed"
        val_memory.release(res)

    # the closure must own what the addresses point into
    call.keep_alive = (arena, result)  # type: ignore[attr-defined]

    return call


# ---------------------------------------------------------------- (c)

OLD_GUESTS = {"rust": ["json_filter"], "python": ["mask_email"]}
"""What (c) builds in the old release's tree (`old_release.prepare`)."""


def pipelines(n: int, repeats: int) -> list[str]:
    """Rows for (c): records/s through file -> plugin -> file, this tree vs the 0.1 release.

    Every run is a fresh process (`old_release.run_pipeline`), this tree's and
    the old release's interleaved case by case, so both see the same load.
    A second table bounds each WASM pipeline's speed-up by what it cannot lose:
    this tree's host floor (no stage) and the guest's own batch call.
    """
    try:
        old = old_release.prepare(OLD_GUESTS)
    except old_release.ReleaseError as exc:
        sys.exit(f"(c) cannot build the old release {old_release.RELEASE}:\n{exc}")
    rows = [
        "| pipeline | records | 0.1 release s | 0.1 release rec/s | this tree s"
        " | this tree rec/s | this ÷ 0.1 | CPU s 0.1 / this | this ÷ 0.1 by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    filter_params = {"field": "status", "value": "active"}
    cases: list[tuple[str, str, str, tuple[str, str]]] = [
        ("JSONL -> Rust-guest filter -> JSONL", "filter", "wasm", ("rust", "json_filter")),
        ("JSONL -> Python-guest transform -> JSONL", "transform", "wasm", ("python", "mask_email")),
        ("JSONL -> native Python filter -> JSONL", "filter", "native", ("", "json_filter")),
        ("JSONL -> native Python transform -> JSONL", "transform", "native", ("", "mask_email")),
        ("JSONL -> JSONL, no stage (the host's floor)", "none", "", ("", "")),
    ]
    trees = [
        ("old", old, lambda lang, name: old_release.guest(old, lang, name)),
        ("new", ROOT, guest),
    ]
    with tempfile.TemporaryDirectory(prefix="dataflare-bench-") as tmp:
        src = Path(tmp) / "in.jsonl"
        lines: list[bytes] = []
        for i in range(n):
            status = "active" if i % 2 else "inactive"
            line = json.dumps({"id": i, "status": status, "email": f"u{i}@ex.org"})
            lines.append(line[:62].ljust(62).encode())
        src.write_bytes(b"".join(v + b"\n" for v in lines))
        runs: list[tuple[int, Path, Path, Path]] = []  # (case, tree, yaml, output)
        for i, (_, kind, source, (lang, name)) in enumerate(cases):
            params = "{field: status, value: active}" if kind == "filter" else "{field: email}"
            for label, tree, built in trees:
                where = (
                    f"plugin_path: {built(lang, name)}" if source == "wasm"
                    else f"plugin_name: {name}"
                )  # fmt: skip
                out = Path(tmp) / f"out{i}{label}.jsonl"
                yaml = Path(tmp) / f"p{i}{label}.yaml"
                stage = (
                    ""
                    if kind == "none"
                    else f"processors:\n  - id: p\n    type: plugin\n    config:\n"
                    f"      plugin_type: {kind}\n      plugin_source: {source}\n"
                    f"      {where}\n      params: {params}\n"
                )
                yaml.write_text(
                    f"name: bench\nbatch_size: 1024\n"
                    f"sources:\n  - id: in\n    type: jsonl\n    config: {{path: {src}}}\n"
                    f"{stage}"
                    f"sinks:\n  - id: out\n    type: jsonl\n    config: {{path: {out}}}\n"
                )
                runs.append((i, tree, yaml, out))
        times: dict[tuple[int, Path], list[float]] = {(i, t): [] for i, t, _, _ in runs}
        cpus: dict[tuple[int, Path], list[float]] = {(i, t): [] for i, t, _, _ in runs}
        for rep in range(repeats):
            log(f"  (c) round {rep + 1} of {repeats}")
            for i, tree, yaml, out in runs:
                wall, cpu = old_release.run_pipeline(tree, yaml)
                times[i, tree].append(wall)
                cpus[i, tree].append(cpu)
                expected = n // 2 if cases[i][1] == "filter" else n
                written = sum(1 for _ in out.open())
                assert written == expected, (cases[i][0], tree, written, expected)
    for i, (label, *_) in enumerate(cases):
        t_old = statistics.median(times[i, old])
        t_new = statistics.median(times[i, ROOT])
        c_old, c_new = statistics.median(cpus[i, old]), statistics.median(cpus[i, ROOT])
        rows.append(
            f"| {label} | {n:,} | {t_old:.3f} | {n / t_old:,.0f} | {t_new:.3f}"
            f" | {n / t_new:,.0f} | **{t_old / t_new:.1f}x** | {c_old:.3f} / {c_new:.3f}"
            f" | {c_old / c_new:.1f}x |"
        )
        log(f"  (c) {rows[-1]}")
    # The bound: 0.1's CPU per record over (this tree's floor + the guest's own call).
    floor = statistics.median(cpus[len(cases) - 1, ROOT]) / n
    rows += [
        "",
        "What bounds the WASM rows (CPU µs per record; bound = 0.1 pipeline ÷ (floor + guest)):",
        "",
        "| pipeline | 0.1 pipeline | this tree | host floor (no stage)"
        " | guest's bare 0.2 call, default limits"
        " | stage overhead (this - floor - guest) | bound | measured by CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    batch = lines[:1024]
    guests = [
        (0, guest("rust", "json_filter"), PluginKind.FILTER, filter_params),
        (1, guest("python", "mask_email"), PluginKind.TRANSFORM, {"field": "email"}),
    ]
    for i, path, kind, config in guests:
        cost = guest_cost.cpu_per_record(path, kind, config, batch)
        c_old = statistics.median(cpus[i, old]) / n
        c_new = statistics.median(cpus[i, ROOT]) / n
        rows.append(
            f"| {cases[i][0]} | {c_old * 1e6:.2f} | {c_new * 1e6:.2f} | {floor * 1e6:.2f}"
            f" | {cost * 1e6:.2f} | {(c_new - floor - cost) * 1e6:.2f}"
            f" | {c_old / (floor + cost):.1f}x | {c_old / c_new:.1f}x |"
        )
        log(f"  (c) {rows[-1]}")
    return rows


# ---------------------------------------------------------------- (d)


def loads(repeats: int) -> list[str]:
    """Rows for (d): cold vs cached load per guest language (fresh process each)."""
    rows = ["| guest | size MB | cold ms | cached ms | cold/cached |", "|---|---:|---:|---:|---:|"]
    for lang, name in (("rust", "json_filter"), ("python", "json_filter"), ("js", "json_filter")):
        wasm = guest(lang, name)
        cold: list[float] = []
        cached: list[float] = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="dataflare-bench-") as tmp:
                first = load_times.sample(wasm, Path(tmp))
                assert first["hits"] == 0
                cold.append(first["load"])
                again = load_times.sample(wasm, Path(tmp))
                assert again["hits"] == 1
                cached.append(again["load"])
        c, w = statistics.median(cold), statistics.median(cached)
        size = wasm.stat().st_size / 1e6
        rows.append(
            f"| {lang}/{name} | {size:.1f} | {c * 1e3:,.0f} | {w * 1e3:,.1f} | {c / w:,.0f}x |"
        )
        log(f"  (d) {rows[-1]}")
    return rows


# ---------------------------------------------------------------- (e)


def threads(n_batches: int, repeats: int) -> list[str]:
    """Rows for (e): the 0.2 adapters' columnar calls on one pooled instance vs two threads."""
    rows = ["| workload | threads | rec/s | speed-up |", "|---|---:|---:|---:|"]
    cases: list[tuple[str, PluginKind, Path, dict[str, str]]] = [
        ("Rust filter", PluginKind.FILTER, guest("rust", "json_filter"),
         {"field": "status", "value": "active"}),
        ("Python-guest transform", PluginKind.TRANSFORM, guest("python", "mask_email"),
         {"field": "email"}),
    ]  # fmt: skip
    batch = columns.from_records(
        [
            Record(json.dumps({"id": i, "status": "active", "email": f"u{i}@ex.org"}).encode())
            for i in range(1024)
        ]
    )
    for label, kind, path, config in cases:
        loaded = load_component(path, kind)
        method = "filter_columns" if kind is PluginKind.FILTER else "transform_columns"
        pools = [InstancePool(_maker(adapter_for(loaded), loaded, config), size) for size in (1, 2)]
        works: list[Callable[[], Any]] = []
        for pool in pools:
            # one zero-copy slice per member, as the executor's pooled stages cut a batch
            parts = [batch.slice(i * 512, 512) for i in range(2)] if pool.size == 2 else [batch]

            def work(pool: InstancePool[Any] = pool, parts: Any = parts, m: str = method) -> None:
                for _ in range(n_batches):
                    pool.run(lambda p, part: getattr(p, m)(part), parts)

            works.append(work)
        t_one, t_two = interleaved(works, repeats, budget=30.0)
        for pool in pools:
            pool.close()
        for size, t in ((1, t_one), (2, t_two)):
            rate = n_batches * batch.num_rows / t
            rows.append(f"| {label} | {size} | {rate:,.0f} | {t_one / t:.2f}x |")
            log(f"  (e) {rows[-1]}")
    return rows


def _maker(adapter: Any, loaded: Any, config: dict[str, str]) -> Callable[[], Any]:
    def make() -> Any:
        plugin = adapter(loaded)
        plugin.configure(config)
        return plugin

    return make


# ---------------------------------------------------------------- (h)

V0_1_JSON_FILTER = ROOT / "tests" / "fixtures" / "v0_1" / "json_filter.rust.wasm"
"""The 0.1 build of the Rust json_filter (host02's fixture, built from the 0.1 sources)."""

V0_1_MASK_EMAIL = V0_1_JSON_FILTER.with_name("mask_email.rust.wasm")

FILTER_CONFIG = {"field": "status", "value": "active"}


def json_loads_loop(values: list[bytes], field: str, value: str) -> list[bool]:
    """Native Python: decode each value and compare the field (all values are objects here)."""
    return [json.loads(v).get(field) == value for v in values]


def v0_1_filter() -> tuple[PluginInstance[Any], Callable[[list[Any]], list[Any]]]:
    """The 0.1 Rust json_filter, configured; its generated `filter-batch` (C codec, no limits)."""
    loaded = load_component(V0_1_JSON_FILTER, PluginKind.FILTER)
    assert loaded.version.startswith("0.1"), loaded.version
    inst = PluginInstance(loaded, wit01_filter.Filter)
    world: Any = inst.call(lambda w: w)
    assert isinstance(world.configure(list(FILTER_CONFIG.items())), rt.Ok)
    return inst, world.filter_batch


def v0_1_records(recs: list[Record]) -> list[wit01.Record]:
    """`recs` as 0.1 WIT records (`list<u8>` value and key, metadata pairs)."""
    return [wit01.Record(r.key, r.value, r.timestamp, list(r.metadata.items())) for r in recs]


class Inline:
    """Stands for an adapter's `PluginInstance`: calls run on the calling thread.

    The runtime runs every guest call on the plugin's own thread; on a loaded
    machine each hand-off waits for the scheduler (milliseconds), on an idle
    one it costs ~30 µs. Inline shows the adapter's cost without it.
    """

    def __init__(self, world: Any, name: str) -> None:
        self.world = world
        self.name = name

    def call(self, fn: Callable[[Any], Any], *, fuel: int | None = None) -> Any:
        """`fn(world)` here and now."""
        return fn(self.world)


def inline_filter(loaded: Any) -> WasmColumnsFilter:
    """A configured 0.2 filter adapter whose guest calls run on the calling thread."""
    adapter = WasmColumnsFilter(loaded)
    adapter.configure(FILTER_CONFIG)
    world: Any = adapter.instance.call(lambda w: w)
    adapter._instance = Inline(world, adapter.instance.name)  # type: ignore[assignment]
    return adapter


def v0_2_filter() -> tuple[PluginInstance[Any], Any, WasmColumnsFilter]:
    """The 0.2 Rust json_filter twice, configured: its bare generated world, and the adapter."""
    loaded = load_component(guest("rust", "json_filter"), PluginKind.FILTER)
    assert loaded.version.startswith("0.2"), loaded.version
    inst = PluginInstance(loaded, wit_utf8.Filter)  # the bindings the adapter calls
    world: Any = inst.call(lambda w: w)
    assert isinstance(world.configure(list(FILTER_CONFIG.items())), rt.Ok)
    adapter = WasmColumnsFilter(loaded)
    adapter.configure(FILTER_CONFIG)
    return inst, world, adapter


def size_label(size: int) -> str:
    """64 B, 1 KiB, 16 KiB."""
    return f"{size} B" if size < 1024 else f"{size // 1024} KiB"


def byte_abi(repeats: int) -> list[str]:
    """Rows for (h): byte-pointer ABI vs 0.1 typed vs 0.2 columnar vs native, batch 1024."""
    try:
        module = byte_abi_call.build()
    except byte_abi_call.BuildError as exc:
        sys.exit(f"(h) cannot build the byte-ABI anchor (make -C bench/byte_abi):\n{exc}")
    field, value = FILTER_CONFIG["field"], FILTER_CONFIG["value"]
    anchor = byte_abi_call.ByteAbiFilter(module, field, value)
    inst01, typed01 = v0_1_filter()
    inst02, world02, adapter = v0_2_filter()
    inline = inline_filter(adapter.loaded)
    rows = [
        "| value | record | batch | byte-pointer ABI rec/s | 0.1 typed `filter-batch` rec/s"
        " | 0.2 `filter_columns` rec/s | same, inline rec/s | 0.2 bare `filter-batch` rec/s"
        " | native Python `json.loads` loop rec/s | 0.2 ÷ byte ABI | 0.2 ÷ 0.1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    split_rows = [
        "| value | record | " + " | ".join(time_split.PARTS) + " | sum | `filter_columns` |",
        "|---|---|" + "---:|" * (len(time_split.PARTS) + 2),
    ]
    n = 1024
    shapes = [(False, "value only"), (True, "+ key, timestamp, 2 metadata pairs")]
    for size, (full, shape) in [(size, shape) for size in (64, 1024) for shape in shapes]:
        recs = records(size, n, paused=True, full=full)
        values = [r.value for r in recs]
        recs01 = v0_1_records(recs)
        batch = columns.from_records(recs)
        wb = to_wit_batch(batch)
        native = json_loads_loop(values, field, value)
        assert native.count(True) == n // 2
        assert anchor.decide(values) == bytes(native), "byte ABI and native disagree"
        assert typed01(recs01) == [rt.Ok(k) for k in native], "0.1 and native disagree"
        got = adapter.filter_columns(batch)
        assert got.keep.to_pylist() == native and not got.errors, "0.2 adapter and native disagree"
        assert inline.filter_columns(batch).keep.to_pylist() == native
        bare = world02.filter_batch(wb)
        assert bitmap_to_keep(bare.keep, n).to_pylist() == native, "0.2 bare and native disagree"
        t_abi, t_01, t_02, t_inline, t_bare, t_native = fastest(
            [
                lambda v=values: anchor.decide(v),  # type: ignore[misc]
                lambda r=recs01: typed01(r),  # type: ignore[misc]
                lambda b=batch: adapter.filter_columns(b),  # type: ignore[misc]
                lambda b=batch: inline.filter_columns(b),  # type: ignore[misc]
                lambda b=wb: world02.filter_batch(b),  # type: ignore[misc]
                lambda v=values: json_loads_loop(v, field, value),  # type: ignore[misc]
            ],
            repeats,
        )
        rows.append(
            f"| {size_label(size)} | {shape} | {n} | {n / t_abi:,.0f} | {n / t_01:,.0f}"
            f" | {n / t_02:,.0f} | {n / t_inline:,.0f} | {n / t_bare:,.0f} | {n / t_native:,.0f}"
            f" | **{t_abi / t_02:.2f}** ({t_abi / t_inline:.2f}; {t_abi / t_bare:.2f})"
            f" | **{t_01 / t_02:.1f}x** ({t_01 / t_inline:.1f}x; {t_01 / t_bare:.1f}x) |"
        )
        log(f"  (h) {rows[-1]}")
        parts, whole = time_split.split(
            adapter, world02, batch, floor_call(world02._filter_batch, wb), fastest, repeats
        )
        cells = " | ".join(f"{t * 1e6:,.0f}" for t in parts.values())
        split_rows.append(
            f"| {size_label(size)} | {shape} | {cells} | {sum(parts.values()) * 1e6:,.0f}"
            f" | {whole * 1e6:,.0f} |"
        )
        log(f"  (h) split, µs per batch of {n}: {split_rows[-1]}")
    rows += ["", "Where the 0.2 adapter's time goes (µs per batch of 1024, fastest samples):", ""]
    rows += split_rows
    adapter.close()
    inst01.close()
    inst02.close()
    return rows


# ---------------------------------------------------------------- (i)


def large_records(repeats: int) -> list[str]:
    """Rows for (i): one batch of 1024 records of 16 KiB through the 0.2 Rust guests (and 0.1)."""
    n, size = 1024, 16 * 1024
    recs = records(size, n, paused=True)
    batch = columns.from_records(recs)
    wb = to_wit_batch(batch)
    mib = batch.column(1).nbytes / (1 << 20)
    rows = [
        "| guest, path | records | value | calls | fastest s | rec/s | MiB/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    head = f"{n} | {size_label(size)}"
    # 0.1: the same batch as one typed call of each 0.1 build (tests/fixtures/v0_1)
    inst01, typed01 = v0_1_filter()
    loaded = load_component(V0_1_MASK_EMAIL, PluginKind.TRANSFORM)
    mask01 = PluginInstance(loaded, wit01_transform.Transform)
    mask01_world: Any = mask01.call(lambda w: w)
    assert isinstance(mask01_world.configure([("field", "email")]), rt.Ok)
    recs01 = v0_1_records(recs)
    for label, call in (
        ("Rust json_filter 0.1 `filter-batch`", typed01),
        ("Rust mask_email 0.1 `transform-batch`", mask01_world.transform_batch),
    ):
        try:
            t = time.perf_counter()
            call(recs01)
            t = time.perf_counter() - t
            rows.append(
                f"| {label} | {head} | 1 | {t:.3f} (one run) | {n / t:,.0f} | {mib / t:,.1f} |"
            )
        except GuestTrap as exc:
            reason = str(exc).split("guest trapped: ", 1)[-1][:140]
            rows.append(f"| {label} | {head} | 1 | refused by wasmtime: {reason} |||")
        log(f"  (i) {rows[-1]}")
    inst01.close()
    mask01.close()
    inst02, world02, adapter = v0_2_filter()
    mask = WasmColumnsTransform(load_component(guest("rust", "mask_email"), PluginKind.TRANSFORM))
    mask.configure({"field": "email"})
    mask_inst = PluginInstance(mask.loaded, wit_utf8.Transform)
    mask_world: Any = mask_inst.call(lambda w: w)
    assert isinstance(mask_world.configure([("field", "email")]), rt.Ok)
    half = [i % 2 == 0 for i in range(n)]
    assert adapter.filter_columns(batch).keep.to_pylist() == half
    assert bitmap_to_keep(world02.filter_batch(wb).keep, n).to_pylist() == half
    masked = mask.transform_columns(batch)
    assert masked.batch.num_rows == n and not masked.errors
    assert b"a@b.org" not in masked.batch.column(1)[0].as_py()
    assert not mask_world.transform_batch(wb).errors
    cases: list[tuple[str, int, Callable[[], Any]]] = [
        ("Rust json_filter 0.2 `filter_columns`", len(list(adapter._pieces(batch))),
         lambda: adapter.filter_columns(batch)),
        ("Rust json_filter 0.2 bare `filter-batch`", 1, lambda: world02.filter_batch(wb)),
        ("Rust mask_email 0.2 `transform_columns`", len(list(mask._pieces(batch))),
         lambda: mask.transform_columns(batch)),
        ("Rust mask_email 0.2 bare `transform-batch`", 1, lambda: mask_world.transform_batch(wb)),
    ]  # fmt: skip
    times = fastest([fn for _, _, fn in cases], repeats)
    for (label, calls, _), t in zip(cases, times, strict=True):
        rows.append(f"| {label} | {head} | {calls} | {t:.3f} | {n / t:,.0f} | {mib / t:,.0f} |")
        log(f"  (i) {rows[-1]}")
    for closing in (adapter, mask, inst02, mask_inst):
        closing.close()
    return rows


NOTES = [
    "## Notes: the targets missed, and what bounds them",
    "",
    "From the tables above, and from profiles taken while writing the bench",
    "(2026-11-29, load 6-13 on 2 cores: cProfile with a CPU-time timer and the source",
    "read inline; `perf record` of a pipeline looping in steady state).",
    "",
    "- **(h) 0.2 ÷ 0.1 ≥ 5x at 64 B is bounded by the anchor itself.** At 64 B the",
    "  0.1 typed call is only ~4x slower than the byte-pointer ABI with values only",
    "  (~6x with key, timestamp and metadata), so a 0.2 path as fast as the anchor",
    "  would reach only that; the bare 0.2 call reaches ~0.8 of the anchor, the",
    "  adapter ~0.6. Per batch of 64 B values the adapter's own parts are small (time",
    "  split, idle machine: 87 µs host prep, 36 µs codec, 8 µs bitmap, and 78 µs for",
    "  the hand-off to the guest thread; inline the adapter reaches 0.70); 0.82 ms is",
    "  wasmtime + the guest's parse, the anchor's cost too.",
    "- **(h) 0.2 ÷ byte ABI with metadata.** The byte ABI carries values only; with a",
    "  key, a timestamp and 2 metadata pairs per record the 0.2 batch carries 2048",
    "  metadata pairs. As one WIT `metadata-entry` record each (WIT 0.2.0 before",
    "  a71ba10), host prep was ~1.2-1.6 ms per batch, a frozen `MetadataEntry`",
    "  dataclass per pair. They now cross as a `metadata-column` (a `list<u32>` of",
    "  record indices, names and values as two string columns) built from the Arrow",
    "  map's buffers: host prep 1.0-1.25 ms -> 0.19-0.28 ms a batch at 64 B, measured",
    "  side by side with the tree before (`bench/time_split.py`'s host prep).",
    "- **(c) pipelines ≥ 5x.** Not reachable with these guests under default limits, by",
    "  the bound table: bound = 0.1's CPU per record ÷ (this tree's floor, JSONL in and",
    "  out with no stage, + the guest's own 0.2 call under default limits). On an idle",
    "  machine (2026-11-29, 03:45 UTC run): Rust filter 7.5 µs ÷ (0.56 + 1.18) = 4.3x,",
    "  measured 3.4x (3.0x by CPU); Python transform 35 µs ÷ (0.56 + 19.4) = 1.7x,",
    "  measured 1.6x. Under load (6-13 on 2 cores) the same bound was 3.0-3.2x. Fuel",
    "  metering (on by default: `limits.fuel_per_record`) doubles the Rust guest's",
    "  ~0.6 µs per record; the stage's own overhead beyond floor and guest is ~0.8 µs",
    "  (Rust) and ~2 µs (Python) per record, of which the hand-off of each call to the",
    "  instance's guest thread (the bound on calls blocked in WASI, issue 11) is",
    "  ~80-130 µs per batch ((h)'s time split).",
    "  - Rust filter, perf in steady state (under load, before the padded-line fix):",
    "    27% guest code, 32% host Python (per batch: executor, adapter, JSON Lines",
    "    source and sink), 11% kernel (I/O, futex, task switches), 8% numpy, 6% libc,",
    "    5% Arrow, 1.7% wasmtime's runtime. The largest host part was the source's",
    "    bulk JSON check: this bench's lines are padded with spaces, and every padded",
    "    value was skimmed again alone; it is now vouched for in bulk (0.3 µs a record).",
    "  - Python transform, perf: 74% of the process's CPU is the guest (CPython in",
    "    wasm: `_PyEval_EvalFrameDefault` 19%, dlmalloc/dlfree 6%), host Python 9%. The",
    "    0.2 guest's batch call costs ~15.5 µs per record without fuel against ~31 µs",
    "    for the 0.1 guest's; the rest is the interpreter running the plugin's",
    "    `json.loads`/`dumps` per record, and fuel metering (x1.6). The host's adapter",
    "    adds ~1.5 µs per record (`transform_columns` against the bare call).",
    "",
]
"""The closing notes of RESULTS.md (issue 13: a missed target shows what bounds it)."""


SECTIONS = "acdefghijks"
"""Section letters in run order; (b) is measured with (a)."""


def results_path(record: bool) -> Path:
    """Where a full run writes its tables: the tracked file only when asked to record."""
    # A plain `make bench` must not leave the checkout dirty with one machine's figures.
    return ROOT / "bench" / "RESULTS.md" if record else ROOT / "build" / "bench" / "RESULTS.md"


def main() -> None:
    """Run every section (or `--only` some); print the table and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and records")
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the tracked bench/RESULTS.md (default: build/bench/RESULTS.md)",
    )
    parser.add_argument(
        "--only",
        metavar="SECTIONS",
        help="run these sections only, e.g. `h` or `ah` (b comes with a);"
        " prints their rows and writes no RESULTS.md",
    )
    args = parser.parse_args()
    reps = 3 if args.quick else 7
    only = set((args.only or SECTIONS).lower().replace("b", "a"))
    if not only <= set(SECTIONS):
        parser.error(f"--only takes section letters from {SECTIONS!r}, b included")
    runners: dict[str, tuple[str, Callable[[], list[str]]]] = {
        "a": ("(a)/(b) typed calls", lambda: typed_calls(reps)),
        "c": ("(c) pipelines", lambda: pipelines(20_000 if args.quick else 50_000, 3)),
        "d": ("(d) loads", lambda: loads(1 if args.quick else 3)),
        "e": ("(e) threads", lambda: threads(4 if args.quick else 10, 3)),
        "f": ("(f) memory", lambda: memory.rows(args.quick)),
        "g": ("(g) start-up", lambda: startup.rows(3)),
        # (h) costs milliseconds per sample: more of them steady its ratios
        "h": ("(h) byte-pointer ABI anchor", lambda: byte_abi(3 * reps)),
        "i": ("(i) large records", lambda: large_records(reps)),
        "j": ("(j) followed JSONL", lambda: follow_throughput.rows(args.quick)),
        "k": ("(k) Dask scale-out", lambda: scaleout.rows(guest, args.quick)),
        "s": ("(s) hot-plug swap pause", lambda: swap_pause.rows(guest)),
    }
    if args.only is None:
        log("building guests...")
        for lang, names in GUESTS.items():
            for name in names:
                guest(lang, name)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows: dict[str, list[str]] = {}
    for letter in SECTIONS:
        if letter in only:
            title, run = runners[letter]
            log(title)
            rows[letter] = run()
    if args.only is not None:
        for letter, lines in rows.items():
            print("\n".join([f"## {runners[letter][0]}", "", *lines, ""]))
        return
    ab, c, d, e, f, g, h, i, j, k, swaps = (rows[letter] for letter in SECTIONS)
    cpu = platform.processor() or platform.machine()
    out = [
        "# `make bench` results",
        "",
        f"Command: `make bench` (`python bench/run.py`). Machine: {os.cpu_count()} cores"
        f" ({cpu}), Python {platform.python_version()}, 1-minute load average"
        f" {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end;"
        f" {time.perf_counter() - started:.0f} s.",
        "Medians over repeated runs ((a), (h), (i): each path's fastest interleaved sample,",
        "see (h)); ratios are from the same run. The machine is shared:",
        "other work on it moves absolute figures by up to 2x between runs, and while",
        "something else keeps a core busy the 2-thread rows of (e) cannot gain.",
        "",
        "## (a) typed call: fast path vs stock `Func.__call__`; (b) fast path vs C-API floor",
        "",
        "World `dataflare:plugin@0.2.0` (the current guest builds): one columnar `batch`",
        "per call. Rust guests: `echo` `transform-batch` (the batch goes in and comes back)",
        "and `json_filter` `filter-batch` (batch in, keep bitmap out); the Python guest",
        "`mask_email` `transform-batch` (64 B only); records with a key, a timestamp and two",
        "metadata pairs, turned into the WIT batch once, outside the timing. Fast = the",
        "generated bindings' call through the `_fastc` C extension; Python codec = the same",
        "fast path lowering and lifting in Python (what an install without a C compiler",
        "gets). Stock = the same value converted by wasmtime-py + `Func.__call__`"
        f" (not run above {STOCK_BUDGET // 1024} KiB per call). Floor = the same C call with",
        "the argument arrays built once outside the loop (in brackets: floor/stock, the most",
        "any host-side codec could gain); fast/floor is the fraction of the floor's",
        "throughput the fast path reaches. A 0.2 batch is a few values however many records",
        "it holds (one string and one offset per record per column), so the codecs matter",
        "far less than they did for 0.1's `list<record>` of `list<u8>`.",
        "Figures are fastest samples, as in (h).",
        "",
        *ab,
        "",
        "## (c) records/s through a whole pipeline: this tree vs the 0.1 release",
        "",
        "JSON Lines file in and out, batch 1024, default limits. The 0.1 release is a `git",
        f"archive` of {old_release.RELEASE} (the last 0.1-only host) built in",
        "build/bench/release-0.1 with its own guests (`bench/old_release.py`). Every run is",
        "a fresh process (`bench/pipeline_driver.py`: plan loaded and one warm-up run, then",
        "the timed run), the two trees interleaved case by case; median of the rounds.",
        "Target (issue 13): this tree at least 5x the 0.1 release for the two WASM pipelines;",
        "the native rows are for reference. CPU s = the process's CPU time in the timed run",
        "(every thread, the guest's too): wall time on a machine loaded past its cores also",
        "counts waiting for a core and for the GIL hand-offs between threads; CPU time only",
        "the work.",
        "",
        *c,
        "",
        "## (d) cold vs cached load (fresh process each)",
        "",
        *d,
        "",
        "## (e) 1 vs 2 threads (pooled 0.2 adapters, 10 batches of 1024 records)",
        "",
        "`filter_columns` / `transform_columns` on one Arrow batch (one member) or its two",
        "zero-copy halves on two members and threads.",
        "",
        *e,
        "",
        "## (f) peak RSS against the bytes in flight (fresh process per case)",
        "",
        "One batch call through the plugin adapter (or one JSON Lines run), default limits",
        "unless the row says otherwise. Peak = VmHWM of the child; RSS after load = before",
        "the call, the batch already built. Guests are the 0.2 builds, called through the",
        "0.2 adapters' per-record methods; batch calls are cut by text bytes",
        "(`call_bounds.call_bytes_v2`: `limits.memory_mb` / 12 for a transform, / 8",
        "otherwise); a record over that bound alone fails with kind `limit` (outcome column).",
        "",
        *f,
        "",
        "## (g) start-up of the `dataflare` command (best of 3 fresh processes)",
        "",
        "Wall time from process start to exit, `PYTHONPATH` at this tree; `python -c pass`",
        "is the interpreter's own share. Subcommands import their work when they run, so",
        "the help loads neither wasmtime, nor the generator, nor a connector's dependencies.",
        "",
        *g,
        "",
        "## (h) the byte-pointer ABI anchor (batch 1024, interleaved, fastest samples)",
        "",
        "Figures are each path's fastest of its interleaved samples (`fastest`): on a",
        "shared machine loaded past its cores, medians measure the scheduler.",
        "The Rust json_filter over the same records (half kept), five ways: a core wasm",
        "module (`bench/byte_abi`, no component) that gets the batch framed into linear",
        "memory with one `memmove` and returns a decision byte per record; the 0.1 build",
        "(tests/fixtures/v0_1) through its generated `filter-batch` (`list<record>`, C codec,",
        "no limits); the 0.2 build through the host's adapter `filter_columns` on an Arrow",
        "batch (what the executor calls: Arrow to WIT batch, the call on the plugin's",
        "thread, bitmap to Arrow booleans; no limits), and through the bare generated",
        "`filter-batch` with the WIT batch built once; and a native Python `json.loads` loop.",
        "Inline = the same adapter with its guest calls on the calling thread, not handed",
        "to the plugin's thread (a hand-off costs ~30-130 µs idle, milliseconds when the",
        "machine is loaded). All must make the same decisions. Targets (issue 13):",
        "0.2 ÷ byte ABI ≥ 0.5 at both sizes; 0.2 ÷ 0.1 ≥ 5x at 64 B and ≥ 10x at 1 KiB",
        "(bold: the adapter; in brackets: inline; the bare call). Time split: the parts",
        "of one adapter call timed alone (`bench/time_split.py`), C lower + lift = the",
        "generated call minus the floor (the call with prebuilt argument arrays).",
        "",
        *h,
        "",
        "## (i) large records: one batch of 1024 records of 16 KiB",
        "",
        "The 0.1 row is the same batch as one 0.1 typed call (the issue found wasmtime",
        "refusing it). The 0.2 rows: the adapters (calls = how many calls the adapter's",
        "default byte bound cuts the batch into) and the bare generated call (one call, the",
        "WIT batch built once), fastest samples as in (h). mask_email masks every email.",
        "",
        *i,
        "",
        "## (j) a followed JSON Lines file in steady state vs the bounded run",
        "",
        "The same pipeline (native stages, batch 1024) over the same input, the source's",
        "`follow`/`resume` apart, in this process, interleaved; records/s from the first",
        "batch to the last input record (start-up and closing left out). A followed source",
        "keeps its position, so its batches are committed (sinks fsynced, state saved):",
        "with file sinks only, together, at most 1 s apart. The ratio is against the",
        "bounded run without a position (no commits at all); the last two columns show",
        "the commits' cost apart from following.",
        "",
        *j,
        "",
        "## (k) Dask scale-out: 1 vs 2 worker processes; a worker's start-up",
        "",
        "`run_on_dask` on a `LocalCluster` of 1 or 2 processes (one thread each), the input",
        "in 8 JSON Lines files (8 partitions), part files out; each cluster started and warmed",
        "up (components shipped and compiled) outside the timing; best of 3 runs. Start-up:",
        "the component's bytes scattered to 2 workers; compiling it on a worker with an empty",
        "cache; loading it from that worker's disk cache; a task's instantiate + configure",
        "(a worker's later tasks borrow its instance: `scaleout/kept.py`).",
        "Target (issue 16): 2 workers at least 1.7x 1 worker on 2 cores.",
        "",
        *k,
        "",
        "## (s) hot-plug swap pause (20 reloads of a cached component in a running pipeline)",
        "",
        "JSON Lines in and out, batch 256; every 5 batches the transform stage reloads its",
        "unchanged component (compiled once, then from the cache). Pause = from the end of",
        "the last batch on the old plugin to the new one in place, just before the first",
        "batch on it (`SwapOutcome.pause_ms`); p99 of 20 is the largest. Prepare = request",
        "until ready (cache load, instantiate, configure, probe), on the hot-plug thread while",
        "batches go on. Targets (issue 15): p99 at most 50 ms (Rust) and 200 ms (Python).",
        "",
        *swaps,
        "",
        *NOTES,
    ]
    text = "\n".join(out)
    print(text)
    path = results_path(args.record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    log(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
