"""envelope.py: the versioned node-to-node payload; decoding never raises."""

import pytest

from node.envelope import (
    Broadcast,
    Direct,
    Envelope,
    Presence,
    PresenceMode,
    Probe,
    decode,
    encode,
)

ENVELOPES = [
    pytest.param(Broadcast("alice", "hi all"), id="broadcast"),
    pytest.param(Broadcast("Борис", "  spaced  \t text "), id="broadcast-spaces-unicode"),
    pytest.param(Broadcast("a", 'quotes " and \\ backslash'), id="broadcast-escapes"),
    pytest.param(Broadcast("a", "emoji 😀 and 世界"), id="broadcast-non-bmp"),
    pytest.param(Direct("alice", "bob", "hi"), id="direct"),
    pytest.param(Direct("Alice", "straße".casefold(), "x"), id="direct-folded-target"),
    pytest.param(Presence("join", ("alice",)), id="join-one"),
    pytest.param(Presence("join", ("alice", "Борис", "李")), id="join-many"),
    pytest.param(Presence("leave", ("bob", "carol")), id="leave"),
    pytest.param(Presence("leave", ()), id="leave-none"),
    pytest.param(Probe("0123abcd"), id="probe"),
]


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_round_trip(envelope: Envelope) -> None:
    assert decode(encode(envelope)) == envelope
    assert decode(encode(envelope).encode("utf-8")) == envelope


@pytest.mark.parametrize("envelope, wire", [
    pytest.param(Broadcast("alice", "hi"), '{"v":1,"kind":"msgall","from":"alice","text":"hi"}',
                 id="broadcast"),
    pytest.param(Direct("alice", "bob", "hi"),
                 '{"v":1,"kind":"msg","from":"alice","to":"bob","text":"hi"}', id="direct"),
    pytest.param(Presence("join", ("a", "b")), '{"v":1,"kind":"join","names":["a","b"]}',
                 id="join"),
    pytest.param(Presence("leave", ("a",)), '{"v":1,"kind":"leave","names":["a"]}', id="leave"),
    pytest.param(Probe("t1"), '{"v":1,"kind":"probe","token":"t1"}', id="probe"),
    pytest.param(Broadcast("é", "世"), '{"v":1,"kind":"msgall","from":"é","text":"世"}',
                 id="utf8-not-escaped"),
])
def test_wire_format(envelope: Envelope, wire: str) -> None:
    # Nodes of different builds share this format: a change here is a protocol change.
    assert encode(envelope) == wire


def _env(body: str) -> str:
    return "{" + body + "}"


NASTY = [
    pytest.param(b"", id="empty-bytes"),
    pytest.param("", id="empty-str"),
    pytest.param("not json", id="not-json"),
    pytest.param("{", id="truncated"),
    pytest.param('{"v":1,"kind":"msgall","from":"a","text":"b"', id="truncated-envelope"),
    pytest.param(b"\xff\xfe\x00", id="invalid-utf8"),
    pytest.param(b"\x80abc", id="stray-continuation-byte"),
    pytest.param("null", id="null"),
    pytest.param("1", id="number"),
    pytest.param("NaN", id="nan"),
    pytest.param('"msgall"', id="string"),
    pytest.param("[]", id="empty-list"),
    pytest.param('[1, {"v": 1}]', id="list"),
    pytest.param("{}", id="empty-object"),
    pytest.param(_env('"kind":"msgall","from":"a","text":"b"'), id="no-version"),
    pytest.param(_env('"v":2,"kind":"msgall","from":"a","text":"b"'), id="newer-version"),
    pytest.param(_env('"v":0,"kind":"msgall","from":"a","text":"b"'), id="version-zero"),
    pytest.param(_env('"v":"1","kind":"msgall","from":"a","text":"b"'), id="version-string"),
    pytest.param(_env('"v":true,"kind":"msgall","from":"a","text":"b"'), id="version-true"),
    pytest.param(_env('"v":null,"kind":"msgall","from":"a","text":"b"'), id="version-null"),
    pytest.param(_env('"v":[1],"kind":"msgall","from":"a","text":"b"'), id="version-list"),
    pytest.param(_env('"v":1e999'), id="version-infinity"),
    pytest.param(_env('"v":1' + "0" * 5000), id="version-huge-int"),
    pytest.param(_env('"v":1,"v":2,"kind":"probe","token":"t"'), id="duplicate-version-key"),
    pytest.param(_env('"v":1'), id="no-kind"),
    pytest.param(_env('"v":1,"kind":"shout","text":"b"'), id="unknown-kind"),
    pytest.param(_env('"v":1,"kind":null'), id="kind-null"),
    pytest.param(_env('"v":1,"kind":["msgall"]'), id="kind-list"),
    pytest.param(_env('"v":1,"kind":{"a":1}'), id="kind-object"),
    pytest.param(_env('"v":1,"kind":"msgall","from":"a"'), id="msgall-no-text"),
    pytest.param(_env('"v":1,"kind":"msgall","text":"b"'), id="msgall-no-from"),
    pytest.param(_env('"v":1,"kind":"msgall","from":1,"text":"b"'), id="msgall-from-number"),
    pytest.param(_env('"v":1,"kind":"msgall","from":"a","text":null'), id="msgall-text-null"),
    pytest.param(_env('"v":1,"kind":"msgall","from":"a","text":["b"]'), id="msgall-text-list"),
    pytest.param(_env('"v":1,"kind":"msg","from":"a","text":"b"'), id="msg-no-to"),
    pytest.param(_env('"v":1,"kind":"msg","from":"a","to":5,"text":"b"'), id="msg-to-number"),
    pytest.param(_env('"v":1,"kind":"join"'), id="join-no-names"),
    pytest.param(_env('"v":1,"kind":"join","names":"alice"'), id="join-names-string"),
    pytest.param(_env('"v":1,"kind":"join","names":[1]'), id="join-names-number"),
    pytest.param(_env('"v":1,"kind":"leave","names":["a",null]'), id="leave-names-null"),
    pytest.param(_env('"v":1,"kind":"leave","names":{"a":1}'), id="leave-names-object"),
    pytest.param(_env('"v":1,"kind":"probe"'), id="probe-no-token"),
    pytest.param(_env('"v":1,"kind":"probe","token":7'), id="probe-token-number"),
    pytest.param("[" * 100_000, id="deeply-nested-list"),
    pytest.param('{"a":' * 100_000, id="deeply-nested-object"),
]


@pytest.mark.parametrize("payload", NASTY)
def test_nasty_payloads_decode_to_none(payload: bytes | str) -> None:
    assert decode(payload) is None


@pytest.mark.parametrize("payload, expected", [
    ('{"v":1,"kind":"presence","mode":"counted","online":1001}', PresenceMode("counted", 1001)),
    ('{"online":7,"mode":"listed","kind":"presence","v":1}', PresenceMode("listed", 7)),
    ('{"v":1,"kind":"presence","mode":"chatty","online":3}', None),
    ('{"v":1,"kind":"presence","mode":"listed","online":-1}', None),
    ('{"v":1,"kind":"presence","mode":"listed","online":true}', None),
    ('{"v":1,"kind":"presence","mode":"listed"}', None),
])
def test_presence_mode_envelopes_as_presence_lua_writes_them(
        payload: str, expected: PresenceMode | None) -> None:
    assert decode(payload) == expected


def test_presence_mode_round_trip() -> None:
    assert decode(encode(PresenceMode("counted", 5))) == PresenceMode("counted", 5)


@pytest.mark.parametrize("envelope", [Broadcast("a", "hi", 1764650000.25),
                                      Direct("a", "b", "hi", 1764650000.0)])
def test_the_publish_time_travels_with_the_message(envelope: Envelope) -> None:
    assert decode(encode(envelope)) == envelope
    assert '"t":17646500' in encode(envelope)


@pytest.mark.parametrize("t", ['"soon"', "true", "NaN", "Infinity", "null", "[1]"])
def test_a_publish_time_that_is_not_a_number_is_left_out(t: str) -> None:
    # The message still goes through; only the lag sample is lost.
    assert decode(f'{{"v":1,"kind":"msgall","from":"a","text":"x","t":{t}}}') == \
        Broadcast("a", "x", None)
