""".ci/install-guest-toolchains.sh installs the linker behind rust-lld, and only once.

Debian's rustc ships /usr/bin/rust-lld as a symlink to lld-14, which is only a
Recommends: without it wasm32 builds fail with "linker `rust-lld` not found".
The script runs here in a copy of the repository layout, with `apt-get` and
`npm` replaced by stubs that log their calls, and `RUST_LLD` pointing into
the test's folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.tools import missing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "install-guest-toolchains.sh"

APT_STUB = """#!/bin/sh
echo "$*" >> "$LOG"
for arg in "$@"; do
    case "$arg" in
        lld-*) printf '#!/bin/sh\\n' > "$LLD_DIR/$arg"; chmod +x "$LLD_DIR/$arg" ;;
    esac
done
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    sysroot = (
        subprocess.run(
            ["/usr/bin/rustc", "--print", "sysroot"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.path.exists("/usr/bin/rustc")
        else ""
    )
    if not sysroot or not Path(sysroot, "lib/rustlib/wasm32-wasi").is_dir():
        missing("Debian's rustc with the wasm32 std; run .ci/install-guest-toolchains.sh")
    (tmp_path / ".ci").mkdir()
    shutil.copy(SCRIPT, tmp_path / ".ci" / SCRIPT.name)
    js = tmp_path / "guest-examples" / "js"
    (js / "node_modules" / "@bytecodealliance" / "componentize-js").mkdir(parents=True)
    (js / "package-lock.json").write_text("{}")
    (js / "node_modules" / "@bytecodealliance" / "componentize-js" / "package.json").write_text(
        "{}"
    )
    stamp = js / "node_modules" / ".package-lock.json"
    stamp.write_text("{}")
    os.utime(stamp, (os.path.getmtime(js / "package-lock.json") + 10,) * 2)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "apt-get").write_text(APT_STUB)
    (stubs / "npm").write_text('#!/bin/sh\necho "npm $*" >> "$LOG"\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    (tmp_path / "lld").mkdir()
    return tmp_path


def run(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{repo / 'stubs'}:/usr/bin:/bin",
        "LOG": str(repo / "calls.log"),
        "LLD_DIR": str(repo / "lld"),
        "RUST_LLD": str(repo / "lld" / "rust-lld"),
    }
    return subprocess.run(
        ["bash", str(repo / ".ci" / SCRIPT.name)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def calls(repo: Path) -> list[str]:
    log = repo / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("version", ["lld-14", "lld-16"])
def test_a_dangling_rust_lld_gets_its_package_then_nothing_more(repo, version):
    (repo / "lld" / "rust-lld").symlink_to(version)
    first = run(repo)
    assert first.returncode == 0, first.stderr
    assert f"installing {version}" in first.stdout
    installs = [c for c in calls(repo) if c.startswith("install")]
    assert len(installs) == 1 and installs[0].split()[-1] == version, calls(repo)
    assert calls(repo).count("update -qq") == 1

    before = calls(repo)
    second = run(repo)
    assert second.returncode == 0, second.stderr
    assert calls(repo) == before, "a second run must install nothing"
    assert "already installed" in second.stdout


def test_a_missing_rust_lld_defaults_to_lld_14(repo):
    result = run(repo)
    assert result.returncode == 1  # the stub made lld-14, but no rust-lld points at it
    assert [c.split()[-1] for c in calls(repo) if c.startswith("install")] == ["lld-14"]
    assert "still missing after installing lld-14" in result.stderr


def test_the_readme_lists_lld():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| Rust guests |"))
    assert "lld-14" in row
