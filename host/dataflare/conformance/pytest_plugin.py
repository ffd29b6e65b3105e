"""pytest plugin: run the conformance checks inside a plugin author's own test suite.

Installed with DataFlare (entry point ``pytest11``), it stays inert unless
asked: importing it loads nothing heavy, and without ``--dataflare-plugin``
it adds no tests. With it::

    pytest --dataflare-plugin build/my_filter.wasm --dataflare-param field=status

adds one test per check (``dataflare-check::<check>``) that fails with the
check's reason and smallest failing input. For a test of your own, the
``dataflare_check`` fixture runs the suite on any path and returns the
`dataflare.conformance.Report`::

    def test_my_filter_conforms(dataflare_check):
        report = dataflare_check("build/my_filter.wasm", params={"field": "status"})
        assert report.passed, report.failures
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dataflare.errors import ConformanceFailure

if TYPE_CHECKING:
    from dataflare.conformance._results import Report

__all__ = [
    "ConformanceItem",
    "ConformanceWarning",
    "dataflare_check",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
]

_REPORT_KEY = pytest.StashKey["Report"]()


class ConformanceWarning(UserWarning):
    """A check passed with a warning (e.g. a capability import the sandbox does not grant)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--dataflare-*`` options."""
    group = parser.getgroup("dataflare", "DataFlare plugin conformance")
    group.addoption(
        "--dataflare-plugin",
        action="append",
        default=[],
        metavar="PATH",
        help="check this plugin component (.wasm); repeat for several",
    )
    group.addoption(
        "--dataflare-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter passed to configure (repeat for several)",
    )
    group.addoption(
        "--dataflare-world", default=None, metavar="KIND", help="the world it must target"
    )
    group.addoption("--dataflare-seed", type=int, default=0, metavar="N", help="hypothesis seed")
    group.addoption(
        "--dataflare-examples",
        type=int,
        default=None,
        metavar="N",
        help="generated examples per property check",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Reject malformed ``--dataflare-*`` options before any test runs."""
    if config.getoption("dataflare_plugin", default=None):
        _options(config)


def _options(config: pytest.Config) -> dict[str, Any]:
    params = {}
    for text in config.getoption("dataflare_param"):
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise pytest.UsageError(f"--dataflare-param expects NAME=VALUE, got {text!r}")
        params[name] = value
    options: dict[str, Any] = {"params": params, "seed": config.getoption("dataflare_seed")}
    world = config.getoption("dataflare_world")
    if world:
        from dataflare.model import PluginKind

        try:
            options["world"] = PluginKind(world)
        except ValueError:
            kinds = ", ".join(kind.value for kind in PluginKind)
            raise pytest.UsageError(f"--dataflare-world must be one of {kinds}") from None
    examples = config.getoption("dataflare_examples")
    if examples is not None:
        options["examples"] = examples
    return options


class _PluginFile(pytest.Collector):
    """The checks of one component, collected as one test each."""

    def collect(self) -> Iterator[pytest.Item]:
        """One item per check, in report order."""
        from dataflare.conformance._results import CHECK_NAMES

        for name in CHECK_NAMES:
            yield ConformanceItem.from_parent(self, name=name, check=name)

    def report(self) -> Report:
        """The component's report, computed once for all its items."""
        cached: Report | None = self.stash.get(_REPORT_KEY, None)
        if cached is None:
            from dataflare.conformance import run_checks

            cached = run_checks(self.path, **_options(self.config))
            self.stash[_REPORT_KEY] = cached
        return cached


class ConformanceItem(pytest.Item):
    """One conformance check of one component, as a test."""

    def __init__(self, *, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        """Fail, skip or warn as the check did."""
        from dataflare.conformance import Status

        assert isinstance(self.parent, _PluginFile)
        result = self.parent.report().check(self.check)
        if result.status is Status.SKIP:
            pytest.skip(result.detail)
        if result.status is Status.WARN:
            warnings.warn(ConformanceWarning(f"{self.check}: {result.detail}"), stacklevel=1)
        if result.status is Status.FAIL:
            lines = [f"{self.check}: {result.detail}"]
            if result.input is not None:
                lines.append(f"smallest input: {result.input}")
            lines.extend(result.notes[:5])
            raise ConformanceFailure("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Just the check's reason: a traceback into the suite would tell the author nothing."""
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the test comes from: the component file."""
        assert isinstance(self.parent, _PluginFile)
        return self.parent.path, None, f"dataflare check {self.parent.path.name}::{self.check}"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the checks of every ``--dataflare-plugin`` component to the run."""
    for raw in config.getoption("dataflare_plugin"):
        path = Path(raw)
        name = f"dataflare-check[{raw}]"
        collector = _PluginFile.from_parent(session, name=name, path=path.resolve(), nodeid=name)
        items.extend(collector.collect())


@pytest.fixture
def dataflare_check() -> Callable[..., Report]:
    """Run the conformance suite: ``dataflare_check(path, params=..., examples=...)`` -> Report."""
    from dataflare.conformance import run_checks

    return run_checks
