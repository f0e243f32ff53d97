"""``python -m node`` flags and environment variables become a NodeConfig."""

import dataclasses

import pytest

from node.cli import SETTINGS, parse_args
from node.config import NodeConfig

TUNING = {"OUTBOX_LINES": "outbox_lines", "REDIS_TIMEOUT": "redis_timeout",
          "FLUSH_TIMEOUT": "flush_timeout", "TCP_KEEPALIVE": "tcp_keepalive",
          "COMMAND_RATE": "command_rate", "DRAIN_SECONDS": "drain_seconds",
          "LOGIN_TIMEOUT": "login_timeout", "PARTIAL_LINE_TIMEOUT": "partial_line_timeout",
          "MAX_CONNECTIONS": "max_connections"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*TUNING, "NODE_ID", "REDIS_URL", "HOST", "TCP_PORT", "HTTP_PORT", "KEY_PREFIX",
                 "MAX_LINE_BYTES", "HEARTBEAT_INTERVAL", "HEARTBEAT_TTL", "COMMAND_BURST",
                 "LOG_LEVEL", "LOG_FORMAT", "ALLOWED_ORIGINS"]:
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_node_config() -> None:
    parsed = parse_args(["--node-id", "n1"])
    assert parsed == NodeConfig(node_id="n1")


def test_every_tuning_flag_reaches_the_config() -> None:
    parsed = parse_args(["--node-id", "n1", "--outbox-lines", "16", "--redis-timeout", "0.5",
                         "--flush-timeout", "1.5", "--tcp-keepalive", "0",
                         "--command-rate", "0", "--drain-seconds", "3"])
    assert (parsed.outbox_lines, parsed.redis_timeout, parsed.flush_timeout,
            parsed.tcp_keepalive, parsed.command_rate, parsed.drain_seconds) == (
        16, 0.5, 1.5, 0, 0.0, 3.0)


def test_limit_flags_reach_the_config() -> None:
    parsed = parse_args(["--node-id", "n1", "--login-timeout", "12.5",
                         "--partial-line-timeout", "4", "--max-connections", "500"])
    assert (parsed.login_timeout, parsed.partial_line_timeout, parsed.max_connections) == (
        12.5, 4.0, 500)


def test_environment_sets_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"OUTBOX_LINES": "32", "REDIS_TIMEOUT": "4", "FLUSH_TIMEOUT": "2.5",
              "TCP_KEEPALIVE": "30", "COMMAND_RATE": "5", "DRAIN_SECONDS": "1",
              "LOGIN_TIMEOUT": "10", "PARTIAL_LINE_TIMEOUT": "7", "MAX_CONNECTIONS": "99"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    parsed = parse_args(["--node-id", "n1"])
    assert {field: getattr(parsed, field) for field in TUNING.values()} == {
        "outbox_lines": 32, "redis_timeout": 4.0, "flush_timeout": 2.5,
        "tcp_keepalive": 30, "command_rate": 5.0, "drain_seconds": 1.0,
        "login_timeout": 10.0, "partial_line_timeout": 7.0, "max_connections": 99}


@pytest.mark.parametrize("argv, complaint", [
    (["--outbox-lines", "0"], "the outbox needs room for at least one line"),
    (["--tcp-keepalive", "-5"], "TCP keepalive is 0 (off) or 1-32767 seconds"),
    (["--redis-timeout", "0"], "intervals and timeouts must be positive"),
    (["--tcp-keepalive", "soon"], "invalid int value: 'soon'"),
    (["--login-timeout", "0"], "the login and partial-line timeouts must be positive"),
    (["--max-connections", "-1"], "max connections is a count"),
])
def test_bad_values_exit_with_the_reason(argv: list[str], complaint: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--node-id", "n1", *argv])
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


def test_a_bad_number_in_the_environment_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCP_KEEPALIVE", "a minute")
    with pytest.raises(SystemExit) as exited:
        parse_args(["--node-id", "n1"])
    assert exited.value.code == "TCP_KEEPALIVE must be a number, not 'a minute'"


def test_allowed_origins_from_the_flag_or_the_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parsed = parse_args(["--node-id", "n1", "--allowed-origins",
                         "https://chat.example.com, http://localhost:3000"])
    assert parsed.allowed_origins == ("https://chat.example.com", "http://localhost:3000")
    monkeypatch.setenv("ALLOWED_ORIGINS", "*")
    assert parse_args(["--node-id", "n1"]).allowed_origins == ("*",)
    with pytest.raises(SystemExit):
        parse_args(["--node-id", "n1", "--allowed-origins", "chat.example.com"])
    assert "use scheme://host[:port]" in capsys.readouterr().err


def test_every_setting_of_node_config_has_a_flag_and_a_variable() -> None:
    fields = {field.name for field in dataclasses.fields(NodeConfig)}
    assert sorted(setting.field for setting in SETTINGS) == sorted(fields)
    assert len({setting.env for setting in SETTINGS}) == len(SETTINGS)


def test_redis_cluster_is_a_switch_or_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_args(["--node-id", "n1"]).redis_cluster is False
    assert parse_args(["--node-id", "n1", "--redis-cluster"]).redis_cluster is True
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    assert parse_args(["--node-id", "n1"]).redis_cluster is True
    monkeypatch.setenv("REDIS_CLUSTER", "maybe")
    with pytest.raises(SystemExit) as exited:
        parse_args(["--node-id", "n1"])
    assert exited.value.code == "REDIS_CLUSTER must be true or false, not 'maybe'"


def test_a_cluster_has_no_database_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--node-id", "n1", "--redis-cluster", "--redis-url", "redis://h:7000/2"])
    assert "a Redis Cluster has only database 0" in capsys.readouterr().err
