"""devcluster.processes.users_from_health: the user count in a ``/healthz`` body."""

import pytest

from devcluster.processes import users_from_health


@pytest.mark.parametrize("body, users", [
    ("ok n1 users=0\n", 0),
    ("ok bench-2 users=1000\n", 1000),
    ("ok users=3 users=7\n", 7),  # a node id may hold "users=": the count is last
    ("stopping\n", None),
    ("redis unreachable\n", None),
    ("full (3 connections)\n", None),
    ("ok n1 users=\n", None),
    ("", None),
])
def test_the_count_is_read_from_the_end(body: str, users: int | None) -> None:
    assert users_from_health(body) == users
