"""Cold vs cached load time of a Python (componentize-py) component.

Cold: a fresh, empty cache dir, so `load_component` compiles with Cranelift.
Cached: the same cache dir again, so it hashes, verifies and mmaps the
artifact. Each of those samples runs in a fresh subprocess (what a CLI run
pays); a last line gives cached loads repeated inside one process. Prints
medians over the repeats; not a test.

    python bench/load_times.py [COMPONENT.wasm] [--repeats N]

Without a path it builds guest-examples/python/json_filter (make).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ONE_LOAD = """
import json, sys, time
t0 = time.perf_counter()
from dataflare.runtime import CompileCache, load_component
t1 = time.perf_counter()
cache = CompileCache(__import__("pathlib").Path(sys.argv[2]))
loaded = load_component(sys.argv[1], cache=cache)
t2 = time.perf_counter()
print(json.dumps({"load": t2 - t1, "import": t1 - t0, "hits": cache.stats.hits,
                  "kind": loaded.kind.value}))
"""


def default_component() -> Path:
    subprocess.run(["make", "-s", "-C", str(ROOT / "guest-examples" / "python"), "json_filter"],
                   check=True)  # fmt: skip
    return ROOT / "build" / "guests" / "python" / "json_filter.wasm"


def sample(component: Path, cache: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _ONE_LOAD, str(component), str(cache)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout)
    return result


def in_process(component: Path, cache_dir: Path, repeats: int) -> list[float]:
    from dataflare.runtime import CompileCache, load_component

    cache = CompileCache(cache_dir)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_component(component, cache=cache)
        times.append(time.perf_counter() - start)
    assert cache.stats.hits == repeats
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("component", nargs="?", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    component = args.component or default_component()
    cold: list[float] = []
    cached: list[float] = []
    warm: list[float] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="dataflare-bench-") as tmp:
            first = sample(component, Path(tmp))
            assert first["hits"] == 0
            cold.append(first["load"])
            again = sample(component, Path(tmp))
            assert again["hits"] == 1
            cached.append(again["load"])
            warm = in_process(component, Path(tmp), args.repeats)
    size = component.stat().st_size / 1e6
    print(f"component: {component} ({size:.1f} MB, world {first['kind']})")
    print(f"repeats:   {args.repeats} (fresh process per load)")
    print(f"cold load:   median {statistics.median(cold) * 1e3:8.1f} ms"
          f"  (min {min(cold) * 1e3:.1f}, max {max(cold) * 1e3:.1f})")  # fmt: skip
    print(f"cached load: median {statistics.median(cached) * 1e3:8.1f} ms"
          f"  (min {min(cached) * 1e3:.1f}, max {max(cached) * 1e3:.1f})")  # fmt: skip
    print(f"cached load, same process: median {statistics.median(warm) * 1e3:.1f} ms")
    print(f"speed-up:    {statistics.median(cold) / statistics.median(cached):.0f}x")


if __name__ == "__main__":
    main()
