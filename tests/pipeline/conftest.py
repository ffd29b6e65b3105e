"""Fixtures for the pipeline tests: test plugins, a pipeline-file writer."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import dfpipe_plugins
import pytest


@pytest.fixture(autouse=True)
def _fresh_test_plugins() -> Iterator[None]:
    dfpipe_plugins.EVENTS.clear()
    dfpipe_plugins.LogSink.RECEIVED.clear()
    yield


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str], Path]:
    """Write a dedented pipeline file into tmp_path and return its path."""

    def write(text: str, name: str = "pipeline.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
