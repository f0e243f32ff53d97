"""One report per interval, with a count of what was held back in between."""

from node.config import FD_HEADROOM, UNLIMITED_CONNECTIONS, connection_limit
from node.throttle import Throttle


def test_the_first_report_goes_out_then_one_per_interval_with_the_count() -> None:
    throttle = Throttle(10.0)
    assert throttle.report(100.0) == 0
    assert [throttle.report(100.0 + t) for t in (0.1, 1, 5, 9.9)] == [None] * 4
    assert throttle.report(110.0) == 4
    assert throttle.report(110.5) is None
    assert throttle.report(500.0) == 1


def test_connection_limit_leaves_headroom_under_the_open_files_limit() -> None:
    assert connection_limit(0, 1024) == 1024 - FD_HEADROOM
    assert connection_limit(0, 100) == 1  # a tiny limit still serves someone
    assert connection_limit(0, None) == UNLIMITED_CONNECTIONS
    assert connection_limit(0, 10**9) == UNLIMITED_CONNECTIONS
    assert connection_limit(5000, 1024) == 5000  # the operator's word wins
