"""hearing.py: when a node counts its subscription as having come back."""

import math

from node.hearing import Hearing

OWN = ("chat:node:n1",)
BOTH = ("chat:node:n1", "{chat}:broadcast")  # on a Redis Cluster: two shards


def test_a_probe_heard_after_one_went_unheard_counts_as_a_recovery() -> None:
    hearing = Hearing()
    for _ in range(3):  # start-up: probes until the subscription is confirmed
        hearing.sent(OWN)
    hearing.heard(1.0, OWN[0])
    assert hearing.recoveries == 0
    hearing.sent(OWN)
    hearing.heard(2.0, OWN[0])  # each round's probe comes back
    assert hearing.recoveries == 0
    hearing.sent(OWN)
    hearing.sent(OWN)  # the last one went unheard until this one was sent
    hearing.heard(3.0, OWN[0])
    assert hearing.recoveries == 1
    assert hearing.deaf_for(4.5) == 1.5


def test_deaf_for_ever_until_first_heard() -> None:
    assert Hearing().deaf_for(0.0) == math.inf


def test_on_a_cluster_heard_means_heard_on_every_channel() -> None:
    hearing = Hearing()
    hearing.sent(BOTH)
    hearing.heard(1.0, BOTH[0])
    assert hearing.deaf_for(2.0) == math.inf  # the broadcast channel's probe is missing
    hearing.heard(1.5, BOTH[1])
    assert hearing.deaf_for(2.0) == 1.0  # since the older of the two
    # The broadcast shard fails over: its probes go unheard, the node channel's do not.
    for now in (5.0, 10.0):
        hearing.sent(BOTH)
        hearing.heard(now, BOTH[0])
    assert hearing.deaf_for(10.0) == 8.5
    assert hearing.recoveries == 0
    hearing.sent(BOTH)
    hearing.heard(15.0, BOTH[0])
    hearing.heard(15.1, BOTH[1])
    assert hearing.recoveries == 1
    assert hearing.deaf_for(16.0) == 1.0
