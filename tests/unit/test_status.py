"""The status document, built from plain values: rates from counter samples, heartbeat
ages from TTLs, nodes and drops in their order, every buffer bounded."""

import pytest

from node.status import (
    CounterHistory,
    CounterTotals,
    Drop,
    NodeEntry,
    RecentDrops,
    StatusInputs,
    build_status,
    heartbeat_age,
)


def inputs(**changes: object) -> StatusInputs:
    values: dict[str, object] = dict(
        node_id="n-2", now=1_700_000_000.0, heartbeat_interval=5.0, heartbeat_ttl=15.0,
        connections={"ws": 2, "tcp": 1}, users=3, nodes=[], query_seconds=0.0004)
    return StatusInputs(**{**values, **changes})  # type: ignore[arg-type]


def test_rates_are_per_second_between_samples_oldest_first() -> None:
    history = CounterHistory()
    history.record(10.0, CounterTotals(messages=0, deliveries=0))
    history.record(11.0, CounterTotals(messages=5, deliveries=20))
    history.record(13.0, CounterTotals(messages=9, deliveries=20))  # a late sample: 2 s
    assert history.rates() == ([5.0, 2.0], [20.0, 0.0])
    assert history.span() == 3.0


def test_the_history_keeps_one_minute_of_rates() -> None:
    history = CounterHistory()
    for second in range(100):
        history.record(float(second), CounterTotals(messages=second * 2))
    messages, deliveries = history.rates()
    assert messages == [2.0] * 60 and len(deliveries) == 60
    assert history.span() == 60.0


@pytest.mark.parametrize("samples, expected", [
    ([], (0, None)),
    ([(0.0, CounterTotals(redis_seconds=1.0, redis_batches=10))], (0, None)),
    ([(0.0, CounterTotals(redis_seconds=1.0, redis_batches=10)),
      (1.0, CounterTotals(redis_seconds=1.0, redis_batches=10))], (0, None)),
    ([(0.0, CounterTotals(redis_seconds=1.0, redis_batches=10)),
      (1.0, CounterTotals(redis_seconds=1.002, redis_batches=12)),
      (2.0, CounterTotals(redis_seconds=1.004, redis_batches=14))], (4, pytest.approx(0.001))),
])
def test_redis_mean_is_over_the_batches_in_the_window(
        samples: list[tuple[float, CounterTotals]], expected: tuple[int, float | None]) -> None:
    history = CounterHistory()
    for now, totals in samples:
        history.record(now, totals)
    assert history.redis_batches() == expected


@pytest.mark.parametrize("alive_ms, age", [
    (15_000, 0.0), (14_600, 0.4), (1, 14.999), (16_000, 0.0), (None, None),
])
def test_heartbeat_age_is_what_the_ttl_lost(alive_ms: int | None, age: float | None) -> None:
    assert heartbeat_age(15.0, alive_ms) == age


def test_nodes_sorted_by_id_with_ages_users_and_this_node_marked() -> None:
    document = build_status(inputs(nodes=[
        NodeEntry("n-3", None, 0), NodeEntry("n-2", 14_000, 3), NodeEntry("n-1", 12_500, 7),
    ]), CounterHistory(), RecentDrops())
    assert document["nodes"] == [
        {"id": "n-1", "heartbeat_age": 2.5, "users": 7, "self": False},
        {"id": "n-2", "heartbeat_age": 1.0, "users": 3, "self": True},
        {"id": "n-3", "heartbeat_age": None, "users": 0, "self": False},
    ]
    assert document["node"] == "n-2"
    assert document["heartbeat"] == {"interval": 5.0, "ttl": 15.0}
    assert document["connections"] == {"tcp": 1, "ws": 2}
    assert document["users"] == 3


def test_redis_unanswered_leaves_nodes_null_and_the_rest_local() -> None:
    document = build_status(inputs(nodes=None, query_seconds=None), CounterHistory(),
                            RecentDrops())
    assert document["nodes"] is None
    assert document["redis"] == {"query_ms": None, "batch_mean_ms": None, "batches": 0}
    assert document["rates"] == {"window": 0.0, "messages": [], "deliveries": []}


def test_rates_and_redis_figures_in_the_document() -> None:
    history = CounterHistory()
    history.record(0.0, CounterTotals(1, 1, 0.5, 100))
    history.record(1.0, CounterTotals(4, 10, 0.503, 103))
    document = build_status(inputs(), history, RecentDrops())
    assert document["rates"] == {"window": 1.0, "messages": [3.0], "deliveries": [9.0]}
    assert document["redis"] == {"query_ms": 0.4, "batch_mean_ms": 1.0, "batches": 3}


def test_drops_newest_first_and_only_the_last_ones_kept() -> None:
    drops = RecentDrops(size=3)
    for index in range(5):
        drops.add(Drop(100.0 + index, f"tcp:127.0.0.1:{index}", f"u{index}" if index else None,
                       "slow"))
    document = build_status(inputs(), CounterHistory(), drops)
    assert [drop["peer"] for drop in document["drops"]] == \
        ["tcp:127.0.0.1:4", "tcp:127.0.0.1:3", "tcp:127.0.0.1:2"]
    assert document["drops"][0] == {"time": 104.0, "peer": "tcp:127.0.0.1:4", "user": "u4",
                                    "reason": "slow"}
