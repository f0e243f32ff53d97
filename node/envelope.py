"""The node-to-node payload on Redis pub/sub: versioned JSON, one format for all.

Decoding never raises: a payload that is not a known version-1 envelope (a newer
node, a stray PUBLISH by hand) decodes to None and is ignored by the relay.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

VERSION = 1


@dataclass(frozen=True)
class Broadcast:
    sender: str
    text: str
    # When it was published (Unix seconds; "t"), for the delivery-lag histogram; None
    # from a sender that did not say.
    sent: float | None = None


@dataclass(frozen=True)
class Direct:
    sender: str
    target_folded: str
    text: str
    sent: float | None = None


@dataclass(frozen=True)
class Presence:
    """``join`` or ``leave`` of one or more names."""

    kind: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class PresenceMode:
    """The cluster switched between names ("listed") and a count ("counted"); written by
    presence.lua, in the channel's order with every join and leave."""

    mode: str
    online: int


@dataclass(frozen=True)
class Probe:
    """Sent by a node to itself to confirm its subscription is live."""

    token: str


Envelope = Broadcast | Direct | Presence | PresenceMode | Probe


def encode(envelope: Envelope) -> str:
    body: dict[str, object]
    if isinstance(envelope, Broadcast):
        body = {"kind": "msgall", "from": envelope.sender, "text": envelope.text}
        if envelope.sent is not None:
            body["t"] = envelope.sent
    elif isinstance(envelope, Direct):
        body = {"kind": "msg", "from": envelope.sender, "to": envelope.target_folded,
                "text": envelope.text}
        if envelope.sent is not None:
            body["t"] = envelope.sent
    elif isinstance(envelope, Presence):
        body = {"kind": envelope.kind, "names": list(envelope.names)}
    elif isinstance(envelope, PresenceMode):
        body = {"kind": "presence", "mode": envelope.mode, "online": envelope.online}
    else:
        body = {"kind": "probe", "token": envelope.token}
    return json.dumps({"v": VERSION, **body}, ensure_ascii=False, separators=(",", ":"))


def decode(payload: bytes | str) -> Envelope | None:
    try:
        body = json.loads(payload)
        version = body.get("v") if isinstance(body, dict) else None
        if type(version) is not int or version != VERSION:  # True == 1 is not a version
            return None
        return _DECODERS[body["kind"]](body)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


def _text(body: dict, key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        raise TypeError(key)
    value.encode("utf-8")  # lone surrogates from JSON escapes raise ValueError here
    return value


def _names(body: dict) -> tuple[str, ...]:
    names = body["names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TypeError("names")
    for name in names:
        name.encode("utf-8")
    return tuple(names)


def _sent(body: dict) -> float | None:
    sent = body.get("t")
    if isinstance(sent, bool) or not isinstance(sent, int | float) or not math.isfinite(sent):
        return None
    return float(sent)


def _mode(body: dict) -> str:
    mode = _text(body, "mode")
    if mode not in ("listed", "counted"):
        raise ValueError(mode)
    return mode


def _count(body: dict) -> int:
    online = body["online"]
    if type(online) is not int or online < 0:
        raise TypeError("online")
    return online


_DECODERS: dict[str, Callable[[dict[str, Any]], Envelope]] = {
    "msgall": lambda b: Broadcast(_text(b, "from"), _text(b, "text"), _sent(b)),
    "msg": lambda b: Direct(_text(b, "from"), _text(b, "to"), _text(b, "text"), _sent(b)),
    "join": lambda b: Presence("join", _names(b)),
    "leave": lambda b: Presence("leave", _names(b)),
    "presence": lambda b: PresenceMode(_mode(b), _count(b)),
    "probe": lambda b: Probe(_text(b, "token")),
}
