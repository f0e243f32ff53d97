"""``python -m bench.run``: a throwaway Redis and N node processes on free loopback
ports, the load generator against them, and the numbers as Markdown tables.

For each user count: fresh nodes (so RSS starts from the same baseline), a broadcast
scenario, with each node's RSS read from /proc before the logins and again once every
user is in, then a direct-message scenario on the same nodes. The load generator runs
in this process (``trio.run`` per scenario). Node logs go to files, and slow-consumer
drops and errors in them are counted per scenario. Everything started here is
stopped by PID in ``finally``.
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trio

from bench.procfs import cpu_seconds, rss_kib
from client.loadgen import LoadConfig, Summary, describe, run_load
from devcluster.processes import NodeProcess, start_node, stop_processes, wait_users
from devcluster.redis_server import RedisServer

LOG_MARKS = {"slow_drops": "dropping slow consumer", "errors": " ERROR ",
             "tracebacks": "Traceback"}
# The load generator's senders are floods on purpose: measure the nodes, not the
# per-client pacing (10 commands/s by default).
NODE_FLAGS = ("--command-rate", "0")


@dataclass
class Outcome:
    label: str
    summary: Summary
    rss_before_kib: list[int]
    rss_after_kib: list[int]
    log_counts: dict[str, int]
    # CPU seconds per process (and "wall") in each phase: "login" (with presence), "messages"
    cpu_seconds: dict[str, dict[str, float]]

    @property
    def rss_per_user_kib(self) -> float | None:
        if not self.rss_after_kib:
            return None
        grown = sum(self.rss_after_kib) - sum(self.rss_before_kib)
        return grown / int(self.summary["users"])  # type: ignore[call-overload]


def wait_until(nodes: list[NodeProcess], users: int, timeout: float) -> None:
    """Poll ``/healthz`` until every node is healthy and holds ``users`` users."""
    try:
        wait_users(nodes, users, timeout)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def cpu_snapshot(processes: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process, of this one (the load generator), and the clock."""
    snapshot = {name: cpu_seconds(pid) for name, pid in processes.items()}
    return snapshot | {"loadgen": time.process_time(), "wall": time.monotonic()}


def count_log_marks(nodes: list[NodeProcess]) -> dict[str, int]:
    text = "".join(node.log_path.read_text(errors="replace") for node in nodes
                   if node.log_path is not None)  # all of them: started with a log file
    return {key: text.count(mark) for key, mark in LOG_MARKS.items()}


def run_scenario(label: str, config: LoadConfig, nodes: list[NodeProcess],
                 processes: dict[str, int], measure_rss: bool) -> Outcome:
    pids = [node.process.pid for node in nodes]
    before = [rss_kib(pid) for pid in pids] if measure_rss else []
    after: list[int] = []
    snapshots = [cpu_snapshot(processes)]

    async def logged_in() -> None:
        snapshots.append(cpu_snapshot(processes))
        if measure_rss:
            after.extend(rss_kib(pid) for pid in pids)

    marks = count_log_marks(nodes)
    summary = trio.run(run_load, config, logged_in)
    snapshots.append(cpu_snapshot(processes))
    # Without the hook (logins failed) the one phase is all "login".
    phases = zip(("login", "messages"), snapshots, snapshots[1:], strict=False)
    used = {phase: {name: later[name] - earlier[name] for name in later}
            for phase, earlier, later in phases}
    print(f"[{label}] {describe(summary)}", file=sys.stderr, flush=True)
    wait_until(nodes, 0, timeout=30)  # the next scenario starts from an empty cluster
    counts = {key: value - marks[key] for key, value in count_log_marks(nodes).items()}
    return Outcome(label, summary, before, after, counts, used)


def scenarios(args: argparse.Namespace, users: int,
              addresses: tuple[tuple[str, int], ...]) -> list[tuple[str, LoadConfig]]:
    common = {"nodes": addresses, "users": users, "senders": args.senders,
              "settle_timeout": args.settle}
    chosen = [("broadcast, closed loop",
               LoadConfig(mode="broadcast", messages=args.broadcast_messages, **common))]
    if args.paced_rate > 0:
        chosen.append((f"broadcast, {args.paced_rate:g} msg/s", LoadConfig(
            mode="broadcast", messages=args.paced_messages, rate=args.paced_rate, **common)))
    chosen.append(("direct, closed loop",
                   LoadConfig(mode="direct", messages=args.direct_messages, **common)))
    return chosen


def run_user_count(redis: RedisServer, args: argparse.Namespace, users: int,
                   log_dir: Path) -> list[Outcome]:
    """Fresh nodes for ``users``; the first scenario also measures RSS per user."""
    prefix = f"bench{users}x{time.monotonic_ns() % 100000}"
    node_ids = [f"bench-{index + 1}" for index in range(args.nodes)]
    nodes = [start_node(redis.url, node_id, key_prefix=prefix, extra=NODE_FLAGS,
                        log_path=log_dir / f"{prefix}-{node_id}.log") for node_id in node_ids]
    try:
        wait_until(nodes, 0, timeout=30)
        assert redis.process is not None
        processes = {node.node_id: node.process.pid for node in nodes}
        processes["redis"] = redis.process.pid
        addresses = tuple(("127.0.0.1", node.tcp_port) for node in nodes)
        return [run_scenario(label, config, nodes, processes, measure_rss=index == 0)
                for index, (label, config) in enumerate(scenarios(args, users, addresses))]
    finally:
        stop_processes([node.process for node in nodes])


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = [_row(header), _row(["---"] * len(header)), *(_row(row) for row in rows)]
    return "\n".join(lines)


def _parts(outcome: Outcome) -> tuple[Summary, dict, dict, dict]:
    s = outcome.summary
    login, seen, delivery = s["login"], s["presence"], s["delivery"]
    assert isinstance(login, dict) and isinstance(seen, dict) and isinstance(delivery, dict)
    return s, login, seen, delivery


def login_row(outcome: Outcome) -> list[object]:
    s, login, seen, _ = _parts(outcome)
    rss = outcome.rss_per_user_kib
    return [s["users"], outcome.label, login["per_s"], login["p50_ms"], login["p99_ms"],
            login["max_ms"], seen["seconds"],
            f"{seen['incomplete_users']} / {seen['missing_names']}",
            "" if rss is None else f"{rss:.1f}"]


def message_row(outcome: Outcome) -> list[object]:
    s, _, _, d = _parts(outcome)
    faults = f"{d['losses']} / {d['duplicates']} / {d['reordered']}"
    return [s["users"], outcome.label, s["messages"], d["received"], d["p50_ms"], d["p95_ms"],
            d["p99_ms"], d["max_ms"], d["sent_per_s"], d["deliveries_per_s"], faults,
            outcome.log_counts["slow_drops"], "yes" if s["ok"] else "**FAILED**"]


def cpu_rows(outcome: Outcome) -> list[list[object]]:
    rows: list[list[object]] = []
    for phase, used in outcome.cpu_seconds.items():
        cpu = dict(used)
        wall = cpu.pop("wall")
        rows.append([outcome.summary["users"], outcome.label, phase, f"{wall:.2f}",
                     *(f"{seconds:.2f} ({seconds / wall:.0%})" for seconds in cpu.values())])
    return rows


def markdown(outcomes: list[Outcome]) -> str:
    processes = [name for name in outcomes[0].cpu_seconds["login"] if name != "wall"]
    return "\n\n".join([
        _table(["users", "scenario", "logins/s", "login p50 ms", "p99 ms", "max ms",
                "presence settled s", "users missing a join / names missed",
                "RSS KiB/user"], [login_row(o) for o in outcomes]),
        _table(["users", "scenario", "messages", "deliveries", "p50 ms", "p95 ms", "p99 ms",
                "max ms", "sent/s", "deliveries/s", "lost / dup / reordered",
                "slow-consumer drops", "ok"], [message_row(o) for o in outcomes]),
        _table(["users", "scenario", "phase", "wall s",
                *(f"{name} CPU s (share of wall)" for name in processes)],
               [row for o in outcomes for row in cpu_rows(o)]),
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="200,1000", help="user counts (200,1000)")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--broadcast-messages", type=int, default=200)
    parser.add_argument("--direct-messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--paced-messages", type=int, default=100)
    parser.add_argument("--paced-rate", type=float, default=10.0,
                        help="msgall/s of the paced broadcast scenario (10; 0 skips it)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds to wait for deliveries after the last send (10)")
    parser.add_argument("--json", type=Path, help="also write the raw summaries here")
    parser.add_argument("--log-dir", type=Path, help="keep the node logs here")
    args = parser.parse_args(argv)
    args.user_counts = [int(part) for part in args.users.split(",")]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as scratch:
        log_dir = args.log_dir or Path(scratch)
        log_dir.mkdir(parents=True, exist_ok=True)
        redis = RedisServer().start()
        try:
            for users in args.user_counts:
                outcomes += run_user_count(redis, args, users, log_dir)
        finally:
            redis.stop()
    if args.json:
        args.json.write_text(json.dumps([vars(o) | {"rss_per_user_kib": o.rss_per_user_kib}
                                         for o in outcomes], indent=1))
    print(markdown(outcomes))
    sys.exit(0 if all(o.summary["ok"] for o in outcomes) else 1)


if __name__ == "__main__":
    main()
