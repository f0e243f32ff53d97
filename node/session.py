"""One client's protocol state machine: the session decides, the connection does.

``receive_line`` turns a client line into either a ``Reply`` (answered at once)
or an operation the connection must carry out against the cluster; the
connection then calls ``complete`` (or ``fail``) with the outcome and gets the
one reply for that command. So every command gets exactly one reply, by
construction, and every rule here is testable without Redis or sockets.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from node import protocol
from node.names import fold_name, name_order, sort_names
from node.protocol import Command, ErrorCode, Rejected


class LoginResult(StrEnum):
    """How a login attempt ended (the ``result`` label of ``chat_logins_total``)."""

    OK = "ok"
    NAME_TAKEN = "name_taken"
    INVALID = "invalid"  # a bad name, or not `login <name>`
    UNAVAILABLE = "unavailable"  # the chat store could not be reached, or is recovering


@dataclass(frozen=True)
class Reply:
    """Lines for this client: the reply first, then any events that follow it."""

    lines: list[str]
    close: bool = False
    # Set on the reply that ends a login attempt, for /metrics; not what the client sees,
    # so replies compare without it.
    login: LoginResult | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ClaimName:
    name: str


@dataclass(frozen=True)
class ClaimOutcome:
    won: bool
    users: list[str] = field(default_factory=list)
    holder: str | None = None  # when lost: the online name in the way (same, or look-alike)
    # Users online when it won, if more than the presence limit: then `users` is empty
    # and the newcomer gets `online <n>` instead of the names.
    online: int | None = None


@dataclass(frozen=True)
class SendDirect:
    sender: str
    target: str
    text: str


@dataclass(frozen=True)
class Broadcast:
    sender: str
    text: str


@dataclass(frozen=True)
class ListUsers:
    after: str | None = None  # the page of names sorted after this one


@dataclass(frozen=True)
class DumpDebug:
    name: str


Operation = ClaimName | SendDirect | Broadcast | ListUsers | DumpDebug


class Session:
    __slots__ = ("name", "closed", "_userlist_page", "command")

    def __init__(self, userlist_page: int = 1000) -> None:
        self.name: str | None = None
        self.closed = False
        self._userlist_page = userlist_page
        # The command the last line named ("" if none): what /metrics counts.
        self.command = ""

    def receive_line(self, line: str | Rejected) -> Reply | Operation | None:
        """React to one input line; None means the line is ignored (blank)."""
        parsed = line if isinstance(line, Rejected) else protocol.parse_line(line)
        if parsed is None:
            self.command = ""
            return None
        if isinstance(parsed, Rejected):
            self.command = parsed.command
            invalid = LoginResult.INVALID if parsed.command == "login" else None
            return Reply([parsed.line()], login=invalid)
        self.command = parsed.spec.name
        return self._dispatch(parsed)

    def _dispatch(self, command: Command) -> Reply | Operation:
        spec = command.spec
        if spec.name == "login":
            if self.name is not None:
                return _error(ErrorCode.ALREADY_LOGGED_IN,
                              f"you are already logged in as {self.name}")
            return ClaimName(command.name)
        if spec.needs_login and self.name is None:
            return _error(ErrorCode.NOT_LOGGED_IN, "log in first: login <name>")
        assert self.name is not None
        if spec.name == "logout":
            # The name is released by the connection's cleanup, the same path as a
            # dropped connection, so logout and disconnect look alike to everyone else.
            self.closed = True
            return Reply([protocol.ok_line("logout")], close=True)
        return _ACTIONS[spec.name](self.name, command)

    def complete(self, op: Operation, outcome: object) -> Reply:
        """The reply for ``op`` once the cluster has carried it out with ``outcome``."""
        if isinstance(op, ClaimName):
            return self._complete_claim(op, outcome)
        if isinstance(op, SendDirect):
            if outcome is None:
                return _error(ErrorCode.NO_SUCH_USER, f"nobody called {op.target} is online")
            return Reply([protocol.ok_line("msg", str(outcome))])
        if isinstance(op, Broadcast):
            return Reply([protocol.ok_line("msgall")])
        if isinstance(op, ListUsers):
            assert isinstance(outcome, list)
            return Reply([self._userlist_page_of(outcome, op.after)])
        return Reply([protocol.ok_line("debug")])

    def _complete_claim(self, op: ClaimName, outcome: object) -> Reply:
        assert isinstance(outcome, ClaimOutcome)
        if not outcome.won:
            holder = outcome.holder
            if holder is None or fold_name(holder) == fold_name(op.name):
                detail = f"the name {op.name} is taken; pick another"
            else:
                detail = (f"the name {op.name} is taken: it looks like {holder}, who is "
                          "online; pick another")
            return _error(ErrorCode.NAME_TAKEN, detail, LoginResult.NAME_TAKEN)
        self.name = op.name
        if outcome.online is not None:
            presence = protocol.online_line(outcome.online)
        else:
            presence = protocol.event_line("users", *sort_names(outcome.users))
        return Reply([protocol.ok_line("login", op.name), presence], login=LoginResult.OK)

    def _userlist_page_of(self, names: list[str], after: str | None) -> str:
        ordered = sort_names(names)
        if after is not None:
            start = name_order(after)
            ordered = [name for name in ordered if name_order(name) > start]
        page = ordered[:self._userlist_page]
        return protocol.userlist_reply(page, len(ordered) - len(page))

    def fail(self, op: Operation, recovering: bool = False) -> Reply:
        """The reply when the cluster's store could not be reached for ``op``, or (a
        login) while it recovers from losing its data."""
        login = LoginResult.UNAVAILABLE if isinstance(op, ClaimName) else None
        if recovering:
            return _error(ErrorCode.UNAVAILABLE, "the chat store is recovering from a "
                                                 "restart; try again in a few seconds", login)
        return _error(ErrorCode.UNAVAILABLE, "the chat store is unreachable; try again shortly",
                      login)


def _error(code: ErrorCode, detail: str, login: LoginResult | None = None) -> Reply:
    return Reply([protocol.error_line(code, detail)], login=login)


_ACTIONS: dict[str, Callable[[str, Command], Reply | Operation]] = {
    "msg": lambda me, c: SendDirect(me, c.name, c.text),
    "msgall": lambda me, c: Broadcast(me, c.text),
    "whoami": lambda me, c: Reply([protocol.ok_line("whoami", me)]),
    "userlist": lambda me, c: ListUsers(c.name or None),
    "debug": lambda me, c: DumpDebug(me),
}
