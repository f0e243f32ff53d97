"""Every metric a node exports at ``GET /metrics``, defined here and nowhere else.

Each node has its own ``CollectorRegistry`` (tests run several nodes in one process,
so the library's global registry would mix them), with the process and platform
collectors in it. Labels take values from small fixed sets (transports, login results,
``ByeReason``, command names), never a user name; each set is created at zero so a
series exists before its first event. Gauges of state the node already keeps (users,
queued lines, the self-probe's age) and the counts that ``cluster`` and ``hearing``
keep as plain integers are read when Prometheus scrapes, so the paths that change
them carry no metrics code. docs/operations.md lists them all.

For the status page (``status.py``) the node also keeps here a minute of the message,
delivery and Redis counters, sampled once a second, and the last connections it dropped
with who and why (``Connection.drop`` adds them; clients turned away at the door are
only counted, so a flood of refusals cannot push the drops out).
"""

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import trio
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from node.protocol import COMMANDS, ByeReason
from node.session import LoginResult
from node.status import CounterHistory, CounterTotals, RecentDrops

if TYPE_CHECKING:
    from node.services import NodeServices

# The classic text format; Prometheus asks for nothing newer by default.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# A `<name>_created` gauge per counter doubles the series for no use of ours. (The
# library keeps this switch process-wide.)
disable_created_metrics()

TRANSPORTS = ("tcp", "ws")
BROADCAST, DIRECT, PRESENCE = "broadcast", "direct", "presence"
MESSAGE_KINDS = (BROADCAST, DIRECT)
DELIVERY_KINDS = (BROADCAST, DIRECT, PRESENCE)
# From a same-machine hop (under a millisecond) to a node seconds behind.
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
               2.5, 5.0, 10.0)
# One batch round trip: tens of microseconds to the redis_timeout (2 s by default).
REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                 0.25, 0.5, 1.0, 2.5)
# How often the status page's history samples the counters.
HISTORY_INTERVAL = 1.0


class Metrics:
    """One node's metrics. The edge modules call the counting methods; ``watch`` ties
    the read-at-scrape metrics to the node's services once they exist."""

    def __init__(self) -> None:
        self.history = CounterHistory()
        self.recent_drops = RecentDrops()
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.connections = Gauge("chat_connections", "Client connections open on this node.",
                                 ["transport"], registry=r)
        self.users = Gauge("chat_users", "Users logged in on this node.", registry=r)
        self.logins = Counter("chat_logins", "Login attempts by result.", ["result"],
                              registry=r)
        self.drops = Counter("chat_drops", "Connections the node closed with `bye <reason>`.",
                             ["reason"], registry=r)
        self.slow_consumer_drops = Counter(
            "chat_slow_consumer_drops", "Clients dropped because their outbox overflowed.",
            registry=r)
        self.outbox_lines = Gauge("chat_outbox_lines",
                                  "Lines queued in client outboxes, not yet handed to "
                                  "their sockets.", registry=r)
        self.probe_age = Gauge("chat_self_probe_age_seconds",
                               "Seconds since this node last heard its own pub/sub probe.",
                               registry=r)
        # The message path: each count is one pre-bound child's inc() (about 0.6 µs) per
        # command, per message published or per message fanned out (not per recipient:
        # a fan-out adds its recipients at once); docs/benchmarks.md has the cost.
        self.commands = Counter("chat_commands", "Client commands received, by command.",
                                ["command"], registry=r)
        self.messages_published = Counter("chat_messages_published",
                                          "Messages this node published, by kind.", ["kind"],
                                          registry=r)
        self.deliveries = Counter("chat_deliveries", "Lines offered to local recipients, "
                                  "by kind.", ["kind"], registry=r)
        self.delivery_lag = Histogram("chat_delivery_lag_seconds", "From a message's publish "
                                      "(time in its envelope) to its delivery here.",
                                      buckets=LAG_BUCKETS, registry=r)
        self.redis_command_seconds = Histogram("chat_redis_command_seconds",
                                               "Redis round trips (one batch each).",
                                               buckets=REDIS_BUCKETS, registry=r)
        self.paced_commands = Counter("chat_paced_commands", "Client lines read late "
                                      "because the client was over its rate.", registry=r)
        for values, metric in ((TRANSPORTS, self.connections), (tuple(LoginResult), self.logins),
                               (tuple(ByeReason), self.drops), (tuple(COMMANDS), self.commands),
                               (MESSAGE_KINDS, self.messages_published),
                               (DELIVERY_KINDS, self.deliveries)):
            for value in values:
                metric.labels(value)
        # Children bound once: labels() on every message would cost 2 µs instead of 0.6.
        self._commands = {name: self.commands.labels(name) for name in COMMANDS}
        self._published = {kind: self.messages_published.labels(kind) for kind in MESSAGE_KINDS}
        self._delivered = {kind: self.deliveries.labels(kind) for kind in DELIVERY_KINDS}

    def watch(self, services: "NodeServices",
              clock: Callable[[], float] = trio.current_time) -> None:
        """Read what the node already keeps when scraped (``clock`` for the probe's age)."""
        self.users.set_function(lambda: len(services.local_users))
        self.outbox_lines.set_function(services.connections.queued_lines)
        self.probe_age.set_function(lambda: services.hearing.deaf_for(clock()))
        self.registry.register(_Counts({
            "chat_redis_errors": ("Redis operations that failed or timed out.",
                                  lambda: services.cluster.failures),
            "chat_pubsub_reconnects": ("Times the subscription was heard again after "
                                       "missing a self-probe (it had been lost).",
                                       lambda: services.hearing.recoveries),
        }))

    def command(self, name: str) -> None:
        counter = self._commands.get(name)
        if counter is not None:
            counter.inc()

    def published(self, kind: str) -> None:
        self._published[kind].inc()

    def delivered(self, kind: str, recipients: int, sent: float | None = None) -> None:
        """A message handed to ``recipients`` local users; ``sent``: its publish time."""
        if recipients:
            self._delivered[kind].inc(recipients)
        if sent is not None:
            self.delivery_lag.observe(max(0.0, time.time() - sent))

    def login(self, result: str) -> None:
        self.logins.labels(result).inc()

    def dropped(self, reason: ByeReason) -> None:
        self.drops.labels(reason).inc()
        if reason is ByeReason.SLOW:
            self.slow_consumer_drops.inc()

    def totals(self) -> CounterTotals:
        redis = _summed(self.redis_command_seconds)
        return CounterTotals(
            messages=_summed(self.messages_published)["chat_messages_published_total"],
            deliveries=_summed(self.deliveries)["chat_deliveries_total"],
            redis_seconds=redis["chat_redis_command_seconds_sum"],
            redis_batches=redis["chat_redis_command_seconds_count"])

    def connections_by_transport(self) -> dict[str, int]:
        return {sample.labels["transport"]: int(sample.value)
                for family in self.connections.collect() for sample in family.samples}

    async def keep_history(self, interval: float = HISTORY_INTERVAL, *,
                           task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                           ) -> None:
        """Sample the counters for the status page every ``interval``, for ever."""
        task_status.started()
        while True:
            self.history.record(trio.current_time(), self.totals())
            await trio.sleep(interval)  # a sampling period, not a synchronisation

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _summed(metric: Counter | Histogram) -> dict[str, float]:
    """A metric's samples by name, added up over their labels."""
    sums: dict[str, float] = defaultdict(float)
    for family in metric.collect():
        for sample in family.samples:
            sums[sample.name] += sample.value
    return sums


class _Counts(Collector):
    """Counters whose values other modules keep as plain integers."""

    def __init__(self, counts: dict[str, tuple[str, Callable[[], int]]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, read) in self._counts.items():
            yield CounterMetricFamily(name, documentation, value=read())
