"""batcher.py: join/leave bursts coalesced into as few envelopes as order allows."""

import itertools

import pytest

from node.batcher import coalesce
from node.envelope import Presence


@pytest.mark.parametrize("announcements, expected", [
    pytest.param([], [], id="nothing"),
    pytest.param([("join", "a")], [Presence("join", ("a",))], id="one"),
    pytest.param([("join", "a"), ("join", "b"), ("join", "c")],
                 [Presence("join", ("a", "b", "c"))], id="run-merges-in-order"),
    pytest.param([("join", "c"), ("join", "a"), ("join", "b")],
                 [Presence("join", ("c", "a", "b"))], id="run-keeps-arrival-order"),
    pytest.param([("join", "a"), ("join", "b"), ("leave", "a")],
                 [Presence("join", ("a", "b")), Presence("leave", ("a",))], id="docstring"),
    pytest.param([("join", "a"), ("leave", "a"), ("join", "a")],
                 [Presence("join", ("a",)), Presence("leave", ("a",)), Presence("join", ("a",))],
                 id="leave-stays-between-joins"),
    pytest.param([("join", "a"), ("join", "a"), ("join", "b"), ("join", "a")],
                 [Presence("join", ("a", "b"))], id="duplicates-in-run-dropped"),
    pytest.param([("leave", "a"), ("leave", "b"), ("join", "c"), ("join", "d"), ("leave", "e")],
                 [Presence("leave", ("a", "b")), Presence("join", ("c", "d")),
                  Presence("leave", ("e",))], id="three-runs"),
    pytest.param([("join", "a"), ("leave", "b"), ("join", "a")],
                 [Presence("join", ("a",)), Presence("leave", ("b",)), Presence("join", ("a",))],
                 id="non-consecutive-not-merged"),
])
def test_coalesce(announcements: list[tuple[str, str]], expected: list[Presence]) -> None:
    assert coalesce(announcements) == expected


def _replay(events: list[tuple[str, str]]) -> set[str]:
    online: set[str] = set()
    for kind, name in events:
        (online.add if kind == "join" else online.discard)(name)
    return online


def _history(events: list[tuple[str, str]], name: str) -> list[str]:
    """The kinds of events for one name, with immediate repeats collapsed."""
    kinds = [kind for kind, who in events if who == name]
    return [kind for kind, _ in itertools.groupby(kinds)]


EVENTS = [(kind, name) for kind in ("join", "leave") for name in ("a", "b")]
SEQUENCES = [list(seq) for n in range(5) for seq in itertools.product(EVENTS, repeat=n)]


@pytest.mark.parametrize("announcements", SEQUENCES, ids=str)
def test_coalescing_never_reorders_a_name(announcements: list[tuple[str, str]]) -> None:
    out = [(p.kind, name) for p in coalesce(announcements) for name in p.names]
    assert _replay(out) == _replay(announcements)
    for name in ("a", "b"):
        assert _history(out, name) == _history(announcements, name)
    for before, after in itertools.pairwise(coalesce(announcements)):
        assert before.kind != after.kind
