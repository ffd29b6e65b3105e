"""JSONL -> filter -> JSONL through the whole host, in records per second (not `make bench`).

Run it against two trees to compare them in one go:

    python bench/host_path.py --host /work/main/host --host host

Each tree runs in its own process. Stages: the native `json_filter`, (where
the tree has the columnar executor) a columnar filter that keeps every other
row, which shows the host's own share per record, none at all, and with
``--wasm-transform`` a transform component (e.g. the Python mask_email).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import sys, time
from dataflare.pipeline import run_pipeline
import dataflare.plugins.registry as registry
path, out, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
only = sys.argv[6].split(",") if sys.argv[6] else None
processors = {
    "json_filter": {"id": "f", "type": "plugin", "config": {"plugin_type": "filter",
        "plugin_name": "json_filter", "params": {"field": "country", "value": "JP"}}},
}
try:
    import numpy as np, pyarrow as pa
    from dataflare.columns import FilterResult
    from dataflare.plugins.base import FilterColumnsBase
    @registry.register("filter", "every_other")
    class EveryOther(FilterColumnsBase):
        def filter_columns(self, batch):
            keep = np.zeros(batch.num_rows, bool); keep[::2] = True
            return FilterResult(pa.array(keep))
    processors["columnar every_other"] = {"id": "f", "type": "plugin", "config": {
        "plugin_type": "filter", "plugin_name": "every_other"}}
except ImportError:
    pass
if sys.argv[5]:
    processors["wasm transform"] = {"id": "t", "type": "plugin", "config": {
        "plugin_type": "transform", "plugin_source": "wasm", "plugin_path": sys.argv[5],
        "params": {"field": "email"}}}
processors["none"] = None
for name, proc in processors.items():
    if only and name not in only:
        continue
    best = 0.0
    for _ in range(3):
        cfg = {"name": "bench", "batch_size": batch,
               "sources": [{"id": "in", "type": "jsonl", "config": {"path": path}}],
               "processors": [proc] if proc else [],
               "sinks": [{"id": "out", "type": "jsonl", "config": {"path": out}}]}
        start = time.perf_counter()
        run_pipeline(cfg, base_dir="/tmp")
        best = max(best, n / (time.perf_counter() - start))
    print(f"{name:22s} {best:12,.0f} rec/s  {1e6 / best:6.2f} us/rec")
"""


def make_input(path: Path, n: int, size: int) -> None:
    rng = random.Random(7)
    with path.open("w") as f:
        for i in range(n):
            doc = {"id": i, "country": rng.choice(["JP", "US", "FR", "DE"]),
                   "amount": round(rng.random() * 100, 2), "email": f"user{i}@example.com"}
            pad = max(0, size - len(json.dumps(doc)) - 9)
            doc["pad"] = "x" * pad
            f.write(json.dumps(doc) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", action="append", required=True, help="a tree's host/ folder")
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--wasm-transform", default="", help="a 0.1 transform component (mask_email)")
    ap.add_argument("--only", default="", help="comma-separated pipelines to run")
    args = ap.parse_args()
    wasm = str(Path(args.wasm_transform).resolve()) if args.wasm_transform else ""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        make_input(src, args.n, args.size)
        for host in args.host:
            print(f"== {host}  ({args.n:,} records of ~{args.size} B, batch {args.batch})")
            env = {**os.environ, "PYTHONPATH": str(Path(host).resolve())}
            subprocess.run([sys.executable, "-c", CHILD, str(src), str(Path(tmp) / "out.jsonl"),
                            str(args.n), str(args.batch), wasm, args.only],
                           env=env, check=True)


if __name__ == "__main__":
    main()
