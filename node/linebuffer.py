"""Split a TCP byte stream into protocol lines, with a hard cap on line length.

Pure and incremental: feed any chunking of the bytes, get the same lines. A line
longer than the cap is reported once as ``line_too_long`` and its bytes are
discarded up to the next newline, so memory stays bounded by the cap and the
connection survives. Lines that are not UTF-8 are reported as ``bad_encoding``.
"""

from node.protocol import ErrorCode, Rejected


class LineBuffer:
    __slots__ = ("_max", "_pending", "_discarding")

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._pending = bytearray()
        self._discarding = False

    @property
    def partial(self) -> bool:
        """A line has begun (or is being discarded) and its newline has not come yet."""
        return bool(self._pending) or self._discarding

    def feed(self, data: bytes) -> list[str | Rejected]:
        """Take the next chunk; return the complete lines (or rejections) it finished."""
        out: list[str | Rejected] = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                self._keep(data[start:], out)
                return out
            self._keep(data[start:newline], out)
            self._finish_line(out)
            start = newline + 1

    def _keep(self, part: bytes, out: list[str | Rejected]) -> None:
        if self._discarding:
            return
        # +1: a line of exactly max bytes may still be followed by the '\r' of '\r\n'.
        if len(self._pending) + len(part) > self._max + 1:
            self._pending.clear()
            self._discarding = True
            out.append(too_long(self._max))
            return
        self._pending += part

    def _finish_line(self, out: list[str | Rejected]) -> None:
        if self._discarding:
            self._discarding = False
            return
        raw = bytes(self._pending)
        self._pending.clear()
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > self._max:
            out.append(too_long(self._max))
            return
        out.append(decode_line(raw))


def too_long(max_line_bytes: int) -> Rejected:
    return Rejected(ErrorCode.LINE_TOO_LONG, f"lines are limited to {max_line_bytes} bytes")


def decode_line(raw: bytes) -> str | Rejected:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return Rejected(ErrorCode.BAD_ENCODING, "lines must be UTF-8")
