"""One session's hold on a user name, as the registry records it. Pure."""

from dataclasses import dataclass

from node.names import fold_name, skeleton


@dataclass(frozen=True, slots=True)
class Claim:
    """``token`` is new for every login: Redis refuses to publish for, release or
    restore a name on behalf of a session whose token no longer holds it (a fence)."""

    display: str  # as the user typed it
    folded: str  # the identity key (names.fold_name)
    skeleton: str  # the look-alike key (names.skeleton)
    token: str

    @classmethod
    def of(cls, display: str, token: str) -> "Claim":
        return cls(display, fold_name(display), skeleton(display), token)
