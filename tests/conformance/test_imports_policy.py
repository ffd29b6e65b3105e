"""The import policy, on names alone: allowed, warned (inert capabilities), refused (unlinkable)."""

from __future__ import annotations

from dataflare.conformance import classify_imports
from dataflare.model import PluginKind
from dataflare.runtime.worlds import world_for
from hypothesis import given
from hypothesis import strategies as st

# What componentize-py 0.25 imports for every guest (measured), plus our own two.
COMPONENTIZE_PY = [
    *(
        f"wasi:{n}@0.2.9"
        for n in (
            "io/poll",
            "clocks/monotonic-clock",
            "clocks/wall-clock",
            "random/random",
            "io/error",
            "io/streams",
            "cli/stdout",
            "cli/stderr",
            "cli/stdin",
            "cli/environment",
            "cli/exit",
            "cli/terminal-input",
            "cli/terminal-output",
            "cli/terminal-stdin",
            "cli/terminal-stdout",
            "cli/terminal-stderr",
            "filesystem/types",
            "filesystem/preopens",
            "sockets/network",
            "sockets/instance-network",
            "sockets/udp",
            "sockets/udp-create-socket",
            "sockets/tcp",
            "sockets/tcp-create-socket",
            "sockets/ip-name-lookup",
        )
    ),
    "dataflare:plugin/log@0.1.0",
    "dataflare:plugin/types@0.1.0",
]


def test_a_componentize_py_guest_is_never_refused_and_only_capabilities_warn():
    verdict = classify_imports(COMPONENTIZE_PY, world_for(PluginKind.FILTER))
    assert verdict.refused == ()
    warned = {name.split("/")[0] for name, _ in verdict.warned}
    assert warned == {"wasi:filesystem", "wasi:sockets"}
    assert len(verdict.allowed) + len(verdict.warned) == len(COMPONENTIZE_PY)
    assert "dataflare:plugin/log@0.1.0" in verdict.allowed


def test_unlinkable_imports_are_refused_with_a_reason():
    names = [
        "acme:net/fetch",
        "dataflare:plugin/secrets@0.1.0",
        "wasi:http/outgoing-handler@0.2.0",
        "wasi:random/random@0.3.0",
        "wasi:keyvalue/store@0.2.0-draft",
        "not an interface",
    ]
    verdict = classify_imports(names, world_for(PluginKind.SINK))
    assert [name for name, _ in verdict.refused] == sorted(names)
    reasons = dict(verdict.refused)
    assert "not part of the world" in reasons["dataflare:plugin/secrets@0.1.0"]
    assert "0.2.x" in reasons["wasi:random/random@0.3.0"]
    assert "wasi:http" in reasons["wasi:http/outgoing-handler@0.2.0"]
    assert verdict.allowed == () and verdict.warned == ()


@given(
    st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
        lambda s: s not in ("wasi", "dataflare")
    ),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
)
def test_any_foreign_package_is_refused(namespace, package, interface):
    name = f"{namespace}:{package}/{interface}"
    verdict = classify_imports([name], world_for(PluginKind.TRANSFORM))
    assert [n for n, _ in verdict.refused] == [name]
