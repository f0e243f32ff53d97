"""The WebSocket opening handshake (RFC 6455, section 4.2), decided without I/O:
is a request an upgrade, is it well formed, may its page connect, and what the
``Sec-WebSocket-Accept`` answer is. The frames after it are wsproto's business."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from wsproto.utilities import generate_accept_token

from node.origins import OriginPolicy

WS_PATH = "/ws"
Headers = Sequence[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Accept:
    token: bytes  # the Sec-WebSocket-Accept value


@dataclass(frozen=True)
class Refuse:
    status: int
    reason: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


def header(headers: Headers, name: bytes) -> str | None:
    """The value of header ``name`` (lower case), several joined by commas; None if absent."""
    values = [value.decode("latin-1") for key, value in headers if key == name]
    return ", ".join(values) if values else None


def _tokens(value: str | None) -> set[str]:
    return {token.strip().lower() for token in (value or "").split(",")}


def wants_upgrade(headers: Headers) -> bool:
    """The client asks to switch this connection to WebSocket."""
    return "websocket" in _tokens(header(headers, b"upgrade"))


def decide(method: str, path: str, headers: Headers, origins: OriginPolicy) -> Accept | Refuse:
    """Accept an upgrade request, or refuse it with an HTTP status (before upgrading)."""
    if path != WS_PATH:
        return Refuse(403, f"no WebSocket here; it is at {WS_PATH}\n")
    if not origins.allows(header(headers, b"origin"), header(headers, b"host")):
        return Refuse(403, "this page's origin may not open a WebSocket here\n")
    if method != "GET" or "upgrade" not in _tokens(header(headers, b"connection")):
        return Refuse(400, "a WebSocket handshake is a GET with Connection: Upgrade\n")
    if header(headers, b"sec-websocket-version") != "13":
        return Refuse(426, "WebSocket version 13 only\n", ((b"sec-websocket-version", b"13"),))
    key = header(headers, b"sec-websocket-key") or ""
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError(key)
    except (binascii.Error, ValueError):
        return Refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64\n")
    return Accept(generate_accept_token(key.encode("ascii")))
