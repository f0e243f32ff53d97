"""Which pages may open a WebSocket, and the handshake decisions, without sockets."""

import base64

import pytest

from node.origins import OriginPolicy, parse_origin
from node.ws_handshake import Accept, Refuse, decide, wants_upgrade

HOST = "chat.example.com:8080"


@pytest.mark.parametrize("origin, allowed", [
    (None, True),  # no Origin: not a browser
    ("http://chat.example.com:8080", True),
    ("HTTP://Chat.Example.COM:8080", True),  # scheme and host are case-insensitive
    ("https://chat.example.com:8080", True),
    ("http://chat.example.com", False),  # port 80 is another origin
    ("http://chat.example.com:8081", False),
    ("http://evil.example:8080", False),
    ("http://chat.example.com.evil.example:8080", False),
    ("null", False),
    ("", False),
    ("file:///etc/passwd", False),
    ("ws://chat.example.com:8080", False),
    ("http://chat.example.com:8080/path", False),
    ("http://user@chat.example.com:8080", False),
    ("http://chat.example.com:99999", False),
])
def test_same_origin_by_default(origin: str | None, allowed: bool) -> None:
    assert OriginPolicy().allows(origin, HOST) is allowed


@pytest.mark.parametrize("host_header, origin, allowed", [
    ("chat.example.com", "http://chat.example.com", True),  # default ports on both sides
    ("chat.example.com", "https://chat.example.com", True),
    ("chat.example.com:443", "https://chat.example.com", True),
    ("chat.example.com", "http://chat.example.com:8080", False),
    ("[::1]:8080", "http://[::1]:8080", True),
    (None, "http://chat.example.com", False),  # HTTP/1.0 without Host: only the list
    ("bad host:x", "http://bad", False),
])
def test_host_header_forms(host_header: str | None, origin: str, allowed: bool) -> None:
    assert OriginPolicy().allows(origin, host_header) is allowed


def test_listed_origins_and_the_wildcard() -> None:
    listed = OriginPolicy(("https://page.example.org",))
    assert listed.allows("https://page.example.org", HOST)
    assert listed.allows("https://page.example.org:443", HOST)
    assert not listed.allows("http://page.example.org", HOST)
    assert OriginPolicy(("*",)).allows("http://anything.example", HOST)
    assert not OriginPolicy(("*",)).allows("null", HOST)


@pytest.mark.parametrize("bad", ["page.example.org", "https://", "ftp://x", "https://x/path"])
def test_an_unusable_allowed_origin_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed origin"):
        OriginPolicy((bad,))


def test_parse_origin_fills_in_default_ports() -> None:
    assert parse_origin("https://Example.com") == ("https", "example.com", 443)
    assert parse_origin("http://example.com:81") == ("http", "example.com", 81)


KEY = base64.b64encode(b"0123456789abcdef")


def _headers(**extra: bytes) -> list[tuple[bytes, bytes]]:
    base = {b"host": HOST.encode(), b"upgrade": b"websocket", b"connection": b"keep-alive, Upgrade",
            b"sec-websocket-version": b"13", b"sec-websocket-key": KEY}
    base.update({name.replace("_", "-").encode(): value for name, value in extra.items()})
    return [(name, value) for name, value in base.items() if value]


def test_a_good_handshake_gets_the_rfc_accept_token() -> None:
    # The example from RFC 6455, section 1.3.
    headers = _headers(sec_websocket_key=b"dGhlIHNhbXBsZSBub25jZQ==")
    assert decide("GET", "/ws", headers, OriginPolicy()) == Accept(
        b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    assert wants_upgrade(headers)
    assert not wants_upgrade([(b"host", b"x")])


@pytest.mark.parametrize("method, path, extra, status", [
    ("GET", "/other", {}, 403),
    ("GET", "/ws", {"origin": b"http://evil.example"}, 403),
    ("POST", "/ws", {}, 400),
    ("GET", "/ws", {"connection": b"keep-alive"}, 400),
    ("GET", "/ws", {"sec_websocket_version": b"8"}, 426),
    ("GET", "/ws", {"sec_websocket_key": b"short"}, 400),
    ("GET", "/ws", {"sec_websocket_key": b""}, 400),
])
def test_bad_handshakes_are_refused_before_upgrading(
        method: str, path: str, extra: dict[str, bytes], status: int) -> None:
    decision = decide(method, path, _headers(**extra), OriginPolicy())
    assert isinstance(decision, Refuse) and decision.status == status
