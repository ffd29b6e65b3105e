"""Fixtures for the plugin-layer tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _dataflare_logs_propagate() -> Iterator[None]:
    """Let caplog see DataFlare's log records even after an in-process `dataflare run`.

    `dataflare run` turns propagation off on the "dataflare" logger for the
    rest of the process, which would hide every record from caplog.
    """
    logger = logging.getLogger("dataflare")
    saved = logger.propagate
    logger.propagate = True
    yield
    logger.propagate = saved
