"""`make bench`: typed-call, pipeline, load-time and thread benchmarks in one table.

Every figure is a median over repeated runs made by this script in this run;
ratios compare figures measured side by side. Progress goes to stderr, the
table to stdout and to bench/RESULTS.md. Guests are built with `make` first.

    python bench/run.py [--quick] [--only SECTIONS]

(a) typed call: the generated bindings' fast path (`dataflare.abi.typedfunc`,
    through the `_fastc` C extension when it is built) vs the stock path
    (wasmtime-py's own value conversion and `Func.__call__`, `stock_call`),
    and the fast path's pure-Python codec (the fallback without a C compiler).
(b) the same fast call vs the C-API floor: the same call with its argument
    value arrays built once outside the timed loop (result still freed).
(c) records/s through a whole pipeline, JSON Lines file in and out.
(d) cold (empty cache, fresh process) vs cached load per guest language.
(e) 1 vs 2 threads: two pooled instances of the Rust filter on two threads.
(f) peak RSS against the bytes in flight, one fresh process per case
    (`bench/memory.py`; target: 4x the batch's bytes + 200 MB).
(g) start-up of the `dataflare` command, best of 3 fresh processes
    (`bench/startup.py`; target: `dataflare --help` within 0.3 s).
(h) the byte-pointer ABI anchor (issue 13): the same json_filter as a core
    module called through linear memory (`bench/byte_abi`, `byte_abi_call`),
    the 0.1 typed `filter-batch`, and a native `json.loads` loop, interleaved.

    python bench/run.py --only h    # some sections only; RESULTS.md is left alone
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
import load_times  # noqa: E402
import memory  # noqa: E402
import startup  # noqa: E402
from dataflare import GuestTrap, PluginKind, Record  # noqa: E402
from dataflare._wit_v0_1 import filter as wit_filter  # noqa: E402
from dataflare._wit_v0_1 import transform as wit_transform  # noqa: E402
from dataflare._wit_v0_1 import types as wit  # noqa: E402
from dataflare.abi import rt, val_memory  # noqa: E402
from dataflare.abi._wasmtime_private import context_address, func_call  # noqa: E402
from dataflare.abi.typedfunc import TypedFunc  # noqa: E402
from dataflare.plugins.wasm import WasmFilter, WasmTransform  # noqa: E402
from dataflare.runtime import load_component  # noqa: E402
from dataflare.runtime.pool import InstancePool, default_size, pooled_batch  # noqa: E402
from stock_call import StockCall  # noqa: E402

GUESTS = {
    "rust": ["echo", "json_filter", "mask_email"],
    "python": ["json_filter", "mask_email"],
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


def interleaved(fns: list[Callable[[], Any]], repeats: int, budget: float = 8.0) -> list[float]:
    """Median seconds of each function, sampled round-robin so all see the same load.

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
    return [statistics.median(s) for s in samples]


# ---------------------------------------------------------------- (a), (b)


class Target:
    """A component and batch export for (a)/(b), and the outputs it must give."""

    def __init__(
        self,
        label: str,
        name: str,
        kind: PluginKind,
        export: str,
        *,
        lang: str = "rust",
        config: list[tuple[str, str]] | None = None,
        sizes: tuple[int, ...] = (64, 1024, 16 * 1024),
    ) -> None:
        self.label = label
        self.sizes = sizes
        self.loaded = load_component(guest(lang, name), kind)
        self.world = wit_transform.Transform if kind is PluginKind.TRANSFORM else wit_filter.Filter
        self.config = (
            [("tag", "bench")] if kind is PluginKind.TRANSFORM
            else [("field", "status"), ("value", "active")]
        )  # fmt: skip
        if config is not None:
            self.config = config
        self.export = export
        self.params = (wit_transform._list_record_codec,)
        self.ret: Any = (
            wit_transform._list_result_record_plugin_error_codec
            if kind is PluginKind.TRANSFORM
            else wit_filter._list_result_bool_plugin_error_codec
        )
        self.expect: Callable[[list[wit.Record]], list[Any]] | None = (
            (lambda recs: [rt.Ok(r) for r in recs])
            if name == "echo"
            else (lambda recs: [rt.Ok(True)] * len(recs))
            if kind is PluginKind.FILTER
            else None
        )

    def bind(self) -> tuple[Any, TypedFunc[Any], TypedFunc[Any], StockCall]:
        """A fresh configured instance, its fast export (C), its Python-codec and stock twins."""
        from dataflare.runtime.instance import PluginInstance

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
    """Rows for (a) and (b)."""
    rows = [
        "| guest export | value | batch | stock rec/s | Python codec rec/s | fast rec/s"
        " | fast/stock | floor rec/s | fast/floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    targets = [
        Target("Rust echo `transform-batch`", "echo", PluginKind.TRANSFORM, "transform-batch"),
        Target("Rust json_filter `filter-batch`", "json_filter", PluginKind.FILTER, "filter-batch"),
        Target(
            "Python mask_email `transform-batch`",
            "mask_email",
            PluginKind.TRANSFORM,
            "transform-batch",
            lang="python",
            config=[("field", "email")],
            sizes=(64,),
        ),
    ]
    for target in targets:
        inst, fast, py, stock = target.bind()
        for size in target.sizes:
            for batch in (1, 64, 1024):
                recs = [record(size) for _ in range(batch)]
                head = f"| {target.label} | {size} B | {batch} |"
                try:
                    got = fast(recs)
                    assert len(got) == batch
                    assert target.expect is None or got == target.expect(recs)
                except GuestTrap as exc:  # wasmtime caps the bytes copied per call
                    rows.append(f"{head} refused by wasmtime: {exc} ||||||")
                    log(f"  (a/b) {rows[-1]}")
                    inst.close()
                    inst, fast, py, stock = target.bind()
                    continue
                assert py(recs) == got
                fns: list[Callable[[], Any]] = [
                    lambda r=recs, f=fast: f(r),  # type: ignore[misc]
                    floor_call(py, recs),
                    lambda r=recs, f=py: f(r),  # type: ignore[misc]
                ]
                run_stock = size * batch <= STOCK_BUDGET
                if run_stock:
                    assert stock(recs) == fast(recs)
                    fns.append(lambda r=recs, f=stock: f(r))  # type: ignore[misc]
                t_fast, t_floor, t_py, *t_rest = interleaved(fns, repeats)
                if run_stock:
                    t_stock = t_rest[0]
                    stock_cell = f"{batch / t_stock:,.0f}"
                    ratio = f"**{t_stock / t_fast:.1f}x**"
                    floor_ratio = f" ({t_stock / t_floor:.1f}x)"
                else:
                    stock_cell, ratio, floor_ratio = "not run", "-", ""
                rows.append(
                    f"{head} {stock_cell} | {batch / t_py:,.0f} | {batch / t_fast:,.0f} | {ratio} |"
                    f" {batch / t_floor:,.0f}{floor_ratio} | **{t_floor / t_fast:.0%}** |"
                )
                log(f"  (a/b) {rows[-1]}")
        inst.close()
    return rows


def floor_call(tf: TypedFunc[Any], args: list[wit.Record]) -> Callable[[], None]:
    """The C call alone: argument arrays prebuilt once, result freed, nothing lifted."""
    arena = val_memory._Arena()
    params = arena.alloc(val_memory.VAL)
    tf._lowers[0](args, params, arena)
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


def pipelines(n: int, repeats: int) -> list[str]:
    """Rows for (c): records/s through file -> plugin -> file."""
    from dataflare.pipeline import Executor, load_plan

    rows = ["| pipeline | records | median s | rec/s |", "|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="dataflare-bench-") as tmp:
        src = Path(tmp) / "in.jsonl"
        with src.open("w") as f:
            for i in range(n):
                status = "active" if i % 2 else "inactive"
                line = json.dumps({"id": i, "status": status, "email": f"u{i}@ex.org"})
                f.write(line[:62].ljust(62) + "\n")
        rust_filter, py_filter = guest("rust", "json_filter"), guest("python", "json_filter")
        rust_mask, py_mask = guest("rust", "mask_email"), guest("python", "mask_email")
        workers = f"workers: {default_size()}"
        off = "    limits: {fuel_per_record: null}\n"
        pool = f"    {workers}\n"
        cases: list[tuple[str, str, str, Any, str]] = [
            ("Rust-guest filter", "filter", "wasm", rust_filter, ""),
            ("Rust-guest filter, fuel off", "filter", "wasm", rust_filter, off),
            (f"Rust-guest filter, {workers}", "filter", "wasm", rust_filter, pool),
            ("Python-guest filter", "filter", "wasm", py_filter, ""),
            (f"Python-guest filter, {workers}", "filter", "wasm", py_filter, pool),
            ("native Python filter", "filter", "native", "json_filter", ""),
            ("Rust-guest transform", "transform", "wasm", rust_mask, ""),
            (f"Rust-guest transform, {workers}", "transform", "wasm", rust_mask, pool),
            ("Python-guest transform", "transform", "wasm", py_mask, ""),
            (f"Python-guest transform, {workers}", "transform", "wasm", py_mask, pool),
            (
                f"Python-guest transform, {workers}, fuel off",
                *("transform", "wasm", py_mask, pool + off),
            ),
            ("native Python transform", "transform", "native", "mask_email", ""),
        ]
        yamls = []
        for i, (_, kind, source, plugin, limits) in enumerate(cases):
            params = "{field: status, value: active}" if kind == "filter" else "{field: email}"
            where = f"plugin_path: {plugin}" if source == "wasm" else f"plugin_name: {plugin}"
            yaml = Path(tmp) / f"p{i}.yaml"
            yaml.write_text(
                f"name: bench\nbatch_size: 1024\n"
                f"sources:\n  - id: in\n    type: jsonl\n    config: {{path: {src}}}\n"
                f"processors:\n  - id: p\n    type: plugin\n{limits}    config:\n"
                f"      plugin_type: {kind}\n      plugin_source: {source}\n"
                f"      {where}\n      params: {params}\n"
                f"sinks:\n  - id: out\n    type: jsonl\n    config: {{path: {tmp}/out{i}.jsonl}}\n"
            )
            yamls.append(yaml)
        # round-robin over the cases, so a burst of load hits them all alike
        times: list[list[float]] = [[] for _ in cases]
        for rep in range(repeats):
            log(f"  (c) round {rep + 1} of {repeats}")
            for i, (label, kind, *_) in enumerate(cases):
                plan = load_plan(yamls[i])  # load (cached compile) is (d), not timed here
                t = time.perf_counter()
                stats = Executor(plan).run()
                times[i].append(time.perf_counter() - t)
                expected = n // 2 if kind == "filter" else n
                written = sum(1 for _ in (Path(tmp) / f"out{i}.jsonl").open())
                assert written == expected, (label, written, expected, stats)
        for (label, *_), samples in zip(cases, times, strict=True):
            t_med = statistics.median(samples)
            rows.append(f"| {label} | {n:,} | {t_med:.3f} | **{n / t_med:,.0f}** |")
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
    """Rows for (e): the Rust filter on one pooled instance vs two on two threads."""
    rows = ["| workload | threads | rec/s | speed-up |", "|---|---:|---:|---:|"]
    cases: list[tuple[str, PluginKind, Path, dict[str, str]]] = [
        ("Rust filter", PluginKind.FILTER, guest("rust", "json_filter"),
         {"field": "status", "value": "active"}),
        ("Python-guest transform", PluginKind.TRANSFORM, guest("python", "mask_email"),
         {"field": "email"}),
    ]  # fmt: skip
    batch = [
        Record(json.dumps({"id": i, "status": "active", "email": f"u{i}@ex.org"}).encode())
        for i in range(1024)
    ]
    for label, kind, path, config in cases:
        loaded = load_component(path, kind)
        adapter = WasmFilter if kind is PluginKind.FILTER else WasmTransform
        method = "filter_batch" if kind is PluginKind.FILTER else "transform_batch"
        pools = [InstancePool(_maker(adapter, loaded, config), size) for size in (1, 2)]
        works: list[Callable[[], Any]] = []
        for pool in pools:

            def work(pool: InstancePool[Any] = pool, method: str = method) -> None:
                for _ in range(n_batches):
                    pooled_batch(pool, batch, lambda p, chunk: getattr(p, method)(chunk))

            works.append(work)
        t_one, t_two = interleaved(works, repeats, budget=30.0)
        for pool in pools:
            pool.close()
        for size, t in ((1, t_one), (2, t_two)):
            rate = n_batches * len(batch) / t
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


def anchor_values(size: int, n: int) -> list[wit.Record]:
    """`n` records of `size` bytes, every other one `status: "paused"` (same length)."""
    base = record(size)
    paused = wit.Record(
        base.key, base.value.replace(b'"active"', b'"paused"'), base.timestamp, base.metadata
    )
    return [base if i % 2 == 0 else paused for i in range(n)]


def json_loads_loop(values: list[bytes], field: str, value: str) -> list[bool]:
    """Native Python: decode each value and compare the field (all values are objects here)."""
    return [json.loads(v).get(field) == value for v in values]


def byte_abi(repeats: int) -> list[str]:
    """Rows for (h): byte-pointer ABI vs 0.1 typed `filter-batch` vs native, batch 1024."""
    try:
        module = byte_abi_call.build()
    except byte_abi_call.BuildError as exc:
        sys.exit(f"(h) cannot build the byte-ABI anchor (make -C bench/byte_abi):\n{exc}")
    field, value = "status", "active"
    anchor = byte_abi_call.ByteAbiFilter(module, field, value)
    # The same component and call as (a)'s json_filter row: C codec, no limits.
    target = Target("Rust json_filter", "json_filter", PluginKind.FILTER, "filter-batch")
    inst, typed, _, _ = target.bind()
    rows = [
        "| value | batch | byte-pointer ABI rec/s | typed `filter-batch` rec/s"
        " | native Python `json.loads` loop rec/s | typed ÷ byte ABI |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    batch = 1024
    for size in (64, 1024):
        recs = anchor_values(size, batch)
        values = [r.value for r in recs]
        native = json_loads_loop(values, field, value)
        assert native.count(True) == batch // 2
        assert anchor.decide(values) == bytes(native), "byte ABI and native disagree"
        assert typed(recs) == [rt.Ok(k) for k in native], "typed and native disagree"
        t_abi, t_typed, t_native = interleaved(
            [
                lambda v=values: anchor.decide(v),  # type: ignore[misc]
                lambda r=recs: typed(r),  # type: ignore[misc]
                lambda v=values: json_loads_loop(v, field, value),  # type: ignore[misc]
            ],
            repeats,
        )
        rows.append(
            f"| {size if size < 1024 else size // 1024} {'B' if size < 1024 else 'KiB'}"
            f" | {batch} | {batch / t_abi:,.0f} | {batch / t_typed:,.0f}"
            f" | {batch / t_native:,.0f} | **{t_abi / t_typed:.2f}** |"
        )
        log(f"  (h) {rows[-1]}")
    inst.close()
    return rows


SECTIONS = "acdefgh"
"""Section letters in run order; (b) is measured with (a)."""


def main() -> None:
    """Run every section (or `--only` some); print the table and write bench/RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and records")
    parser.add_argument(
        "--only",
        metavar="SECTIONS",
        help="run these sections only, e.g. `h` or `ah` (b comes with a);"
        " prints their rows and leaves bench/RESULTS.md alone",
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
    ab, c, d, e, f, g, h = (rows[letter] for letter in SECTIONS)
    cpu = platform.processor() or platform.machine()
    out = [
        "# `make bench` results",
        "",
        f"Command: `make bench` (`python bench/run.py`). Machine: {os.cpu_count()} cores"
        f" ({cpu}), Python {platform.python_version()}, 1-minute load average"
        f" {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end;"
        f" {time.perf_counter() - started:.0f} s.",
        "Medians over repeated runs; ratios are from the same run. The machine is shared:",
        "other work on it moves absolute figures by up to 2x between runs, and while",
        "something else keeps a core busy the 2-thread rows of (e) cannot gain.",
        "",
        "## (a) typed call: fast path vs stock `Func.__call__`; (b) fast path vs C-API floor",
        "",
        "Rust guests: `echo` `transform-batch` (records go in and come back) and",
        "`json_filter` `filter-batch` (records in, booleans out); the Python guest",
        "`mask_email` `transform-batch` (64 B only); records with a key, a",
        "timestamp and two metadata pairs. Fast = the generated bindings' call through the",
        "`_fastc` C extension; Python codec = the same fast path lowering and lifting in",
        "Python (what an install without a C compiler gets). Stock = the same codecs",
        "lowering to wasmtime-py values + `Func.__call__` (not run above"
        f" {STOCK_BUDGET // 1024} KiB per call: tens of seconds per call). Floor = the same C",
        "call with the argument arrays built once outside the loop (in brackets: floor/stock,",
        "the most any host-side codec could gain); fast/floor is the fraction of the",
        "floor's throughput the fast path reaches.",
        "",
        *ab,
        "",
        "## (c) records/s through a whole pipeline (JSON Lines file in and out, batch 1024)",
        "",
        "WASM stages run with the pipeline's default limits (fuel and an epoch deadline:",
        "1.3-1.5x slower guest code) unless the row says fuel off. `workers: N` rows set",
        "that key on the stage: the executor runs it as a `runtime.pool.PooledPlugin` of N",
        "instances, each",
        "batch cut into chunks of at most 64 records run on N threads, outputs in order.",
        "Every batch is followed by a checkpoint (sink fsync + state file fsync). With a",
        "WASM stage the source reads ahead on its own thread.",
        "",
        *c,
        "",
        "## (d) cold vs cached load (fresh process each)",
        "",
        *d,
        "",
        "## (e) 1 vs 2 threads (pooled instances, 10 batches of 1024 records)",
        "",
        *e,
        "",
        "## (f) peak RSS against the bytes in flight (fresh process per case)",
        "",
        "One batch call through the plugin adapter (or one JSON Lines run), default limits",
        "unless the row says otherwise. Peak = VmHWM of the child; RSS after load = before",
        "the call, the batch already built. Batch calls are cut by `list<u8>` bytes",
        "(`limits.memory_mb` / 256 for a transform, / 128 otherwise: 1 and 2 MiB by",
        "default); a record over that bound alone fails with kind `limit` (outcome column).",
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
        "## (h) the byte-pointer ABI anchor (batch 1024, interleaved)",
        "",
        "The Rust json_filter three ways over the same records, half kept: a core wasm",
        "module (`bench/byte_abi`, no component) that gets the batch framed into linear",
        "memory with one `memmove` and returns a decision byte per record; the 0.1 typed",
        "`filter-batch` as in (a) (generated bindings, C codec, no limits); and a native",
        "Python `json.loads` loop. All three must make the same decisions. WIT 0.2.0's",
        "targets are ratios to this anchor (issue 13).",
        "",
        *h,
        "",
    ]
    text = "\n".join(out)
    print(text)
    (ROOT / "bench" / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
