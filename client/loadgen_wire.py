"""What goes over the wire, for the comparison load generator: our line protocol over
TCP and over WebSocket (``/ws``), and socket.io 4 over its WebSocket transport.

A dialect opens a connection (and finishes any handshake), encodes what a client sends
(login, broadcast, direct message), encodes the exact bytes a server sends for an event
(so a receiver can compare whole buffers at once, see ``loadgen_receive``), splits
incoming bytes into units (a line, a WebSocket message) and classifies a unit.

Libraries, not hand-written encodings: WebSocket frames are wsproto's (both the client's
masked frames and the server's frames a receiver expects), the upgrade request is h11's
with wsproto's nonce and accept token, and Engine.IO v4 / Socket.IO v5 packets are
python-engineio's and python-socketio's. What is ours is the handshake order of
socket.io (open packet, ``40`` connect, its answer) and which packet means what.
"""

import functools
from dataclasses import dataclass, field

import engineio.packet as eio
import h11
import socketio.packet as sio
import trio
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Message, Ping, TextMessage
from wsproto.frame_protocol import FrameProtocol
from wsproto.utilities import generate_accept_token, generate_nonce

Address = tuple[str, int]
RECEIVE_BYTES = 1 << 18
# A unit, classified: ("reply", text) ("presence", line) ("msgall"|"msg", sender, text)
# ("ping",) ("bye", reason) ("other", unit)
Note = tuple[str, ...]


class WireError(Exception):
    """A connection or handshake failed, or the server broke its protocol."""


@dataclass
class Link:
    """One client connection: the stream, its send lock, and bytes already received."""

    stream: trio.SocketStream
    leftover: bytes = b""
    _lock: trio.Lock = field(default_factory=trio.Lock)

    async def send(self, data: bytes) -> None:
        # The sender and the reader's pongs share the stream. Taking a free lock without
        # an await saves two scheduler round trips per message (a third of a ping-pong's
        # cost in this process).
        if self._lock.locked():
            await self._lock.acquire()
        else:
            self._lock.acquire_nowait()
        try:
            await self.stream.send_all(data)
        finally:
            self._lock.release()

    async def close(self) -> None:
        await self.stream.aclose()


class LineSplitter:
    """Units of our TCP protocol: lines ending in ``\\n``."""

    def split(self, data: bytes) -> tuple[list[str], int, bytes]:
        """(complete lines, bytes they used, bytes to send back)."""
        end = data.rfind(b"\n") + 1
        if not end:
            return [], 0, b""
        lines = data[:end - 1].decode(errors="replace").split("\n")
        return lines, end, b""


class FrameSplitter:
    """Units of a WebSocket: complete messages, decoded by wsproto, answering pings.

    A fresh wsproto decoder reads from the last message boundary each time, and only
    complete messages count as used; their wire length is that of the same frame
    encoded by wsproto's server side (payload lengths are minimal on the wire, which
    wsproto's decoder enforces), so a partial message stays in the caller's buffer."""

    def __init__(self) -> None:
        self._client = Connection(ConnectionType.CLIENT)

    def split(self, data: bytes) -> tuple[list[str], int, bytes]:
        decoder = Connection(ConnectionType.CLIENT)
        decoder.receive_data(data)
        units: list[str] = []
        parts: list[str] = []
        used = pending = 0
        replies = b""
        for event in decoder.events():
            if isinstance(event, Message):
                piece = event.data
                parts.append(piece if isinstance(piece, str) else piece.decode(errors="replace"))
                size = len(piece.encode() if isinstance(piece, str) else piece)
                pending += size
                if event.frame_finished:
                    pending += frame_overhead(_frame_bytes(parts, event, size))
                if event.message_finished:
                    used += pending
                    pending = 0
                    units.append("".join(parts))
                    parts = []
            elif isinstance(event, Ping):
                used += len(_SERVER.ping(event.payload))
                replies += self._client.send(event.response())
            elif isinstance(event, CloseConnection):
                raise WireError(f"the server closed the WebSocket ({event.code})")
        return units, used, replies


def _frame_bytes(parts: list[str], event: Message, last: int) -> int:
    """Payload bytes of the frame just finished (messages here are single frames)."""
    if event.message_finished and len(parts) == 1:
        return last
    raise WireError("a fragmented WebSocket message; this tool expects one frame each")


_SERVER = FrameProtocol(client=False, extensions=[])


@functools.lru_cache(maxsize=1024)
def frame_overhead(payload_bytes: int) -> int:
    """Header bytes wsproto's server side puts before a payload of this size."""
    return len(_SERVER.send_data(bytes(payload_bytes), fin=True)) - payload_bytes


def server_frame(payload: str) -> bytes:
    """The exact bytes of a server's text frame carrying ``payload``."""
    return bytes(_SERVER.send_data(payload, fin=True))


async def open_tcp(address: Address) -> trio.SocketStream:
    try:
        return await trio.open_tcp_stream(*address)
    except OSError as exc:
        raise WireError(f"cannot connect to {address[0]}:{address[1]}: {exc}") from None


async def open_websocket(address: Address, target: str) -> Link:
    """The HTTP upgrade (h11) with no Origin, as non-browser clients send it."""
    stream = await open_tcp(address)
    nonce = generate_nonce()
    http = h11.Connection(h11.CLIENT)
    headers = [(b"Host", f"{address[0]}:{address[1]}".encode()), (b"Upgrade", b"websocket"),
               (b"Connection", b"Upgrade"), (b"Sec-WebSocket-Key", nonce),
               (b"Sec-WebSocket-Version", b"13")]
    await stream.send_all(http.send(h11.Request(method="GET", target=target, headers=headers)))
    while True:
        event = http.next_event()
        if event is h11.NEED_DATA:
            http.receive_data(await stream.receive_some(RECEIVE_BYTES))
        elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            accept = dict(event.headers).get(b"sec-websocket-accept")
            if accept != generate_accept_token(nonce):
                raise WireError("bad Sec-WebSocket-Accept")
            return Link(stream, http.trailing_data[0])
        elif isinstance(event, h11.Response | h11.ConnectionClosed):
            await stream.aclose()
            raise WireError(f"WebSocket upgrade refused: {event}")


class OurLines:
    """Our protocol: ``login``, ``msgall``, ``msg``; replies ``ok``/``error``; events."""

    echoes_broadcast = True  # the sender gets its own msgall
    acknowledges = True  # every command gets one reply

    def login(self, name: str) -> bytes:
        return self.encode(f"login {name}")

    def broadcast(self, text: str) -> bytes:
        return self.encode(f"msgall {text}")

    def direct(self, to: str, text: str) -> bytes:
        return self.encode(f"msg {to} {text}")

    def broadcast_event(self, sender: str, text: str) -> str:
        return f"msgall {sender} {text}"

    def direct_event(self, sender: str, text: str) -> str:
        return f"msg {sender} {text}"

    def pong(self) -> bytes:
        """Our protocol has no ping of its own (WebSocket pings are answered below it)."""
        return b""

    def is_login_ack(self, note: Note, name: str) -> bool | None:
        """True for this login's ``ok``, False for a refusal, None for other replies."""
        if note[0] != "reply":
            return None
        return note[1] == f"ok login {name}" if note[1].startswith(("ok login", "error")) \
            else None

    def classify(self, unit: str) -> Note:
        kind, _, rest = unit.partition(" ")
        if kind in ("msgall", "msg"):
            sender, _, text = rest.partition(" ")
            return kind, sender, text
        if kind in ("ok", "error"):
            return "reply", unit
        if kind in ("users", "join", "leave", "online"):  # `online <n>`: past the limit
            return "presence", unit
        if kind == "bye":
            return "bye", rest
        return "other", unit

    def encode(self, line: str) -> bytes:
        raise NotImplementedError

    def splitter(self) -> LineSplitter | FrameSplitter:
        raise NotImplementedError


class TcpLines(OurLines):
    name = "ours/TCP"

    async def connect(self, address: Address) -> Link:
        return Link(await open_tcp(address))

    def encode(self, line: str) -> bytes:
        return line.encode() + b"\n"

    def wire(self, payload: str) -> bytes:
        return payload.encode() + b"\n"

    def splitter(self) -> LineSplitter:
        return LineSplitter()


class WsLines(OurLines):
    name = "ours/WS"

    def __init__(self, path: str = "/ws") -> None:
        self.path = path
        self._client = Connection(ConnectionType.CLIENT)

    async def connect(self, address: Address) -> Link:
        return await open_websocket(address, self.path)

    def encode(self, line: str) -> bytes:
        return self._client.send(TextMessage(data=line))

    def wire(self, payload: str) -> bytes:
        return server_frame(payload)

    def splitter(self) -> FrameSplitter:
        return FrameSplitter()


async def _one_unit(link: Link) -> tuple[str, bytes]:
    """The next WebSocket message of a handshake, and the bytes after it."""
    buffer, splitter = link.leftover, FrameSplitter()
    while True:
        units, used, _ = splitter.split(buffer)
        if len(units) > 1:
            raise WireError(f"unexpected messages during the handshake: {units!r}")
        if units:
            return units[0], buffer[used:]
        data = await link.stream.receive_some(RECEIVE_BYTES)
        if not data:
            raise WireError("the server closed the connection during the handshake")
        buffer += data


def _eio_message(packet: sio.Packet) -> str:
    return eio.Packet(eio.MESSAGE, data=packet.encode()).encode()


class SocketIo:
    """socket.io 4 (Engine.IO v4, Socket.IO v5) over the WebSocket transport only.

    The peer's events: ``login`` name (acked), ``msgall`` text, ``msg`` {to, text}; it
    sends ``msgall``/``msg`` {from, text}, and no copy of a broadcast to its sender."""

    name = "peer/socket.io"
    echoes_broadcast = False
    acknowledges = False
    LOGIN_ACK_ID = 1

    def __init__(self) -> None:
        self._client = Connection(ConnectionType.CLIENT)

    async def connect(self, address: Address) -> Link:
        link = await open_websocket(address, "/socket.io/?EIO=4&transport=websocket")
        opened, link.leftover = await _one_unit(link)
        if eio.Packet(encoded_packet=opened).packet_type != eio.OPEN:
            raise WireError(f"expected the Engine.IO open packet, got {opened!r}")
        await link.send(self._frame(_eio_message(sio.Packet(sio.CONNECT, namespace="/"))))
        connected, link.leftover = await _one_unit(link)
        if not connected.startswith("40"):
            raise WireError(f"expected the socket.io connect answer, got {connected!r}")
        return link

    def _frame(self, payload: str) -> bytes:
        return self._client.send(TextMessage(data=payload))

    def _emit(self, *data: object, ack_id: int | None = None) -> bytes:
        return self._frame(_eio_message(sio.Packet(sio.EVENT, data=list(data), id=ack_id)))

    def login(self, name: str) -> bytes:
        return self._emit("login", name, ack_id=self.LOGIN_ACK_ID)

    def broadcast(self, text: str) -> bytes:
        return self._emit("msgall", text)

    def direct(self, to: str, text: str) -> bytes:
        return self._emit("msg", {"to": to, "text": text})

    def _event(self, kind: str, sender: str, text: str) -> str:
        return _eio_message(sio.Packet(sio.EVENT, data=[kind, {"from": sender, "text": text}]))

    def broadcast_event(self, sender: str, text: str) -> str:
        return self._event("msgall", sender, text)

    def direct_event(self, sender: str, text: str) -> str:
        return self._event("msg", sender, text)

    def wire(self, payload: str) -> bytes:
        return server_frame(payload)

    def splitter(self) -> FrameSplitter:
        return FrameSplitter()

    def pong(self) -> bytes:
        return self._frame(eio.Packet(eio.PONG).encode())

    def is_login_ack(self, note: Note, name: str) -> bool | None:
        if note[0] != "reply" or note[1] != str(self.LOGIN_ACK_ID):
            return None
        return note[2] == "ok"

    def classify(self, unit: str) -> Note:
        try:
            outer = eio.Packet(encoded_packet=unit)
            if outer.packet_type == eio.PING:
                return ("ping",)
            if outer.packet_type == eio.CLOSE:
                return "bye", "engine.io close"
            if outer.packet_type != eio.MESSAGE or not isinstance(outer.data, str):
                return "other", unit
            packet = sio.Packet(encoded_packet=outer.data)
        except (ValueError, TypeError):
            return "other", unit
        data = packet.data
        if packet.packet_type == sio.ACK and isinstance(data, list):
            return "reply", str(packet.id), str(data[0] if data else "")
        if packet.packet_type == sio.EVENT and isinstance(data, list) and len(data) == 2 \
                and isinstance(data[1], dict):
            return str(data[0]), str(data[1].get("from")), str(data[1].get("text"))
        if packet.packet_type == sio.DISCONNECT:
            return "bye", "socket.io disconnect"
        return "other", unit


Dialect = TcpLines | WsLines | SocketIo
