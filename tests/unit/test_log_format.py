"""log_format.py: `--log-format json` writes one parseable object per line."""

import json
import logging
import sys

import pytest

from node.cli import parse_args
from node.log_format import JsonLines


def record(message: str, *args: object, user: str | None = None,
           exc_info: bool = False) -> logging.LogRecord:
    info = sys.exc_info() if exc_info else None
    made = logging.LogRecord("node.connection", logging.WARNING, __file__, 1, message, args,
                             info)
    if user is not None:
        made.user = user
    made.created = 1_700_000_000.25
    return made


def test_a_record_becomes_one_json_object_on_one_line() -> None:
    line = JsonLines("node-7").format(record("%s dropped: bye %s", "tcp:1.2.3.4:5", "slow",
                                             user="Zoë"))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2023-11-14T22:13:20.250+00:00", "level": "WARNING", "node": "node-7",
        "logger": "node.connection", "event": "tcp:1.2.3.4:5 dropped: bye slow",
        "user": "Zoë"}
    assert line.isascii()  # valid JSON whatever stderr's encoding


def test_no_user_no_key_and_an_exception_keeps_its_traceback_in_one_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        line = JsonLines("n").format(record("failed", exc_info=True))
    entry = json.loads(line)
    assert "user" not in entry and "\n" not in line
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_an_unknown_log_format_in_the_environment_is_refused(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(SystemExit):
        parse_args(["--node-id", "n1"])
    assert "LOG_FORMAT must be one of text, json, not 'yaml'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--node-id", "n1", "--log-format", "xml"])
