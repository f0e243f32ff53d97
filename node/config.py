"""Node settings and the parsing of a Redis URL. Pure: the CLI fills these in."""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from node.origins import OriginPolicy

NODE_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int = 6379
    database: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False


def parse_redis_url(url: str) -> RedisTarget:
    """``redis://[user:pass@]host[:port][/db]`` (``rediss://`` for TLS) -> RedisTarget."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "valkey", "valkeys"):
        raise ValueError(f"unsupported Redis URL scheme {parts.scheme!r} in {url!r}")
    if not parts.hostname:
        raise ValueError(f"no host in Redis URL {url!r}")
    path = parts.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError(f"the database in {url!r} must be a number")
    if parts.port == 0:
        raise ValueError(f"port 0 in Redis URL {url!r}")
    return RedisTarget(
        host=parts.hostname,
        port=parts.port or 6379,
        database=int(path or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=parts.scheme in ("rediss", "valkeys"),
    )


@dataclass(frozen=True)
class NodeConfig:
    node_id: str
    redis_url: str = "redis://127.0.0.1:6379"
    # The URL names one node of a Redis/Valkey Cluster: discover the others, hash-tag
    # the keys into one slot, use sharded pub/sub (keys.py, cluster.py).
    redis_cluster: bool = False
    host: str = "0.0.0.0"
    tcp_port: int = 10000
    http_port: int = 8080
    key_prefix: str = "chat"
    max_line_bytes: int = 4096
    # Lines queued for one client before it is dropped as a slow consumer.
    outbox_lines: int = 1024
    # Commands that reach the cluster (login, msg, msgall, userlist, debug), per client:
    # `command_burst` at once, then `command_rate` per second; 0 turns pacing off.
    command_rate: float = 10.0
    command_burst: int = 20
    redis_timeout: float = 2.0
    heartbeat_interval: float = 5.0
    heartbeat_ttl: float = 15.0
    # How long a leaving client gets to receive its last lines before the socket closes.
    flush_timeout: float = 5.0
    # After SIGTERM, keep serving this long while /healthz says 503, so load balancers
    # stop sending new clients before the listeners close.
    drain_seconds: float = 0.0
    # Seconds a TCP client may stay silent before the kernel probes it; a peer that
    # vanished without closing (a laptop lid, a dropped NAT entry) is noticed after
    # about twice this. 0 leaves keepalive off.
    tcp_keepalive: int = 60
    # Seconds a new connection has to log in before it is closed with `bye idle`.
    login_timeout: float = 30.0
    # Seconds a client may leave a line unfinished (bytes without their `\n`, or a
    # WebSocket message without its last fragment) before it is closed with `bye idle`.
    partial_line_timeout: float = 30.0
    # Client connections (TCP and WebSocket together) the node serves at once; more are
    # answered `bye server_full` and closed. 0: derived from the open-files limit.
    max_connections: int = 0
    # Web pages (origins such as https://chat.example.com) whose scripts may open a
    # WebSocket here, besides the page the node itself serves; "*" allows any.
    allowed_origins: tuple[str, ...] = ()
    # Up to this many users online cluster-wide, everyone gets names (`users`, `join`,
    # `leave`); beyond, a count (`online <n>`): see presence.py.
    presence_limit: int = 1000

    def __post_init__(self) -> None:
        if not NODE_ID_PATTERN.fullmatch(self.node_id):
            raise ValueError(f"node id {self.node_id!r}: use 1-64 of A-Z a-z 0-9 _ . -")
        if not NODE_ID_PATTERN.fullmatch(self.key_prefix):
            raise ValueError(f"key prefix {self.key_prefix!r}: use 1-64 of A-Z a-z 0-9 _ . -")
        if self.max_line_bytes < 64:
            raise ValueError("max line length must be at least 64 bytes")
        if self.heartbeat_interval <= 0 or self.redis_timeout <= 0 or self.flush_timeout <= 0:
            raise ValueError("intervals and timeouts must be positive")
        if self.command_rate < 0 or self.command_burst < 1:
            raise ValueError("the command rate cannot be negative, the burst must be >= 1")
        if self.drain_seconds < 0:
            raise ValueError("the drain time cannot be negative")
        if self.tcp_keepalive != 0 and not 1 <= self.tcp_keepalive <= 32767:
            raise ValueError("TCP keepalive is 0 (off) or 1-32767 seconds")
        if self.login_timeout <= 0 or self.partial_line_timeout <= 0:
            raise ValueError("the login and partial-line timeouts must be positive")
        if self.max_connections < 0:
            raise ValueError("max connections is a count (0 derives it from the open-files "
                             "limit)")
        if self.presence_limit < 1:
            raise ValueError("the presence limit is a number of users, at least 1")
        if self.outbox_lines < 1:
            raise ValueError("the outbox needs room for at least one line")
        if not all(0 <= port <= 65535 for port in (self.tcp_port, self.http_port)):
            raise ValueError("ports are 0-65535 (0 picks a free port)")
        if self.heartbeat_ttl <= self.heartbeat_interval:
            raise ValueError("the heartbeat TTL must be longer than its interval")
        if parse_redis_url(self.redis_url).database and self.redis_cluster:
            raise ValueError("a Redis Cluster has only database 0: drop the /db from the URL")
        OriginPolicy(self.allowed_origins)  # raises on an origin it cannot use


# Descriptors kept free beside client connections: Redis, HTTP requests such as
# /healthz, connections being refused with `bye server_full`, the process's own files.
FD_HEADROOM = 128
UNLIMITED_CONNECTIONS = 1_000_000


def connection_limit(max_connections: int, open_files: int | None) -> int:
    """``max_connections`` if set, else what the open-files limit leaves after the
    headroom (at least 1); ``open_files`` None means no limit."""
    if max_connections:
        return max_connections
    if open_files is None:
        return UNLIMITED_CONNECTIONS
    return max(1, min(open_files - FD_HEADROOM, UNLIMITED_CONNECTIONS))
