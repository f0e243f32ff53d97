"""Which web pages may open a WebSocket to this node: a check of the ``Origin``
header against an allow-list, so a page on another site cannot use a visitor's
browser to log in and read the chat (cross-site WebSocket hijacking). Pure.

Allowed: requests without ``Origin`` (non-browser clients never send it); pages from
the very host and port the request was sent to (the ``Host`` header), which covers the
node's own page and the page behind a load balancer that keeps ``Host``; and the
origins an operator lists (``--allowed-origins``; ``*`` allows any). Refused: every
other origin, ``null`` (sandboxed frames, local files) and non-web schemes.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

ANY = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(origin: str) -> tuple[str, str, int] | None:
    """``scheme://host[:port]`` -> (scheme, host, port) with the default port filled
    in; None for anything else (``null``, paths, other schemes, bad ports)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _host_and_port(host_header: str, default_port: int) -> tuple[str, int] | None:
    """``host[:port]`` of a Host header, the port defaulting to the origin scheme's."""
    try:
        parts = urlsplit(f"//{host_header.strip()}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.username:
        return None
    return parts.hostname.lower(), port or default_port


@dataclass(frozen=True)
class OriginPolicy:
    allowed: tuple[str, ...] = ()  # origins as the operator wrote them, or "*"

    def __post_init__(self) -> None:
        for origin in self.allowed:
            if origin != ANY and parse_origin(origin) is None:
                raise ValueError(f"allowed origin {origin!r}: use scheme://host[:port] "
                                 f"with http or https, or {ANY}")

    def allows(self, origin: str | None, host_header: str | None) -> bool:
        if origin is None:
            return True
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        if ANY in self.allowed or parsed in {parse_origin(o) for o in self.allowed}:
            return True
        scheme, host, port = parsed
        if host_header is None:
            return False
        return _host_and_port(host_header, _DEFAULT_PORTS[scheme]) == (host, port)
