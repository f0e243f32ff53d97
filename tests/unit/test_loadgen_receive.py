"""The comparison load generator's receiver counts exactly, however the bytes are split:
fed whole, byte by byte, and at every split point, with foreign units, a gap, a late
arrival and a duplicate among the expected messages; for lines and WebSocket frames."""

import pytest

from client.loadgen_receive import Expected, Receiver
from client.loadgen_wire import FrameSplitter, LineSplitter, server_frame

Wire = tuple[str, object, object]  # (name, splitter factory, encoder of one unit)
WIRES = [
    ("lines", LineSplitter, lambda unit: unit.encode() + b"\n"),
    ("frames", FrameSplitter, server_frame),
]


class Log:
    def __init__(self) -> None:
        self.matched: list[int] = []
        self.others: list[str] = []


def make(wire: Wire, messages: int) -> tuple[Receiver, Expected, Log]:
    _, splitter, encode = wire
    expected, log = Expected(), Log()
    for number in range(messages):
        payload = f"msgall s {number} é"
        expected.add(payload, encode(payload), float(number))  # type: ignore[operator]

    def on_unit(unit: str, now: float) -> bytes:
        if unit.startswith("msgall s "):
            return receiver.out_of_sequence(int(unit.split(" ")[2]), now)
        log.others.append(unit)
        return b""

    def on_match(first: int, end: int, now: float) -> bytes:
        log.matched.extend(range(first, end))
        return b""

    receiver = Receiver(splitter(), on_unit, expected, on_match)  # type: ignore[operator]
    return receiver, expected, log


def feed(receiver: Receiver, data: bytes, cuts: list[int]) -> None:
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        receiver.take(data[start:end], 0.0)


@pytest.mark.parametrize("wire", WIRES, ids=[w[0] for w in WIRES])
def test_in_sequence_at_every_split_point(wire: Wire) -> None:
    _, expected, _ = make(wire, 5)
    data = bytes(expected.stream)
    for cut in range(len(data) + 1):
        receiver, _, log = make(wire, 5)
        feed(receiver, data, [cut])
        assert log.matched == [0, 1, 2, 3, 4] and not log.others
        assert (receiver.received, receiver.missing(5), receiver.duplicates) == (5, 0, 0)
    receiver, _, log = make(wire, 5)
    feed(receiver, data, list(range(1, len(data))))
    assert log.matched == [0, 1, 2, 3, 4] and receiver.decoded == 0


@pytest.mark.parametrize("wire", WIRES, ids=[w[0] for w in WIRES])
def test_foreign_units_gaps_late_and_duplicates(wire: Wire) -> None:
    _, _, encode = wire
    receiver, expected, log = make(wire, 6)

    def unit(number: int) -> bytes:
        return encode(expected.payloads[number])  # type: ignore[operator, no-any-return]

    # 0, a join, 1, 3 (2 skipped), 2 (late), 3 again (duplicate), 4, 5
    data = b"".join([unit(0), encode("join x y"), unit(1), unit(3), unit(2), unit(3),  # type: ignore[operator]
                     unit(4), unit(5)])
    for cuts in ([], [1], list(range(1, len(data)))):
        receiver, expected, log = make(wire, 6)
        feed(receiver, data, cuts)
        assert log.others == ["join x y"]
        assert (receiver.received, receiver.late, receiver.duplicates) == (6, 1, 1)
        assert receiver.missing(6) == 0
        assert receiver.missing(7) == 1  # one more was sent: never arrived


def test_a_message_never_sent_counts_as_foreign() -> None:
    receiver, _, log = make(WIRES[0], 2)
    receiver.take(b"msgall s 0 \xc3\xa9\nsomething else\n", 0.0)
    assert log.others == ["something else"] and receiver.received == 1


def test_draining_counts_bytes_only() -> None:
    receiver, _, log = make(WIRES[0], 2)
    receiver.draining = True
    receiver.take(b"anything\n", 0.0)
    assert receiver.bytes == 9 and not log.matched and not log.others
