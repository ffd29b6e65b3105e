"""The markers `make test-fast` deselects are enforced: an unmarked test cannot build or connect."""

from __future__ import annotations

import pytest
from support.guests import built_guest
from support.postgres import postgres_dsn
from support.redis import redis_url


def test_building_a_guest_in_an_unmarked_test_fails_naming_the_test():
    unmarked = r"test_markers\.py::\S+ builds guest rust/echo but is not marked 'guests'"
    with pytest.raises(AssertionError, match=unmarked):
        built_guest("rust", "echo")


def test_reaching_postgres_in_an_unmarked_test_fails_naming_the_test():
    with pytest.raises(AssertionError, match="uses PostgreSQL but is not marked 'postgres'"):
        postgres_dsn()


def test_reaching_redis_in_an_unmarked_test_fails_naming_the_test():
    with pytest.raises(AssertionError, match="uses redis-server but is not marked 'redis'"):
        redis_url()


@pytest.mark.guests
def test_the_guard_sees_the_markers_of_the_running_test(request):
    from support import markers

    assert markers._running == (request.node.nodeid, frozenset({"guests"}))
