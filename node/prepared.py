"""A line for many clients, encoded once per kind of transport.

A broadcast reaches every local user: the same text, as the same bytes for every TCP
client and the same frame for every WebSocket client (frames from a server are not
masked). The first client of each kind encodes it; the others reuse the bytes.
"""

from collections.abc import Callable

Encoder = Callable[[str], bytes]


class Prepared:
    __slots__ = ("line", "_encoder", "_encoded", "_other")

    def __init__(self, line: str) -> None:
        self.line = line
        self._encoder: Encoder | None = None
        self._encoded = b""
        self._other: dict[Encoder, bytes] | None = None

    def encoded(self, encoder: Encoder) -> bytes:
        """The line as ``encoder`` turns it into bytes, computed once per encoder."""
        if encoder is self._encoder:
            return self._encoded
        if self._encoder is None:
            self._encoder, self._encoded = encoder, encoder(self.line)
            return self._encoded
        if self._other is None:
            self._other = {}
        data = self._other.get(encoder)
        if data is None:
            data = self._other[encoder] = encoder(self.line)
        return data
