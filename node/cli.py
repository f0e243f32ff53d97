"""``python -m node``: settings from flags or the environment, then run until a signal."""

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trio

from node import gc_policy
from node.app import run_node
from node.cluster import ClusterUnavailable
from node.config import NodeConfig
from node.limits import raise_open_files_limit
from node.log_format import LOG_FORMATS, configure_logging

log = logging.getLogger("node")
DEFAULTS = NodeConfig(node_id="defaults")  # the CLI's defaults are NodeConfig's


def default_node_id() -> str:
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return f"{host[:40] or 'node'}-{os.getpid()}"


def _boolean(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _origin_list(value: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in value.split(",") if origin.strip())


@dataclass(frozen=True)
class Setting:
    """One row of the node's settings: a flag, its environment variable, how to read
    it; the NodeConfig field is the flag's name and gives the default."""

    flag: str
    env: str
    kind: Callable[[str], Any]
    help: str
    default: Callable[[], Any] | None = None  # when NodeConfig's default does not fit

    @property
    def field(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


SETTINGS = (
    Setting("--redis-url", "REDIS_URL", str, "Redis/Valkey to share state through"),
    Setting("--redis-cluster", "REDIS_CLUSTER", _boolean,
            "the Redis URL is one node of a Redis/Valkey Cluster: find the others, keep "
            "the keys in one hash slot, use sharded pub/sub"),
    Setting("--tcp-port", "TCP_PORT", int, "port for line clients such as nc; 0 picks one"),
    Setting("--http-port", "HTTP_PORT", int, "port for the page, /ws and /healthz; 0 picks one"),
    Setting("--node-id", "NODE_ID", str, "this node's name in Redis (default host-pid)",
            default=default_node_id),
    Setting("--host", "HOST", str, "address to listen on"),
    Setting("--key-prefix", "KEY_PREFIX", str, "prefix of every Redis key and channel"),
    Setting("--max-line-bytes", "MAX_LINE_BYTES", int, "longest accepted client line"),
    Setting("--heartbeat-interval", "HEARTBEAT_INTERVAL", float, "seconds between heartbeats"),
    Setting("--heartbeat-ttl", "HEARTBEAT_TTL", float,
            "seconds without a heartbeat before other nodes remove this node's users"),
    Setting("--command-rate", "COMMAND_RATE", float,
            "lines per second per client after a burst; beyond it the client's lines are "
            "read later; 0 = off"),
    Setting("--command-burst", "COMMAND_BURST", int, "lines a client may send at once"),
    Setting("--drain-seconds", "DRAIN_SECONDS", float,
            "after SIGTERM, keep serving this long with /healthz at 503 so load balancers "
            "move new clients away"),
    Setting("--outbox-lines", "OUTBOX_LINES", int,
            "lines queued for one client before it is dropped as a slow consumer"),
    Setting("--redis-timeout", "REDIS_TIMEOUT", float,
            "seconds to wait for Redis before a command gets 'error unavailable'"),
    Setting("--flush-timeout", "FLUSH_TIMEOUT", float,
            "seconds a leaving client gets to receive its last lines"),
    Setting("--tcp-keepalive", "TCP_KEEPALIVE", int,
            "seconds of silence before probing a TCP client; one that vanished is dropped "
            "after about twice this; 0 = off"),
    Setting("--login-timeout", "LOGIN_TIMEOUT", float,
            "seconds a new connection has to log in before it is closed with 'bye idle'"),
    Setting("--partial-line-timeout", "PARTIAL_LINE_TIMEOUT", float,
            "seconds a client may leave a line unfinished before it is closed with 'bye idle'"),
    Setting("--max-connections", "MAX_CONNECTIONS", int,
            "client connections served at once; more get 'bye server_full'; 0 = the "
            "open-files limit minus headroom"),
    Setting("--presence-limit", "PRESENCE_LIMIT", int,
            "users online cluster-wide up to which everyone gets names (users, join, "
            "leave); beyond, a count: 'online <n>'"),
    Setting("--allowed-origins", "ALLOWED_ORIGINS", _origin_list,
            "comma-separated web origins (https://chat.example.com) whose pages may open a "
            "WebSocket here besides the node's own; '*' allows any"),
)


def _default(setting: Setting) -> Any:
    """The environment variable's value if set, else the default."""
    value = os.environ.get(setting.env)
    if value:
        try:
            return setting.kind(value)
        except ValueError:
            expected = "true or false" if setting.kind is _boolean else "a number"
            sys.exit(f"{setting.env} must be {expected}, not {value!r}")
    return setting.default() if setting.default else getattr(DEFAULTS, setting.field)


def parse_args(argv: list[str] | None = None) -> NodeConfig:
    parser = argparse.ArgumentParser(prog="python -m node", description=__doc__)
    for setting in SETTINGS:
        if setting.kind is _boolean:  # a switch: present means on
            parser.add_argument(setting.flag, action="store_true", default=_default(setting),
                                help=f"{setting.help} (env {setting.env}=true)")
            continue
        parser.add_argument(setting.flag, type=setting.kind, default=_default(setting),
                            help=f"{setting.help} (env {setting.env})")
    # The log's settings are the process's, not the node's: outside SETTINGS (NodeConfig).
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="(env LOG_LEVEL)")
    parser.add_argument("--log-format", default=os.environ.get("LOG_FORMAT") or "text",
                        choices=LOG_FORMATS,
                        help="text, or json: one object per line (env LOG_FORMAT)")
    args = parser.parse_args(argv)
    if args.log_format not in LOG_FORMATS:  # argparse does not check a default
        parser.error(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
                     f"not {args.log_format!r}")
    configure_logging(args.log_level, args.log_format, args.node_id)
    try:
        return NodeConfig(**{setting.field: getattr(args, setting.field) for setting in SETTINGS})
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
    gc_policy.settle()
    try:
        trio.run(_run_until_signal, config)
    except (ClusterUnavailable, OSError, BaseExceptionGroup) as exc:
        leaves = _leaves(exc)
        if not all(isinstance(leaf, ClusterUnavailable | OSError) for leaf in leaves):
            raise
        sys.exit(f"node {config.node_id} stopped: {leaves[0]} (redis {config.redis_url})")
