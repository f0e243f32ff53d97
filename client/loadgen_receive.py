"""Checking what one connection receives, exactly and cheaply.

A sender writes down, before it sends message ``k``, the exact bytes every receiver of
it must get (``Expected.add``: the payload, its wire encoding by the dialect's library,
the send time). A ``Receiver`` then compares each buffer it reads with the expected
bytes at its position: one ``startswith`` (a memcmp) for a whole buffer, however many
messages it holds, so a delivery costs a fraction of a microsecond. Bytes that differ
(a ``join``, a reply, a ping, a missing or repeated message) are split into units by the
dialect's decoder from the last message boundary, matched or classified one at a time,
and the bulk comparison resumes at the next boundary that agrees again.

Counts are exact either way: a message counts as received once, when its last byte has
matched; a message that arrives out of sequence is decoded and counted as a gap (the
ones skipped), a late arrival (one skipped before) or a duplicate.
"""

from bisect import bisect_right
from collections.abc import Callable

from client.loadgen_wire import FrameSplitter, LineSplitter


class Expected:
    """The messages one stream must carry, in order: payloads, wire bytes, send times."""

    def __init__(self) -> None:
        self.stream = bytearray()
        self.ends: list[int] = []  # where message k's bytes end in `stream`
        self.payloads: list[str] = []
        self.sent_at: list[float] = []

    def add(self, payload: str, wire: bytes, sent_at: float) -> int:
        """Record the next message; returns its number."""
        self.stream += wire
        self.ends.append(len(self.stream))
        self.payloads.append(payload)
        self.sent_at.append(sent_at)
        return len(self.payloads) - 1

    def start(self, number: int) -> int:
        return self.ends[number - 1] if number else 0

    def __len__(self) -> int:
        return len(self.payloads)


# Called with (first, after-last, arrival time) for messages matched in sequence; may
# return bytes to send back (the next ping-pong message).
OnMatch = Callable[[int, int, float], bytes]
# Called with each unit that is not the next expected message; may return bytes to send.
OnUnit = Callable[[str, float], bytes]


def _no_match(first: int, end: int, now: float) -> bytes:
    return b""


class Receiver:
    """One connection's incoming bytes against one ``Expected`` stream (or none)."""

    def __init__(self, splitter: LineSplitter | FrameSplitter, on_unit: OnUnit,
                 expected: Expected | None = None, on_match: OnMatch = _no_match) -> None:
        self._splitter = splitter
        self.on_unit = on_unit
        self.on_match = on_match
        self.expected = expected or Expected()
        self.next = 0  # the number of the next expected message
        self._offset = 0  # bytes of `expected.stream` matched (may be inside message `next`)
        self._pending = b""  # bytes after a message boundary not yet split into units
        self.draining = False  # count bytes only (an idle client that reads and discards)
        self.bytes = 0
        self.decoded = 0  # units split and compared one by one (the slow path)
        self.received = self.late = self.duplicates = 0
        self.skipped: set[int] = set()

    def expect(self, expected: Expected) -> None:
        """Switch to another stream; only at a boundary (nothing partial held)."""
        self.expected, self.next, self._offset = expected, 0, 0

    def take(self, data: bytes, now: float) -> bytes:
        """Account for ``data``; returns bytes to send back (pongs, replies)."""
        self.bytes += len(data)
        if self.draining:
            return b""
        stream = self.expected.stream
        if not self._pending and stream.startswith(data, self._offset):
            self._offset += len(data)
            return self._matched_to(bisect_right(self.expected.ends, self._offset, self.next),
                                    now)
        return self._take_slowly(data, now)

    def _matched_to(self, end: int, now: float) -> bytes:
        first, self.next = self.next, end
        if end == first:
            return b""
        self.received += end - first
        return self.on_match(first, end, now)

    def _take_slowly(self, data: bytes, now: float) -> bytes:
        expected = self.expected
        buffer = bytes(expected.stream[expected.start(self.next):self._offset])
        buffer += self._pending + data
        units, used, replies = self._splitter.split(buffer)
        self.decoded += len(units)
        for unit in units:
            number = self.next
            if number < len(expected) and unit == expected.payloads[number]:
                replies += self._matched_to(number + 1, now)
            else:
                replies += self.on_unit(unit, now)
        rest = buffer[used:]
        start = expected.start(self.next)
        if expected.stream.startswith(rest, start):
            self._offset, self._pending = start + len(rest), b""
        else:
            self._offset, self._pending = start, rest
        return replies

    def out_of_sequence(self, number: int, now: float) -> bytes:
        """A message of this stream that was not the next one expected."""
        if number >= self.next:
            self.skipped.update(range(self.next, number))
            self.next = number
            return self._matched_to(number + 1, now)
        if number in self.skipped:
            self.skipped.discard(number)
            self.late += 1
            self.received += 1
        else:
            self.duplicates += 1
        return b""

    def missing(self, total: int) -> int:
        """Messages of ``total`` never received."""
        return len(self.skipped) + max(0, total - self.next)
