"""``python -m bench.compare``: our cluster and the Node.js socket.io peer, side by side,
in one run, with the same load generator (this process) and the same workloads.

For each system (ours over TCP, ours over WebSocket, the peer over socket.io's
WebSocket transport): a throwaway Valkey and 2 server processes; the broadcast, then
the broadcast again at half its measured maximum rate (latency), then direct-message
ping-pong; then fresh servers for the login storm. CPU time of every server process and
of Valkey comes from /proc before and after each workload; this process's own CPU time
is reported too, so a generator limit shows as one. Everything started here is stopped
by PID in ``finally``. See docs/benchmarks.md for the method.
"""

import argparse
import functools
import importlib.metadata
import json
import platform
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from bench import live
from bench.procfs import cpu_model, cpu_seconds, rss_kib
from bench.report import Results, markdown
from bench.servers import Cluster, PeerInstall, start_ours, start_peer, wait_until_empty
from client.loadgen_storm import StormPlan, login_storm
from client.loadgen_wire import Dialect, SocketIo, TcpLines, WsLines
from client.loadgen_workloads import (
    BroadcastPlan,
    Meter,
    PingPongPlan,
    Result,
    broadcast,
    ping_pong,
)
from devcluster.redis_server import find_server_binary
from node import gc_policy

SYSTEMS = ("ours/TCP", "ours/WS", "peer")
WORKLOADS = ("broadcast", "latency", "direct", "storm")


def meter_of(cluster: Cluster) -> Meter:
    pids = cluster.pids()
    return lambda: {name: cpu_seconds(pid) for name, pid in pids.items()}


class Run:
    """One system's workloads; the servers of each phase started and stopped here."""

    def __init__(self, system: str, args: argparse.Namespace, peer: PeerInstall | None,
                 log_dir: Path, show: live.Display) -> None:
        self.system, self.args, self.peer, self.log_dir, self.show = (
            system, args, peer, log_dir, show)
        self.results: dict[str, Result] = {}

    def dialect(self) -> Dialect:
        return {"ours/TCP": TcpLines, "ours/WS": WsLines, "peer": SocketIo}[self.system]()

    def start(self) -> Cluster:
        if self.peer is not None:
            return start_peer(self.peer, self.args.nodes, self.log_dir)
        return start_ours(self.args.nodes, self.log_dir)

    def addresses(self, cluster: Cluster) -> list[tuple[str, int]]:
        return cluster.tcp if self.system == "ours/TCP" else cluster.http

    def measure(self, workload: str, cluster: Cluster,
                run: Callable[[Meter], Awaitable[Result]]) -> None:
        if workload not in self.args.workloads:
            return
        if self.peer is None:
            wait_until_empty(cluster)
        meter = meter_of(cluster)
        label = f"{self.system} {workload}"
        result = trio.run(functools.partial(self.show.watch, label, meter, run))
        self.results[workload] = result
        self.show.done(label, result)

    def all(self) -> dict[str, Result]:
        args, dialect = self.args, self.dialect()
        cluster = self.start()
        try:
            places = self.addresses(cluster)
            self.measure("broadcast", cluster, lambda meter: broadcast(dialect, BroadcastPlan(
                places, receivers=args.receivers, messages=args.messages), meter))
            rate = self._half_rate()
            self.measure("latency", cluster, lambda meter: broadcast(dialect, BroadcastPlan(
                places, receivers=args.receivers, rate=rate,
                messages=max(1, round(rate * args.latency_seconds))), meter))
            self.measure("direct", cluster, lambda meter: ping_pong(dialect, PingPongPlan(
                places, pairs=args.pairs, seconds=args.seconds), meter))
        finally:
            cluster.stop()
        if "storm" in args.workloads:
            self._storm(dialect)
        return self.results

    def _half_rate(self) -> float:
        if self.args.half_rate:
            return float(self.args.half_rate)
        found = self.results.get("broadcast", {}).get("broadcasts_per_s")
        return max(1.0, float(found) / 2) if isinstance(found, int | float) and found else 10.0

    def _storm(self, dialect: Dialect) -> None:
        args, cluster = self.args, self.start()
        try:
            first = next(iter(cluster.servers.values())).pid
            plan = StormPlan(self.addresses(cluster)[0], users=args.storm_users,
                             in_flight=args.storm_in_flight, timeout=args.storm_timeout)
            self.measure("storm", cluster, lambda meter: login_storm(
                dialect, plan, meter, lambda: rss_kib(first)))
        finally:
            cluster.stop()


def _output(command: list[str]) -> str:
    try:
        found = subprocess.run(command, capture_output=True, text=True, timeout=30)
        return (found.stdout or found.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def versions(peer: PeerInstall | None) -> dict[str, str]:
    found = {"machine": f"{cpu_model()}, {_output(['nproc'])} cores",
             "python": platform.python_version()}
    for package in ("trio", "valkey-glide", "wsproto", "h11", "python-engineio",
                    "python-socketio"):
        found[package] = importlib.metadata.version(package)
    found["valkey"] = _output([find_server_binary(), "--version"])
    found["code"] = _output(["git", "describe", "--always", "--dirty"])
    if peer is not None:
        found["node"] = _output(["node", "--version"])
        for package in ("socket.io", "@socket.io/redis-adapter", "redis"):
            found[f"{package} (npm)"] = peer.package_version(package)
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="(%(default)s)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="(%(default)s)")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--receivers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000, help="broadcasts (2000)")
    parser.add_argument("--latency-seconds", type=float, default=5.0)
    parser.add_argument("--half-rate", type=float, help="fix the half-load rate (msgall/s)")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="of ping-pong (10)")
    parser.add_argument("--storm-users", type=int, default=10_000)
    parser.add_argument("--storm-in-flight", type=int, default=200)
    parser.add_argument("--storm-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    parser.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    args = parser.parse_args(argv)
    args.systems = [s for s in args.systems.split(",") if s]
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.systems) - set(SYSTEMS) | set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    gc_policy.settle()  # the generator holds every simulated user too, as a node does
    command = shlex.join(["python", "-m", "bench.compare", *sys.argv[1:]])
    show = live.Display()
    results: Results = {}
    peer = None
    with tempfile.TemporaryDirectory(prefix="chat-compare-") as scratch:
        log_dir = args.log_dir or Path(scratch)
        log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if "peer" in args.systems:
                show.note("installing the peer (npm ci in a temporary directory)")
                peer = PeerInstall()
            for system in args.systems:
                run = Run(system, args, peer if system == "peer" else None, log_dir, show)
                results[system] = run.all()
            found = versions(peer)
        finally:
            if peer is not None:
                peer.cleanup()
    text = markdown(results, found, command)
    show.tables(results)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"command": command, "versions": found,
                                         "results": results}, indent=1))
    ok = all(r.get("ok") for workloads in results.values() for r in workloads.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
