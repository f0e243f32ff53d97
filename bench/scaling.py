"""``python -m bench.scaling``: how our cluster's cost grows with nodes and with shards.

Each configuration, ``N`` (N nodes on one Valkey) or ``N@S`` (N nodes on a Valkey
Cluster of S primaries, no replicas, the nodes with ``--redis-cluster``), gets fresh
servers from ``bench.servers`` and runs two of ``bench.compare``'s workloads over TCP,
with the same load on every node whatever their number, and paced, so that a machine
with few cores is not saturated: the broadcast (receivers per node, round robin, one
sender on the first node, a fixed rate of broadcasts), and direct messages between
pairs (pair i from node i to node i + 1, pairs and pings per second per node, sent
whether or not the last pong is back); then idle users (per node), connected and
silent, whose cost is the nodes' heartbeats re-asserting them. For each it reports the
server CPU per delivery (or per round trip), split into the nodes and each Redis
process, and the Redis commands per message: the ``INFO commandstats`` deltas summed
over the shards. Node CPU comes from /proc, Redis's from its own ``INFO cpu`` (finer);
both, and the command counts, are read at the start and at the end of each workload's
measured window. Only our system runs: no peer. docs/scaling.md has the method and the
figures; ``bench.scaling_report`` the tables.
"""

import argparse
import functools
import json
import shlex
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from bench import redis_info
from bench.compare import versions
from bench.procfs import cpu_seconds
from bench.redis_info import RedisReading
from bench.scaling_report import markdown
from bench.servers import Cluster, start_ours, wait_until_empty
from client.loadgen_wire import TcpLines
from client.loadgen_workloads import (
    BroadcastPlan,
    IdlePlan,
    PingPongPlan,
    Result,
    broadcast,
    idle,
    ping_pong,
)
from devcluster.valkey_cluster import ValkeyCluster
from node import gc_policy
from node.keys import Keys

DEFAULT_CONFIGS = "1,2,3,3@1,3@3"


@dataclass(frozen=True)
class Config:
    nodes: int
    shards: int  # 0: one Valkey, not a cluster

    @property
    def label(self) -> str:
        redis = _count(self.shards, "shard") if self.shards else "one Valkey"
        return f"{_count(self.nodes, 'node')}, {redis}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def parse_config(text: str) -> Config:
    nodes, _, shards = text.partition("@")
    config = Config(int(nodes), int(shards or 0))
    if config.nodes < 1 or config.shards < 0:
        raise ValueError(f"not a configuration: {text!r}")
    return config


class Meter:
    """The workloads' meter: CPU seconds by process name. Each reading also keeps every
    Redis process's INFO, so the first and the last reading bound the same window as
    the CPU figures the workload reports."""

    def __init__(self, cluster: Cluster) -> None:
        pids = cluster.pids()
        self._nodes = {name: pids[name] for name in cluster.servers}
        self._redis = cluster.redis_ports()
        self._first: dict[str, RedisReading] = {}
        self._last: dict[str, RedisReading] = {}

    def __call__(self) -> dict[str, float]:
        readings = {name: redis_info.read(port) for name, port in self._redis.items()}
        self._first = self._first or readings
        self._last = readings
        return ({name: cpu_seconds(pid) for name, pid in self._nodes.items()}
                | {name: reading.cpu_s for name, reading in readings.items()})

    def first_readings(self) -> dict[str, RedisReading]:
        return self._first

    def redis_work(self) -> dict[str, RedisReading]:
        """Per Redis process, what it did between the first and the last reading."""
        return {name: self._last[name].since(self._first[name]) for name in self._redis}


def roles(cluster: Cluster) -> dict[str, str]:
    """On a Valkey Cluster, which process serves the registry's slot (and with it the
    broadcast channel) and which serves each node's channel."""
    if not isinstance(cluster.redis, ValkeyCluster):
        return {}
    by_port = {port: name for name, port in cluster.redis_ports().items()}
    keys = Keys(cluster=True)
    found = {"registry": by_port[cluster.redis.primary_for_key(keys.users)]}
    for node in cluster.servers:
        found[node] = by_port[cluster.redis.primary_for_key(keys.node_channel(node))]
    return found


def measure(cluster: Cluster, run: Callable[[Meter], Awaitable[Result]]) -> Result:
    wait_until_empty(cluster)
    meter = Meter(cluster)
    before = redis_info.total({name: redis_info.read(port)
                               for name, port in cluster.redis_ports().items()})
    result = trio.run(run, meter)
    work = meter.redis_work()
    result["redis_calls"] = redis_info.total(work).calls
    result["redis_usec"] = redis_info.total(work).usec
    result["redis_calls_by_server"] = {name: reading.calls for name, reading in work.items()}
    # What the workload's users hold in Redis: from before they logged in to the
    # start of the measured window.
    logged_in = redis_info.total(meter.first_readings())
    result["redis_memory_growth"] = logged_in.memory - before.memory
    return result


def run_config(config: Config, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    cluster = start_ours(config.nodes, log_dir, shards=config.shards)
    dialect = TcpLines()
    try:
        found: dict[str, Any] = {"label": config.label, "nodes": list(cluster.servers),
                         "redis": list(cluster.redis_ports()), "roles": roles(cluster)}
        plan = BroadcastPlan(cluster.tcp, receivers=args.receivers_per_node * config.nodes,
                             messages=args.messages, rate=args.broadcast_rate)
        found["broadcast"] = measure(cluster, functools.partial(broadcast, dialect, plan))
        pairs = PingPongPlan(cluster.tcp, pairs=args.pairs_per_node * config.nodes,
                             seconds=args.seconds,
                             rate=args.direct_rate_per_node * config.nodes)
        found["direct"] = measure(cluster, functools.partial(ping_pong, dialect, pairs))
        if args.idle_users_per_node:
            silent = IdlePlan(cluster.tcp, users=args.idle_users_per_node * config.nodes,
                              seconds=args.idle_seconds)
            found["idle"] = measure(cluster, functools.partial(idle, dialect, silent))
        return found
    finally:
        cluster.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help="N or N@S (N nodes on a cluster of S shards), comma-separated "
                        "(%(default)s)")
    parser.add_argument("--receivers-per-node", type=int, default=100)
    parser.add_argument("--messages", type=int, default=800, help="broadcasts (%(default)s)")
    parser.add_argument("--broadcast-rate", type=float, default=100.0,
                        help="broadcasts per second; 0: back to back (%(default)s)")
    parser.add_argument("--pairs-per-node", type=int, default=20)
    parser.add_argument("--direct-rate-per-node", type=float, default=250.0,
                        help="round trips per second per node; 0: each pair's next ping "
                        "as its pong arrives (%(default)s)")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="of direct messages (%(default)s)")
    parser.add_argument("--idle-users-per-node", type=int, default=1000,
                        help="0: no idle phase (%(default)s)")
    parser.add_argument("--idle-seconds", type=float, default=12.0,
                        help="(%(default)s; the nodes' heartbeat comes every 5 s)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    args = parser.parse_args(argv)
    try:
        args.configs = [parse_config(c) for c in args.configs.split(",") if c]
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    gc_policy.settle()  # the generator holds every simulated user too, as a node does
    command = shlex.join(["python", "-m", "bench.scaling", *(sys.argv[1:] if argv is None
                                                             else argv)])
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="chat-scaling-") as scratch:
        log_dir = args.log_dir or Path(scratch)
        log_dir.mkdir(parents=True, exist_ok=True)
        for config in args.configs:
            print(f"{config.label} …", file=sys.stderr, flush=True)
            results[config.label] = run_config(config, args, log_dir)
    found = versions(None)
    text = markdown(results, found, command)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"command": command, "versions": found,
                                         "results": results}, indent=1))
    ok = all(found[workload].get("ok") for found in results.values()
             for workload in ("broadcast", "direct", "idle") if workload in found)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
