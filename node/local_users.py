"""The logged-in users connected to this node, and fan-out of events to them.

Delivery never waits on a client: each line is offered to the client's outbox
and a client whose outbox is full is disconnected as a slow consumer (``bye slow``). A line is
formatted once and the same string object goes to every recipient.
"""

from typing import Protocol

from node.claim import Claim
from node.prepared import Prepared
from node.protocol import ByeReason


class Recipient(Protocol):
    peer: str

    def offer(self, line: Prepared, *, now: bool = False) -> bool: ...

    def drop(self, reason: ByeReason) -> None: ...


class LocalUsers:
    def __init__(self) -> None:
        self._by_folded: dict[str, tuple[Claim, Recipient]] = {}
        # Names whose claim has not been answered yet: they receive events, but are not
        # this node's users in Redis yet.
        self._pending: set[str] = set()

    def __len__(self) -> int:
        return len(self._by_folded)

    def add(self, claim: Claim, recipient: Recipient, *, pending: bool = False) -> None:
        self._by_folded[claim.folded] = (claim, recipient)
        if pending:
            self._pending.add(claim.folded)
        else:
            self._pending.discard(claim.folded)

    def remove(self, folded: str, recipient: Recipient) -> None:
        """Forget ``folded``, unless it already belongs to a newer connection."""
        entry = self._by_folded.get(folded)
        if entry is not None and entry[1] is recipient:
            del self._by_folded[folded]
            self._pending.discard(folded)

    def holds(self, folded: str) -> bool:
        return folded in self._by_folded

    def deliver(self, folded: str, line: str) -> bool:
        entry = self._by_folded.get(folded)
        if entry is None:
            return False
        self._offer(entry[1], Prepared(line), now=True)  # one recipient: no round to wait for
        return True

    def broadcast(self, line: str, skip: frozenset[str] = frozenset()) -> int:
        """Offer ``line`` to every local user but those in ``skip``; how many."""
        prepared = Prepared(line)  # encoded once per transport, not per recipient
        # list(): dropping a slow consumer may not change the dict mid-iteration.
        offered = 0
        for folded, (_, recipient) in list(self._by_folded.items()):
            if folded not in skip:
                self._offer(recipient, prepared)
                offered += 1
        return offered

    def claims(self) -> list[Claim]:
        """The claim of every logged-in local user (claims still pending left out)."""
        return [claim for folded, (claim, _) in self._by_folded.items()
                if folded not in self._pending]

    def drop(self, folded: str) -> None:
        """Disconnect the local user holding ``folded`` (its name now belongs elsewhere)."""
        entry = self._by_folded.pop(folded, None)
        self._pending.discard(folded)
        if entry is not None:
            entry[1].drop(ByeReason.NAME_TAKEN)

    def describe(self) -> list[str]:
        """``name peer`` for each local user, for the debug log."""
        return [f"{claim.display} {r.peer}" for claim, r in sorted(
            self._by_folded.values(), key=lambda entry: entry[0].display)]

    @staticmethod
    def _offer(recipient: Recipient, line: Prepared, *, now: bool = False) -> None:
        if not recipient.offer(line, now=now):
            recipient.drop(ByeReason.SLOW)
