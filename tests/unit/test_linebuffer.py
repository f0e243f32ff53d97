"""linebuffer.py: bytes in any chunking -> the same lines, with a hard length cap."""

import pytest

from node.linebuffer import LineBuffer
from node.protocol import ErrorCode, Rejected

MAX = 16
TOO_LONG = Rejected(ErrorCode.LINE_TOO_LONG, f"lines are limited to {MAX} bytes")
BAD_ENCODING = Rejected(ErrorCode.BAD_ENCODING, "lines must be UTF-8")

STREAM = (
    b"login alice\r\n"
    b"msg bob h\xc3\xa9llo\n"
    b"\n"
    + b"x" * 40 + b"\n"
    b"\xff\xfe\n"
    b"whoami\r\n"
    + b"y" * MAX + b"\r\n"
    + b"z" * (MAX + 1) + b"\n"
    b"after\n"
    b"unfinished"
)
STREAM_LINES: list[str | Rejected] = [
    "login alice",
    "msg bob héllo",
    "",
    TOO_LONG,
    BAD_ENCODING,
    "whoami",
    "y" * MAX,
    TOO_LONG,
    "after",
]


def feed_all(chunks: list[bytes], max_line_bytes: int = MAX) -> list[str | Rejected]:
    buffer = LineBuffer(max_line_bytes)
    out: list[str | Rejected] = []
    for chunk in chunks:
        out += buffer.feed(chunk)
    return out


def test_stream_in_one_chunk() -> None:
    assert feed_all([STREAM]) == STREAM_LINES


@pytest.mark.parametrize("split", range(len(STREAM) + 1))
def test_stream_split_at_every_point(split: int) -> None:
    assert feed_all([STREAM[:split], STREAM[split:]]) == STREAM_LINES


def test_stream_byte_by_byte() -> None:
    assert feed_all([STREAM[i:i + 1] for i in range(len(STREAM))]) == STREAM_LINES


@pytest.mark.parametrize("size", [2, 3, 5, 7, 13])
def test_stream_in_fixed_size_chunks(size: int) -> None:
    chunks = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
    assert feed_all(chunks) == STREAM_LINES


def test_empty_chunks_change_nothing() -> None:
    chunks = [b""]
    for i in range(len(STREAM)):
        chunks += [STREAM[i:i + 1], b""]
    assert feed_all(chunks) == STREAM_LINES


@pytest.mark.parametrize("data, expected", [
    pytest.param(b"hi\n", ["hi"], id="lf"),
    pytest.param(b"hi\r\n", ["hi"], id="crlf"),
    pytest.param(b"a\nb\r\nc\n", ["a", "b", "c"], id="mixed-endings"),
    pytest.param(b"\n", [""], id="empty-lf"),
    pytest.param(b"\r\n", [""], id="empty-crlf"),
    pytest.param(b"hi", [], id="no-newline-yet"),
    pytest.param(b"a\rb\n", ["a\rb"], id="inner-cr-kept-for-the-parser"),
    pytest.param(b"a\r\r\n", ["a\r"], id="only-one-cr-stripped"),
    pytest.param("héllo wörld\n".encode(), ["héllo wörld"], id="utf8"),
    pytest.param(b"a" * MAX + b"\n", ["a" * MAX], id="exactly-max-lf"),
    pytest.param(b"a" * MAX + b"\r\n", ["a" * MAX], id="exactly-max-crlf"),
    pytest.param(b"a" * (MAX + 1) + b"\n", [TOO_LONG], id="max-plus-one-lf"),
    pytest.param(b"a" * (MAX + 1) + b"\r\n", [TOO_LONG], id="max-plus-one-crlf"),
    pytest.param(b"a" * (MAX - 1) + b"\r\r\n", ["a" * (MAX - 1) + "\r"], id="max-with-inner-cr"),
    pytest.param("é".encode() * (MAX // 2) + b"\n", ["é" * (MAX // 2)], id="max-in-bytes"),
    pytest.param("é".encode() * (MAX // 2 + 1) + b"\n", [TOO_LONG], id="over-max-in-bytes"),
    pytest.param(b"a" * 1000 + b"\nok\n", [TOO_LONG, "ok"], id="next-line-survives"),
    pytest.param(b"a" * 1000 + b"\r\nok\r\n", [TOO_LONG, "ok"], id="next-line-survives-crlf"),
    pytest.param(b"a" * 100 + b"\n" + b"b" * 100 + b"\n", [TOO_LONG, TOO_LONG],
                 id="two-long-lines-two-reports"),
])
def test_lines(data: bytes, expected: list[str | Rejected]) -> None:
    assert feed_all([data]) == expected
    assert feed_all([data[i:i + 1] for i in range(len(data))]) == expected


@pytest.mark.parametrize("raw", [
    pytest.param(b"\xff", id="invalid-byte"),
    pytest.param(b"caf\xc3", id="truncated-sequence"),
    pytest.param(b"\xc0\xaf", id="overlong-encoding"),
    pytest.param(b"\xed\xa0\x80", id="encoded-surrogate"),
    pytest.param(b"\xf4\x90\x80\x80", id="beyond-unicode"),
    pytest.param(b"latin1 caf\xe9", id="latin1"),
])
def test_invalid_utf8_is_bad_encoding_and_the_next_line_parses(raw: bytes) -> None:
    assert feed_all([raw + b"\nwhoami\n"]) == [BAD_ENCODING, "whoami"]


def test_multibyte_character_split_across_chunks() -> None:
    assert feed_all([b"h\xc3", b"\xa9\n"]) == ["hé"]


@pytest.mark.parametrize("chunk_size", [1, 7, MAX, MAX + 1, 1000])
def test_huge_line_reported_once_with_bounded_memory(chunk_size: int) -> None:
    buffer = LineBuffer(MAX)
    huge = b"h" * 100_000
    out: list[str | Rejected] = []
    for start in range(0, len(huge), chunk_size):
        out += buffer.feed(huge[start:start + chunk_size])
        assert len(buffer._pending) <= MAX + 1
    assert out == [TOO_LONG]
    assert buffer.feed(b"\r\nwhoami\n") == ["whoami"]
    assert len(buffer._pending) == 0


def test_limit_is_a_constructor_argument() -> None:
    assert feed_all([b"a" * 4096 + b"\n"], max_line_bytes=4096) == ["a" * 4096]
    assert feed_all([b"a" * 4097 + b"\n"], max_line_bytes=4096) == [
        Rejected(ErrorCode.LINE_TOO_LONG, "lines are limited to 4096 bytes")]


def test_partial_tells_whether_a_line_is_unfinished() -> None:
    buffer = LineBuffer(8)
    assert not buffer.partial
    buffer.feed(b"who")
    assert buffer.partial
    buffer.feed(b"ami\n")
    assert not buffer.partial
    buffer.feed(b"x" * 20)  # over the cap: being discarded is still unfinished
    assert buffer.partial
    buffer.feed(b"\n")
    assert not buffer.partial
