"""What ``GET /status.json`` says, built from plain values: the cluster's nodes with
their heartbeat age and users, this node's connections, its message and delivery
rates over the last minute, Redis latency and the last drops.

Pure: the clock enters as arguments. The node feeds ``CounterHistory`` once a second
(``Metrics.keep_history``) and ``RecentDrops`` on every drop; both are bounded, and
the oldest entry goes when a new one comes. docs/operations.md lists the fields.
"""

from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

# A minute of per-second rates needs 61 samples (60 intervals between them).
HISTORY_SAMPLES = 61
RECENT_DROPS = 20


@dataclass(frozen=True)
class CounterTotals:
    """The node's counters at one moment, summed over their labels."""

    messages: float = 0.0
    deliveries: float = 0.0
    redis_seconds: float = 0.0  # the sum of the Redis round-trip histogram
    redis_batches: float = 0.0  # its count


class CounterHistory:
    """The last ``samples`` snapshots of the counters, each with its time."""

    def __init__(self, samples: int = HISTORY_SAMPLES) -> None:
        self._samples: deque[tuple[float, CounterTotals]] = deque(maxlen=samples)

    def record(self, now: float, totals: CounterTotals) -> None:
        self._samples.append((now, totals))

    def rates(self) -> tuple[list[float], list[float]]:
        """Messages and deliveries per second between consecutive samples, oldest first."""
        messages, deliveries = [], []
        for (then, before), (now, after) in pairwise(self._samples):
            elapsed = max(now - then, 1e-9)
            messages.append((after.messages - before.messages) / elapsed)
            deliveries.append((after.deliveries - before.deliveries) / elapsed)
        return messages, deliveries

    def span(self) -> float:
        """Seconds from the oldest sample to the newest."""
        if len(self._samples) < 2:
            return 0.0
        return self._samples[-1][0] - self._samples[0][0]

    def redis_batches(self) -> tuple[int, float | None]:
        """Redis batches over the history, and their mean round trip (None: none ran)."""
        if len(self._samples) < 2:
            return 0, None
        first, last = self._samples[0][1], self._samples[-1][1]
        batches = round(last.redis_batches - first.redis_batches)
        if batches <= 0:
            return 0, None
        return batches, (last.redis_seconds - first.redis_seconds) / batches


@dataclass(frozen=True)
class Drop:
    """A connection the node closed with ``bye <reason>``; ``time`` is wall-clock."""

    time: float
    peer: str
    user: str | None
    reason: str


class RecentDrops:
    def __init__(self, size: int = RECENT_DROPS) -> None:
        self._drops: deque[Drop] = deque(maxlen=size)

    def add(self, drop: Drop) -> None:
        self._drops.append(drop)

    def newest_first(self) -> list[Drop]:
        return list(reversed(self._drops))


@dataclass(frozen=True)
class NodeEntry:
    """A registered node as Redis has it: ``alive_ms`` is its alive key's remaining
    TTL (None: the key has expired, the node is silent), ``users`` how many it holds."""

    node_id: str
    alive_ms: int | None
    users: int


def heartbeat_age(heartbeat_ttl: float, alive_ms: int | None) -> float | None:
    """Seconds since the node's last heartbeat: each one sets the TTL afresh, so the
    age is what the TTL has lost since. (Assumes the node runs with the same TTL.)"""
    if alive_ms is None:
        return None
    return round(max(0.0, heartbeat_ttl - alive_ms / 1000), 3)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@dataclass(frozen=True)
class StatusInputs:
    """What the node knows locally when asked; ``nodes`` is None if Redis did not
    answer, ``query_seconds`` how long asking it took."""

    node_id: str
    now: float  # wall-clock, the same clock as the drops'
    heartbeat_interval: float
    heartbeat_ttl: float
    connections: dict[str, int]
    users: int
    nodes: list[NodeEntry] | None
    query_seconds: float | None


def build_status(inputs: StatusInputs, history: CounterHistory,
                 drops: RecentDrops) -> dict[str, Any]:
    """The document ``/status.json`` returns (docs/operations.md)."""
    messages, deliveries = history.rates()
    batches, mean = history.redis_batches()
    nodes = None if inputs.nodes is None else [
        {"id": entry.node_id, "heartbeat_age": heartbeat_age(inputs.heartbeat_ttl,
                                                             entry.alive_ms),
         "users": entry.users, "self": entry.node_id == inputs.node_id}
        for entry in sorted(inputs.nodes, key=lambda entry: entry.node_id)]
    return {
        "node": inputs.node_id,
        "time": inputs.now,
        "heartbeat": {"interval": inputs.heartbeat_interval, "ttl": inputs.heartbeat_ttl},
        "nodes": nodes,
        "connections": dict(sorted(inputs.connections.items())),
        "users": inputs.users,
        "rates": {"window": round(history.span(), 3),
                  "messages": [round(rate, 3) for rate in messages],
                  "deliveries": [round(rate, 3) for rate in deliveries]},
        "redis": {"query_ms": _ms(inputs.query_seconds), "batch_mean_ms": _ms(mean),
                  "batches": batches},
        "drops": [{"time": drop.time, "peer": drop.peer, "user": drop.user,
                   "reason": drop.reason} for drop in drops.newest_first()],
    }
