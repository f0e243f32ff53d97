"""config.py: Redis URLs and node settings, refused early with ValueError."""

from typing import Any

import pytest

from node.config import NodeConfig, RedisTarget, parse_redis_url


@pytest.mark.parametrize("url, expected", [
    pytest.param("redis://localhost", RedisTarget("localhost"), id="host-only"),
    pytest.param("redis://localhost/", RedisTarget("localhost"), id="trailing-slash"),
    pytest.param("redis://127.0.0.1:6380", RedisTarget("127.0.0.1", port=6380), id="port"),
    pytest.param("redis://cache.internal:6379/3", RedisTarget("cache.internal", database=3),
                 id="database"),
    pytest.param("redis://h/0", RedisTarget("h", database=0), id="database-zero"),
    pytest.param("redis://user:secret@h:7000/2",
                 RedisTarget("h", 7000, 2, "user", "secret"), id="user-password"),
    pytest.param("redis://:secret@h", RedisTarget("h", password="secret"), id="password-only"),
    pytest.param("redis://us%40er:p%3Ass%2Fw@h", RedisTarget("h", username="us@er",
                                                              password="p:ss/w"),
                 id="percent-encoded-credentials"),
    pytest.param("redis://[::1]:6390", RedisTarget("::1", port=6390), id="ipv6"),
    pytest.param("REDIS://H", RedisTarget("h"), id="upper-case"),
    pytest.param("rediss://h:6380", RedisTarget("h", port=6380, tls=True), id="tls"),
    pytest.param("valkey://h", RedisTarget("h"), id="valkey"),
    pytest.param("valkeys://h", RedisTarget("h", tls=True), id="valkeys"),
])
def test_parse_redis_url(url: str, expected: RedisTarget) -> None:
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize("url, tls", [
    ("redis://h", False),
    ("redis://u:p@h:1/1", False),
    ("valkey://h", False),
    ("rediss://h", True),
    ("rediss://u:p@h:1/1", True),
    ("valkeys://h", True),
])
def test_only_the_tls_schemes_use_tls(url: str, tls: bool) -> None:
    assert parse_redis_url(url).tls is tls


@pytest.mark.parametrize("url", [
    pytest.param("http://h:6379", id="http-scheme"),
    pytest.param("unix:///tmp/redis.sock", id="unix-scheme"),
    pytest.param("localhost:6379", id="no-scheme"),
    pytest.param("", id="empty"),
    pytest.param("redis://", id="no-host"),
    pytest.param("redis://:6379", id="port-no-host"),
    pytest.param("redis://user:pw@", id="credentials-no-host"),
    pytest.param("redis://h/abc", id="database-not-number"),
    pytest.param("redis://h/-1", id="database-negative"),
    pytest.param("redis://h/1/2", id="database-path"),
    pytest.param("redis://h:port", id="port-not-number"),
    pytest.param("redis://h:99999", id="port-out-of-range"),
])
def test_bad_redis_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_redis_url(url)


def test_node_config_defaults_are_valid() -> None:
    config = NodeConfig(node_id="n1")
    assert (config.key_prefix, config.max_line_bytes, config.redis_url) == (
        "chat", 4096, "redis://127.0.0.1:6379")


@pytest.mark.parametrize("settings", [
    pytest.param({"node_id": "a"}, id="one-char-id"),
    pytest.param({"node_id": "x" * 64}, id="64-char-id"),
    pytest.param({"node_id": "node-2.eu_West"}, id="id-punctuation"),
    pytest.param({"node_id": "n", "key_prefix": "t0123abc"}, id="prefix"),
    pytest.param({"node_id": "n", "key_prefix": "x" * 64}, id="64-char-prefix"),
    pytest.param({"node_id": "n", "max_line_bytes": 64}, id="min-line-length"),
    pytest.param({"node_id": "n", "heartbeat_interval": 1.0, "heartbeat_ttl": 1.5},
                 id="ttl-just-longer"),
    pytest.param({"node_id": "n", "redis_url": "rediss://u:p@h:6380/1"}, id="tls-url"),
    pytest.param({"node_id": "n", "tcp_keepalive": 0}, id="keepalive-off"),
    pytest.param({"node_id": "n", "tcp_keepalive": 1}, id="keepalive-1s"),
    pytest.param({"node_id": "n", "tcp_keepalive": 32767}, id="keepalive-max"),
])
def test_valid_node_configs(settings: dict[str, Any]) -> None:
    NodeConfig(**settings)


@pytest.mark.parametrize("settings", [
    pytest.param({"node_id": ""}, id="empty-id"),
    pytest.param({"node_id": "x" * 65}, id="65-char-id"),
    pytest.param({"node_id": "a b"}, id="id-space"),
    pytest.param({"node_id": "a:b"}, id="id-colon-breaks-key-layout"),
    pytest.param({"node_id": "a*"}, id="id-glob"),
    pytest.param({"node_id": "nœud"}, id="id-non-ascii"),
    pytest.param({"node_id": "n1\n"}, id="id-trailing-newline"),
    pytest.param({"node_id": "n", "key_prefix": ""}, id="empty-prefix"),
    pytest.param({"node_id": "n", "key_prefix": "a:b"}, id="prefix-colon"),
    pytest.param({"node_id": "n", "key_prefix": "x" * 65}, id="65-char-prefix"),
    pytest.param({"node_id": "n", "key_prefix": "chat\n"}, id="prefix-trailing-newline"),
    pytest.param({"node_id": "n", "max_line_bytes": 63}, id="line-length-too-small"),
    pytest.param({"node_id": "n", "heartbeat_interval": 5.0, "heartbeat_ttl": 5.0},
                 id="ttl-equal-interval"),
    pytest.param({"node_id": "n", "heartbeat_interval": 5.0, "heartbeat_ttl": 2.0},
                 id="ttl-shorter-than-interval"),
    pytest.param({"node_id": "n", "redis_url": "http://h"}, id="bad-url"),
    pytest.param({"node_id": "n", "redis_url": "redis://h/x"}, id="bad-url-database"),
    pytest.param({"node_id": "n", "tcp_keepalive": -1}, id="keepalive-negative"),
    pytest.param({"node_id": "n", "tcp_keepalive": 32768}, id="keepalive-over-kernel-max"),
    pytest.param({"node_id": "n", "outbox_lines": 0}, id="no-outbox"),
    pytest.param({"node_id": "n", "redis_timeout": 0}, id="zero-redis-timeout"),
    pytest.param({"node_id": "n", "flush_timeout": -1}, id="negative-flush-timeout"),
])
def test_invalid_node_configs(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        NodeConfig(**settings)
