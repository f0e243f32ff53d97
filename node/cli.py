"""``python -m node``: settings from flags or the environment, then run until a signal."""

import argparse
import logging
import os
import signal
import socket
import sys

import trio

from node.app import run_node
from node.cluster import ClusterUnavailable
from node.config import NodeConfig
from node.limits import raise_open_files_limit

log = logging.getLogger("node")
DEFAULTS = NodeConfig(node_id="defaults")  # the CLI's defaults are NodeConfig's


def default_node_id() -> str:
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return f"{host[:40] or 'node'}-{os.getpid()}"


def _env_number(name: str, default: float, kind: type = int) -> float:
    value = os.environ.get(name)
    try:
        return kind(value) if value else default
    except ValueError:
        sys.exit(f"{name} must be a number, not {value!r}")


def _origin_list(value: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in value.split(",") if origin.strip())


def parse_args(argv: list[str] | None = None) -> NodeConfig:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m node", description=__doc__)
    parser.add_argument("--redis-url", default=env.get("REDIS_URL", DEFAULTS.redis_url),
                        help="Redis/Valkey to share state through (env REDIS_URL)")
    parser.add_argument("--tcp-port", type=int, default=_env_number("TCP_PORT", DEFAULTS.tcp_port),
                        help="port for line clients such as nc (env TCP_PORT; 0 picks one)")
    parser.add_argument("--http-port", type=int,
                        default=_env_number("HTTP_PORT", DEFAULTS.http_port),
                        help="port for /ws and /healthz (env HTTP_PORT; 0 picks one)")
    parser.add_argument("--node-id", default=env.get("NODE_ID") or default_node_id(),
                        help="this node's name in Redis (env NODE_ID; default host-pid)")
    parser.add_argument("--host", default=env.get("HOST", DEFAULTS.host),
                        help="address to listen on (env HOST)")
    parser.add_argument("--key-prefix", default=env.get("KEY_PREFIX", DEFAULTS.key_prefix),
                        help="prefix of every Redis key and channel (env KEY_PREFIX)")
    parser.add_argument("--max-line-bytes", type=int,
                        default=_env_number("MAX_LINE_BYTES", DEFAULTS.max_line_bytes),
                        help="longest accepted client line (env MAX_LINE_BYTES)")
    parser.add_argument("--heartbeat-interval", type=float,
                        default=_env_number("HEARTBEAT_INTERVAL", DEFAULTS.heartbeat_interval,
                                             float),
                        help="seconds between heartbeats (env HEARTBEAT_INTERVAL)")
    parser.add_argument("--heartbeat-ttl", type=float,
                        default=_env_number("HEARTBEAT_TTL", DEFAULTS.heartbeat_ttl, float),
                        help="seconds without a heartbeat before other nodes remove this "
                             "node's users (env HEARTBEAT_TTL)")
    parser.add_argument("--command-rate", type=float,
                        default=_env_number("COMMAND_RATE", DEFAULTS.command_rate, float),
                        help="cluster commands per second per client after a burst; beyond "
                             "it the client's lines are read later; 0 = off (env COMMAND_RATE)")
    parser.add_argument("--command-burst", type=int,
                        default=_env_number("COMMAND_BURST", DEFAULTS.command_burst),
                        help="cluster commands a client may send at once (env COMMAND_BURST)")
    parser.add_argument("--drain-seconds", type=float,
                        default=_env_number("DRAIN_SECONDS", DEFAULTS.drain_seconds, float),
                        help="after SIGTERM, keep serving this long with /healthz at 503 so "
                             "load balancers move new clients away (env DRAIN_SECONDS)")
    parser.add_argument("--outbox-lines", type=int,
                        default=_env_number("OUTBOX_LINES", DEFAULTS.outbox_lines),
                        help="lines queued for one client before it is dropped as a slow "
                             "consumer (env OUTBOX_LINES)")
    parser.add_argument("--redis-timeout", type=float,
                        default=_env_number("REDIS_TIMEOUT", DEFAULTS.redis_timeout, float),
                        help="seconds to wait for Redis before a command gets "
                             "'error unavailable' (env REDIS_TIMEOUT)")
    parser.add_argument("--flush-timeout", type=float,
                        default=_env_number("FLUSH_TIMEOUT", DEFAULTS.flush_timeout, float),
                        help="seconds a leaving client gets to receive its last lines "
                             "(env FLUSH_TIMEOUT)")
    parser.add_argument("--tcp-keepalive", type=int,
                        default=_env_number("TCP_KEEPALIVE", DEFAULTS.tcp_keepalive),
                        help="seconds of silence before probing a TCP client; one that "
                             "vanished is dropped after about twice this; 0 = off "
                             "(env TCP_KEEPALIVE)")
    parser.add_argument("--login-timeout", type=float,
                        default=_env_number("LOGIN_TIMEOUT", DEFAULTS.login_timeout, float),
                        help="seconds a new connection has to log in before it is closed "
                             "with 'bye idle' (env LOGIN_TIMEOUT)")
    parser.add_argument("--partial-line-timeout", type=float,
                        default=_env_number("PARTIAL_LINE_TIMEOUT",
                                            DEFAULTS.partial_line_timeout, float),
                        help="seconds a client may leave a line unfinished before it is "
                             "closed with 'bye idle' (env PARTIAL_LINE_TIMEOUT)")
    parser.add_argument("--max-connections", type=int,
                        default=_env_number("MAX_CONNECTIONS", DEFAULTS.max_connections),
                        help="client connections served at once; more get 'bye server_full'; "
                             "0 = the open-files limit minus headroom (env MAX_CONNECTIONS)")
    parser.add_argument("--presence-limit", type=int,
                        default=_env_number("PRESENCE_LIMIT", DEFAULTS.presence_limit),
                        help="users online cluster-wide up to which everyone gets names "
                             "(users, join, leave); beyond, a count: 'online <n>' "
                             "(env PRESENCE_LIMIT)")
    parser.add_argument("--allowed-origins", type=_origin_list,
                        default=_origin_list(env.get("ALLOWED_ORIGINS", "")),
                        help="comma-separated web origins (https://chat.example.com) whose "
                             "pages may open a WebSocket here besides the node's own; '*' "
                             "allows any (env ALLOWED_ORIGINS)")
    parser.add_argument("--log-level", default=env.get("LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format=f"%(asctime)s %(levelname)s [{args.node_id}] %(name)s: %(message)s")
    try:
        settings = {name: value for name, value in vars(args).items() if name != "log_level"}
        return NodeConfig(**settings)
    except ValueError as exc:
        parser.error(str(exc))
        raise


async def _run_until_signal(config: NodeConfig) -> None:
    stop = trio.Event()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            async def watch() -> None:
                async for signum in signals:
                    log.info("%s received; stopping", signal.Signals(signum).name)
                    stop.set()
                    return

            nursery.start_soon(watch)
            await run_node(config, stop)
            nursery.cancel_scope.cancel()


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    raised = raise_open_files_limit()
    if raised is not None:
        log.info("open-files limit raised to %d", raised)
    try:
        trio.run(_run_until_signal, config)
    except (ClusterUnavailable, OSError, BaseExceptionGroup) as exc:
        leaves = _leaves(exc)
        if not all(isinstance(leaf, ClusterUnavailable | OSError) for leaf in leaves):
            raise
        sys.exit(f"node {config.node_id} stopped: {leaves[0]} (redis {config.redis_url})")
