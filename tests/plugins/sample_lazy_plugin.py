"""A plugin module that `sample_builtins` names; the tests check when it is imported."""

from dataflare.model import Record
from dataflare.plugins.base import FilterBase


class LazyKeep(FilterBase):
    def filter(self, record: Record) -> bool:
        return True
