"""hearing.py: when a node counts its subscription as having come back."""

import math

from node.hearing import Hearing


def test_a_probe_heard_after_one_went_unheard_counts_as_a_recovery() -> None:
    hearing = Hearing()
    for _ in range(3):  # start-up: probes until the subscription is confirmed
        hearing.sent()
    hearing.heard(1.0)
    assert hearing.recoveries == 0
    hearing.sent()
    hearing.heard(2.0)  # each round's probe comes back
    assert hearing.recoveries == 0
    hearing.sent()
    hearing.sent()  # the last one went unheard until this one was sent
    hearing.heard(3.0)
    assert hearing.recoveries == 1
    assert hearing.deaf_for(4.5) == 1.5


def test_deaf_for_ever_until_first_heard() -> None:
    assert Hearing().deaf_for(0.0) == math.inf
