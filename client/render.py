"""Protocol lines rendered for people. Pure: no terminal, no sockets.

Every command gets exactly one reply, in order, so the client pairs each reply
with the command it sent (``Conversation``) and can say ``[you → bob] hi``
when ``ok msg bob`` comes back.
"""

from collections import deque
from dataclasses import dataclass
from enum import Enum


class Style(Enum):
    BROADCAST = "broadcast"
    DIRECT = "direct"
    SYSTEM = "system"
    ERROR = "error"


@dataclass(frozen=True)
class Shown:
    text: str
    style: Style


def _names(parts: list[str]) -> str:
    return ", ".join(parts)


def render_count(rest: str) -> Shown | None:
    """``online <n>``: past the presence limit, a count instead of names."""
    if not rest.isdecimal():
        return None
    count = int(rest)
    users = "user" if count == 1 else "users"
    return Shown(f"* {count:,} {users} online (too many to list; /userlist to page through "
                 "them)", Style.SYSTEM)


def render_userlist(detail: str, after: str) -> Shown:
    """``ok userlist <names> [+<more>]``, the page after ``after`` ("" for the first).
    A name never starts with ``+``, so a last word ``+<n>`` counts the names not shown."""
    names = detail.split()
    more = names.pop()[1:] if names and names[-1].startswith("+") else ""
    where = f"online after {after}" if after else "online"
    text = f"* {where}: {_names(names) or 'nobody'}"
    if more.isdecimal() and names:
        text += f" … and {int(more):,} more (/userlist {names[-1]} for the next page)"
    return Shown(text, Style.SYSTEM)


# `bye <reason>`: the server's last line before it closes the connection. The server
# may add reasons; an unknown one is shown by its word.
BYE_REASONS = {
    "slow": "this client did not read its messages fast enough",
    "name_taken": "someone else is now logged in with your name",
    "shutdown": "the server is shutting down",
    "idle": "you took too long to log in (or to finish a line)",
    "server_full": "the server is full; try again later",
}


def bye_reason(line: str) -> str | None:
    """The reason of a ``bye`` line ("" if it gives none); None for any other line."""
    kind, _, rest = line.partition(" ")
    return rest.partition(" ")[0] if kind == "bye" else None


def render_bye(reason: str) -> Shown:
    if reason in BYE_REASONS:
        return Shown(f"! disconnected by the server: {BYE_REASONS[reason]}", Style.ERROR)
    if reason:
        return Shown(f"! disconnected by the server (reason: {reason})", Style.ERROR)
    return Shown("! disconnected by the server", Style.ERROR)


def render_event(line: str) -> Shown | None:
    """An event line (not a reply) for people; None for a line we do not know."""
    reason = bye_reason(line)
    if reason is not None:
        return render_bye(reason)
    kind, _, rest = line.partition(" ")
    if kind in ("msg", "msgall"):
        sender, _, text = rest.partition(" ")
        if kind == "msg":
            return Shown(f"[{sender} → you] {text}", Style.DIRECT)
        return Shown(f"[{sender}] {text}", Style.BROADCAST)
    names = rest.split()
    if kind == "join":
        return Shown(f"* {_names(names)} joined", Style.SYSTEM)
    if kind == "leave":
        return Shown(f"* {_names(names)} left", Style.SYSTEM)
    if kind == "users":
        return Shown(f"* online: {_names(names)}", Style.SYSTEM)
    if kind == "online":
        return render_count(rest)
    return None


def render_reply(line: str, command: str | None) -> Shown | None:
    """The reply to ``command`` for people; None where the reply says nothing new."""
    status, _, rest = line.partition(" ")
    if status == "error":
        _code, _, text = rest.partition(" ")
        return Shown(f"! {text}", Style.ERROR)
    verb, _, detail = rest.partition(" ")
    if verb == "msg" and command:
        text = command.split(" ", 2)[2] if command.count(" ") >= 2 else ""
        return Shown(f"[you → {detail}] {text.lstrip(' ')}", Style.DIRECT)
    if verb == "userlist":
        return render_userlist(detail, (command or "").partition(" ")[2].strip())
    return {
        "login": Shown(f"* logged in as {detail}", Style.SYSTEM),
        "whoami": Shown(f"* you are {detail}", Style.SYSTEM),
        "logout": Shown("* logged out", Style.SYSTEM),
        "debug": Shown("* the node wrote its state to its log", Style.SYSTEM),
    }.get(verb)


def is_reply(line: str) -> bool:
    return line.startswith(("ok ", "error ")) or line == "ok"


class Conversation:
    """Pairs replies with the commands sent, in order; knows who we are, whether the
    server refused a ``login``, and whether it gives a count instead of names."""

    def __init__(self) -> None:
        self._sent: deque[str] = deque()
        self.me: str | None = None
        self.login_refused = False
        self.counting = False  # `online <n>` shown, no `users` since

    @property
    def waiting(self) -> int:
        """Commands sent that have not had their reply yet."""
        return len(self._sent)

    def sent(self, command: str) -> None:
        self._sent.append(command)

    def _event(self, line: str) -> Shown | None:
        """Past the presence limit the node repeats `online <n>` every heartbeat while
        the number changes; in a log the first says it, until `users` lists names again."""
        shown = render_event(line)
        kind = line.partition(" ")[0]
        if kind == "users":
            self.counting = False
        elif kind == "online" and shown is not None:
            if self.counting:
                return None
            self.counting = True
        return shown

    def received(self, line: str) -> Shown | None:
        if not is_reply(line):
            return self._event(line)
        command = self._sent.popleft() if self._sent else None
        if line.startswith("error ") and command and command.split(" ", 1)[0] == "login":
            self.login_refused = True
        elif line.startswith("ok login "):
            self.me = line.split(" ", 2)[2]
        elif line == "ok logout":
            self.me = None
        return render_reply(line, command)
