#!/usr/bin/env bash
# Install what the Rust and JavaScript guest examples need to build, when missing:
#   - Debian's rustc + cargo with the wasm32 std (crates.io is not needed: the
#     Rust SDK has no dependencies; the rustup toolchain, if any, is left alone);
#   - the npm packages pinned in guest-examples/js/package-lock.json
#     (componentize-js, and jco, whose WASI preview1 adapter jsonl_sink uses).
# Idempotent: a second run installs nothing. Called by .ci/run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

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
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends rustc cargo libstd-rust-dev-wasm32 >/dev/null
    have_wasm_std || { echo "rust: wasm32 std still missing after apt-get" >&2; exit 1; }
fi

if ! command -v npm >/dev/null; then
    echo "npm: installing Debian's nodejs and npm"
    apt-get update -qq
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
