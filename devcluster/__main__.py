"""``python -m devcluster``: Redis plus N chat nodes on fixed, printed ports, until Ctrl-C.

Uses the Redis in ``REDIS_URL`` when set, else starts one (see ``redis_server``) and
records it for ``dev.py redis-cli`` (see ``state_file``). With ``--redis-cluster`` it
starts a Valkey Cluster instead, 3 primaries and 3 replicas on ``--redis-port`` and
the 5 ports after it (see ``valkey_cluster``), and the nodes run in cluster mode with
one primary as their seed (or ``REDIS_URL`` as the seed of a cluster of your own).
Each node is started exactly as an operator would: ``python -m node ...``.

The children run in sessions of their own, so the terminal's Ctrl-C (sent to the whole
foreground process group) reaches only this process; it then stops the nodes first,
which lets them remove their users from Redis, and Redis last.
"""

import argparse
import os
import signal
import sys
import time

from devcluster import processes, state_file
from devcluster.processes import NodeProcess, stop_processes
from devcluster.redis_server import RedisServer, redis_url_from_env
from devcluster.valkey_cluster import ValkeyCluster

CLUSTER_PRIMARIES, CLUSTER_REPLICAS_PER_PRIMARY = 3, 1


def own_redis(args: argparse.Namespace) -> RedisServer | ValkeyCluster | None:
    """What to start here, not started yet: nothing when ``REDIS_URL`` names a server."""
    if redis_url_from_env() is not None:
        return None
    if args.redis_cluster:
        count = CLUSTER_PRIMARIES * (1 + CLUSTER_REPLICAS_PER_PRIMARY)
        return ValkeyCluster(CLUSTER_PRIMARIES, CLUSTER_REPLICAS_PER_PRIMARY,
                             ports=range(args.redis_port, args.redis_port + count),
                             own_session=True)
    return RedisServer(port=args.redis_port, own_session=True)


def start_redis(redis: RedisServer | ValkeyCluster | None) -> str:
    """Start what ``own_redis`` made and record it for ``dev.py redis-cli``; the URL
    the nodes dial."""
    if redis is None:  # REDIS_URL names the server
        url = redis_url_from_env()
        assert url is not None
        return url
    try:
        redis.start()
    except (RuntimeError, TimeoutError) as exc:  # a port taken, a server that exited
        raise SystemExit(f"could not start Redis: {exc}") from None
    if isinstance(redis, ValkeyCluster):
        pids = redis.pids()
        for port, pid in pids.items():
            print(f"started {redis.binary} (pid {pid}) on 127.0.0.1:{port}")
        state_file.record(redis.seed_url, pids[redis.seed_port], cluster=True)
        return redis.seed_url
    assert redis.process is not None
    print(f"started {redis.binary} (pid {redis.process.pid}) on {redis.url}")
    state_file.record(redis.url, redis.process.pid)
    return redis.url


def start_node(index: int, redis_url: str, args: argparse.Namespace) -> NodeProcess:
    return processes.start_node(
        redis_url, f"node-{index + 1}", tcp_port=args.tcp_port + index,
        http_port=args.http_port + index, host=args.host, key_prefix=args.key_prefix,
        extra=["--redis-cluster"] if args.redis_cluster else [], own_session=True)


def wait_healthy(nodes: list[NodeProcess]) -> None:
    for node in nodes:
        try:
            processes.wait_healthy(node)
        except RuntimeError as exc:
            raise SystemExit(str(exc)) from None


def describe_cluster(cluster: ValkeyCluster) -> list[str]:
    """One line per server: its address and its slots, or whose replica it is."""
    lines = []
    for node in cluster.view.nodes:
        if node.is_primary:
            slots = " ".join(f"{low}-{high}" for low, high in node.slots)
            lines.append(f"  primary 127.0.0.1:{node.port}   slots {slots}")
        else:
            primary = cluster.view.port_of(node.primary_id)
            lines.append(f"  replica 127.0.0.1:{node.port}   of 127.0.0.1:{primary}")
    return lines


def print_table(redis_url: str, redis: RedisServer | ValkeyCluster | None,
                args: argparse.Namespace) -> None:
    kind = "Redis Cluster, seed" if args.redis_cluster else "Redis"
    print(f"\n{kind}: {redis_url}   (key prefix {args.key_prefix!r})")
    if isinstance(redis, ValkeyCluster):
        print("\n".join(describe_cluster(redis)))
    for index in range(args.nodes):
        tcp, http = args.tcp_port + index, args.http_port + index
        print(f"node-{index + 1}: nc {args.host} {tcp}    browser http://{args.host}:{http}/"
              f"    (WebSocket /ws, health /healthz)")
    print("Ctrl-C stops everything.\n", flush=True)


# Ctrl-C, Ctrl-\, `kill PID`, and the terminal closing (its shell sends SIGHUP to each
# job).
STOP_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)


def _stop_on_signals() -> None:
    """Each stop signal stops everything, even when started from a shell that ignores
    SIGINT for background jobs (Python keeps an inherited ``SIG_IGN``). The children
    never get these signals from the terminal: without this, they would outlive us."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in STOP_SIGNALS:
        signal.signal(signum, interrupt)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devcluster", description=__doc__)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tcp-port", type=int, default=10000, help="first node's TCP port")
    parser.add_argument("--http-port", type=int, default=8080, help="first node's HTTP port")
    parser.add_argument("--redis-port", type=int, default=6379,
                        help="port for the Redis started here (when REDIS_URL is not set); "
                             "with --redis-cluster, the first of 6")
    parser.add_argument("--redis-cluster", action="store_true",
                        help="a Valkey Cluster (3 primaries, 3 replicas) instead of one "
                             "Redis; the nodes run in cluster mode")
    parser.add_argument("--key-prefix", default=os.environ.get("KEY_PREFIX", "chat"))
    args = parser.parse_args()
    _stop_on_signals()

    redis: RedisServer | ValkeyCluster | None = None
    nodes: list[NodeProcess] = []
    try:
        redis = own_redis(args)  # assigned before starting: a Ctrl-C meanwhile stops it
        redis_url = start_redis(redis)
        for index in range(args.nodes):  # one by one: a Ctrl-C meanwhile stops those started
            nodes.append(start_node(index, redis_url, args))
        wait_healthy(nodes)
        print_table(redis_url, redis, args)
        while all(node.process.poll() is None for node in nodes):
            time.sleep(0.5)  # supervising: report a node that dies
        print("a node exited; stopping the cluster", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        for signum in STOP_SIGNALS:  # let the cleanup finish
            signal.signal(signum, signal.SIG_IGN)
        stop_processes([node.process for node in nodes])
        if redis is not None:
            state_file.forget()
            redis.stop()


if __name__ == "__main__":
    main()
