"""transport_ws.frame_to_line: one WebSocket text frame -> one protocol line."""

import pytest

from node.protocol import ErrorCode, Rejected
from node.transport_ws import frame_to_line

MAX = 8
TOO_LONG = Rejected(ErrorCode.LINE_TOO_LONG, f"lines are limited to {MAX} bytes")
BAD_FRAME = Rejected(ErrorCode.BAD_FRAME, "send one line per frame")


@pytest.mark.parametrize("frame, expected", [
    pytest.param("whoami", "whoami", id="plain"),
    pytest.param("whoami\n", "whoami", id="trailing-lf"),
    pytest.param("whoami\r\n", "whoami", id="trailing-crlf"),
    pytest.param("", "", id="empty"),
    pytest.param("\n", "", id="only-lf"),
    pytest.param("\r\n", "", id="only-crlf"),
    pytest.param("a  b ", "a  b ", id="spaces-kept"),
    pytest.param("a\r", "a\r", id="lone-cr-left-for-the-parser"),
    pytest.param("a\n\n", BAD_FRAME, id="two-trailing-newlines"),
    pytest.param("a\nb", BAD_FRAME, id="inner-newline"),
    pytest.param("a\r\nb\r\n", BAD_FRAME, id="two-lines"),
    pytest.param("\nwhoami", BAD_FRAME, id="leading-newline"),
    pytest.param("x" * MAX, "x" * MAX, id="exactly-max"),
    pytest.param("x" * MAX + "\r\n", "x" * MAX, id="exactly-max-plus-ending"),
    pytest.param("x" * (MAX + 1), TOO_LONG, id="max-plus-one"),
    pytest.param("é" * (MAX // 2), "é" * (MAX // 2), id="max-in-utf8-bytes"),
    pytest.param("é" * (MAX // 2 + 1), TOO_LONG, id="over-max-in-utf8-bytes-not-chars"),
    pytest.param("😀" * 2, "😀" * 2, id="four-byte-chars-at-max"),
    pytest.param("😀" * 3, TOO_LONG, id="three-chars-twelve-bytes"),
])
def test_frame_to_line(frame: str, expected: str | Rejected) -> None:
    assert frame_to_line(frame, MAX) == expected
