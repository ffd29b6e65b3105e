"""Plugin classes the registry tests load through entry points (not registered here)."""

from __future__ import annotations

from dataflare.model import Record
from dataflare.plugins.base import FilterBase, TransformBase


class KeepAll(FilterBase):
    """Keep every record."""

    def filter(self, record: Record) -> bool:
        return True


class Identity(TransformBase):
    """Return the record unchanged."""

    def transform(self, record: Record) -> Record:
        return record


class NotAPlugin:
    """Has none of the methods."""


NOT_A_CLASS = 42
