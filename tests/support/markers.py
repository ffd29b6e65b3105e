"""The running test's markers, so a helper needing a toolchain or a server can insist on its own.

The root conftest marks tests by folder and by fixture; a test that builds a
guest some other way (in its body, or through a fixture of its own module)
carries ``@pytest.mark.guests`` itself. `require` turns a forgotten marker
into a failure naming the test, instead of letting ``make test-fast`` (which
deselects those markers) quietly build guests or start a server.
"""

from __future__ import annotations

_running: tuple[str, frozenset[str]] | None = None
"""(node id, marker names) of the test being set up, run or torn down."""


def enter(nodeid: str, markers: frozenset[str]) -> None:
    """A test starts (its fixtures included)."""
    global _running
    _running = (nodeid, markers)


def leave() -> None:
    """The test is done."""
    global _running
    _running = None


def require(marker: str, what: str) -> None:
    """Fail the running test when it lacks `marker`; outside tests (scripts) do nothing."""
    if _running is None:
        return
    nodeid, markers = _running
    if marker not in markers:
        raise AssertionError(
            f"{nodeid} {what} but is not marked {marker!r}: add @pytest.mark.{marker} "
            "(or mark it from tests/conftest.py by folder or fixture)"
        )
