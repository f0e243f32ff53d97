"""Coalesce a burst of join/leave announcements into as few envelopes as possible.

Order is kept: only *consecutive* announcements of the same kind merge, so a
``leave`` of a name never overtakes its ``join``. A name repeated in one run is
kept once.
"""

from node.envelope import Presence


def coalesce(announcements: list[tuple[str, str]]) -> list[Presence]:
    """``[("join", "a"), ("join", "b"), ("leave", "a")]`` -> join a b, leave a."""
    runs: list[tuple[str, dict[str, None]]] = []
    for kind, name in announcements:
        if not runs or runs[-1][0] != kind:
            runs.append((kind, {}))
        runs[-1][1][name] = None  # a dict keeps first-seen order and drops repeats
    return [Presence(kind, tuple(names)) for kind, names in runs]
