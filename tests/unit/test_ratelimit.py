"""Pacing a client's commands: time is passed in, so every case is exact."""

import pytest

from node.ratelimit import TokenBucket


def test_a_burst_passes_then_commands_are_spaced_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.1)  # the 4th waits one token's time
    assert bucket.take(0.0) == pytest.approx(0.2)  # and the 5th queues behind it


def test_idle_time_refills_up_to_the_burst_only() -> None:
    bucket = TokenBucket(rate=2, burst=2, now=0.0)
    bucket.take(0.0)
    bucket.take(0.0)
    assert bucket.take(100.0) == 0.0  # a long pause refills...
    assert bucket.take(100.0) == 0.0
    assert bucket.take(100.0) == pytest.approx(0.5)  # ...but never beyond the burst


def test_waiting_the_returned_delay_is_enough() -> None:
    bucket = TokenBucket(rate=4, burst=1, now=0.0)
    now = 0.0
    for _ in range(20):
        now += bucket.take(now)  # a client that always waits as told
    assert now == pytest.approx(19 / 4)


def test_rate_zero_switches_pacing_off() -> None:
    bucket = TokenBucket(rate=0, burst=1, now=0.0)
    assert all(bucket.take(0.0) == 0.0 for _ in range(1000))
