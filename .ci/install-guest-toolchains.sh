#!/usr/bin/env bash
# Install what the Rust and JavaScript guest examples need to build, when missing:
#   - Debian's rustc + cargo with the wasm32 std (crates.io is not needed: the
#     Rust SDK has no dependencies; the rustup toolchain, if any, is left alone);
#   - the linker behind Debian's /usr/bin/rust-lld (a symlink to lld-14 on
#     bookworm): lld is only a Recommends of rustc, so --no-install-recommends
#     leaves the symlink dangling and wasm32 builds fail with "linker `rust-lld`
#     not found";
#   - the npm packages pinned in guest-examples/js/package-lock.json
#     (componentize-js, and jco, whose WASI preview1 adapter jsonl_sink uses).
# Idempotent: a second run installs nothing. Called by .ci/run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
RUST_LLD="${RUST_LLD:-/usr/bin/rust-lld}"  # overridable for the script's own test

updated=""
apt_update() {
    [ -n "$updated" ] || { apt-get update -qq; updated=1; }
}

# The package that provides rust-lld's target: the symlink names it (lld-14
# on bookworm), so a later Debian release gets its own lld-N.
lld_package() {
    local target
    target="$(readlink "$RUST_LLD" 2>/dev/null || true)"
    case "${target##*/}" in
        lld-[0-9]*) echo "${target##*/}" ;;
        *) echo lld-14 ;;
    esac
}

have_wasm_std() {
    [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] || return 1
    local sysroot
    sysroot="$(/usr/bin/rustc --print sysroot)"
    [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] && [ -d "$sysroot/lib/rustlib/wasm32-wasi" ]
}

if have_wasm_std; then
    echo "rust: $(/usr/bin/rustc --version) with wasm32 std already installed"
else
    echo "rust: installing Debian's rustc, cargo and libstd-rust-dev-wasm32"
    apt_update
    apt-get install -y -qq --no-install-recommends rustc cargo libstd-rust-dev-wasm32 >/dev/null
    have_wasm_std || { echo "rust: wasm32 std still missing after apt-get" >&2; exit 1; }
fi

# -x follows the symlink: false while lld-N is missing.
if [ -x "$RUST_LLD" ]; then
    echo "rust: $RUST_LLD already installed"
else
    pkg="$(lld_package)"
    echo "rust: installing $pkg (the linker behind $RUST_LLD)"
    apt_update
    apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    [ -x "$RUST_LLD" ] || { echo "rust: $RUST_LLD still missing after installing $pkg" >&2; exit 1; }
fi

if ! command -v npm >/dev/null; then
    echo "npm: installing Debian's nodejs and npm"
    apt_update
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

lock=guest-examples/js/package-lock.json
stamp=guest-examples/js/node_modules/.package-lock.json
if [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ] \
    && [ -f guest-examples/js/node_modules/@bytecodealliance/componentize-js/package.json ]; then
    echo "npm: guest-examples/js/node_modules is up to date"
else
    echo "npm: npm ci in guest-examples/js"
    npm ci --prefix guest-examples/js --no-audit --no-fund --loglevel=error
fi
