"""The last 0.1 release, rebuilt beside the current tree so pipelines race side by side.

Issue 13's pipeline targets are ratios against "today's code", so the bench
keeps a way to run it: `prepare()` exports the pinned commit `RELEASE` with
`git archive` into build/bench/release-0.1/ (no worktree is registered),
compiles its C codec and builds its guests there with its own Makefiles, all
once (a marker file records a finished build). `run_pipeline(tree, yaml)` runs
a pipeline in a fresh process on either tree, through `pipeline_driver.py`,
and returns the wall and CPU seconds the run took, timed inside that process
with the plan already loaded, so start-up and component compilation are not
counted for either side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASE = "4af79e5"
"""The last commit whose host spoke only `dataflare:plugin@0.1.0` (stop 18, issue 12 closed)."""
TREE = ROOT / "build" / "bench" / "release-0.1"
DRIVER = Path(__file__).resolve().with_name("pipeline_driver.py")


class ReleaseError(RuntimeError):
    """The old release could not be exported or built; the message says which step and why."""


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ReleaseError(f"{what} failed ({' '.join(cmd)}):\n{proc.stdout}{proc.stderr}")


def _export(tree: Path) -> None:
    tree.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", RELEASE], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise ReleaseError(
            f"git archive {RELEASE} failed (the bench needs the repository's history, "
            f"not a shallow clone):\n{archive.stderr.decode(errors='replace')}"
        )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)


def _compile_codec(tree: Path) -> None:
    abi = tree / "host" / "dataflare" / "abi"
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_paths()["include"]
    sources = sorted(str(p) for p in abi.glob("_fastc*.c"))
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-shared", "-fPIC", "-O2", "-std=c99", f"-I{include}", *sources]
    _run([*cmd, "-o", str(abi / f"_fastc{suffix}")], tree, "compiling the 0.1 C codec")


def prepare(guests: dict[str, list[str]]) -> Path:
    """The old release's tree with `guests` ({lang: [example, ...]}) built; builds once."""
    marker = TREE / ".bench-built.json"
    wanted = {lang: sorted(names) for lang, names in sorted(guests.items())}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return TREE
    if not (TREE / "host").is_dir():
        _export(TREE)
        _compile_codec(TREE)
    js_modules = ROOT / "guest-examples" / "js" / "node_modules"
    old_modules = TREE / "guest-examples" / "js" / "node_modules"
    if js_modules.is_dir() and not old_modules.exists():
        old_modules.symlink_to(js_modules)  # the jco WASI adapter the Rust sink needs
    for lang, names in wanted.items():
        _run(["make", "-s", "-C", f"guest-examples/{lang}", *names], TREE, f"building 0.1 {lang}")
    marker.write_text(json.dumps(wanted))
    return TREE


def guest(tree: Path, lang: str, name: str) -> Path:
    """Where `tree`'s Makefiles put a built guest."""
    return tree / "build" / "guests" / lang / f"{name}.wasm"


def run_pipeline(tree: Path, yaml: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `yaml` on `tree`'s host, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree / "host")}
    proc = subprocess.run(
        [sys.executable, str(DRIVER), str(yaml)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ReleaseError(f"pipeline {yaml} on {tree} failed:\n{proc.stdout}{proc.stderr}")
    wall, cpu = proc.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)
