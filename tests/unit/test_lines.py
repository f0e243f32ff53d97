"""client.lines.split_lines: any chunking of a stream gives the same lines."""

import pytest

from client.lines import split_lines

STREAM = b"ok login alice\nusers alice bob\r\n\nmsgall bob h\xc3\xa9llo\nunfinished"
LINES = [b"ok login alice", b"users alice bob\r", b"", b"msgall bob h\xc3\xa9llo"]


def feed(chunks: list[bytes]) -> tuple[list[bytes], bytes]:
    lines: list[bytes] = []
    pending = b""
    for chunk in chunks:
        complete, pending = split_lines(pending, chunk)
        lines += complete
    return lines, pending


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_every_split_point_gives_the_same_lines(cut: int) -> None:
    assert feed([STREAM[:cut], STREAM[cut:]]) == (LINES, b"unfinished")


def test_byte_by_byte() -> None:
    assert feed([STREAM[i:i + 1] for i in range(len(STREAM))]) == (LINES, b"unfinished")


@pytest.mark.parametrize("pending, data, lines, rest", [
    (b"", b"", [], b""),
    (b"", b"no end yet", [], b"no end yet"),
    (b"half", b" a line\n", [b"half a line"], b""),
    (b"", b"\n\n", [b"", b""], b""),
    (b"", b"crlf\r\n", [b"crlf\r"], b""),  # the \r stays: the reader strips it if it wants
    (b"a\r", b"\nb", [b"a\r"], b"b"),  # a CRLF split between two reads
])
def test_lines_and_what_is_left(pending: bytes, data: bytes, lines: list[bytes],
                                rest: bytes) -> None:
    assert split_lines(pending, data) == (lines, rest)
