"""The line protocol, shared by TCP and WebSocket: the command table, the error
codes, parsing one client line into a ``Command``, and formatting server lines.

Pure: no I/O. Parsing checks syntax (and name validity) only; whether the user
is logged in is the session's business, so syntax errors win over ``not_logged_in``.
"""

import unicodedata
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from node.names import fold_name, name_problem


class ErrorCode(StrEnum):
    """Every ``error <code> ...`` the server sends. Documented in docs/protocol.md."""

    USAGE = "usage"
    UNKNOWN_COMMAND = "unknown_command"
    NOT_LOGGED_IN = "not_logged_in"
    ALREADY_LOGGED_IN = "already_logged_in"
    BAD_NAME = "bad_name"
    NAME_TAKEN = "name_taken"
    NO_SUCH_USER = "no_such_user"
    LINE_TOO_LONG = "line_too_long"
    BAD_ENCODING = "bad_encoding"
    BAD_TEXT = "bad_text"
    BAD_FRAME = "bad_frame"
    UNAVAILABLE = "unavailable"


class ByeReason(StrEnum):
    """Why the server closes a connection: sent once as ``bye <reason>`` just before.
    Documented in docs/protocol.md."""

    SLOW = "slow"  # its queue of events overflowed: it did not read fast enough
    NAME_TAKEN = "name_taken"  # someone else holds its name now (after a split or pause)
    SHUTDOWN = "shutdown"  # the node is stopping
    IDLE = "idle"  # no login within the login timeout, or a line left unfinished
    SERVER_FULL = "server_full"  # the node has as many connections as it takes


def bye_line(reason: ByeReason) -> str:
    return f"bye {reason}"


class Args(Enum):
    """The shape of a command's arguments."""

    NONE = "none"
    NAME = "name"
    NAME_TEXT = "name_text"
    OPTIONAL_NAME = "optional_name"
    TEXT = "text"


@dataclass(frozen=True)
class CommandSpec:
    name: str
    args: Args
    needs_login: bool
    usage: str


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("login", Args.NAME, False, "login <name>"),
        CommandSpec("msg", Args.NAME_TEXT, True, "msg <name> <text>"),
        CommandSpec("msgall", Args.TEXT, True, "msgall <text>"),
        CommandSpec("logout", Args.NONE, True, "logout"),
        CommandSpec("whoami", Args.NONE, True, "whoami"),
        CommandSpec("userlist", Args.OPTIONAL_NAME, True, "userlist [<after>]"),
        CommandSpec("debug", Args.NONE, True, "debug"),
    )
}


@dataclass(frozen=True)
class Command:
    """A syntactically valid command line."""

    spec: CommandSpec
    name: str = ""
    text: str = ""


@dataclass(frozen=True)
class Rejected:
    """A line the server refuses; becomes ``error <code> <detail>``."""

    code: ErrorCode
    detail: str
    # The command the line named, if parsing got that far (a refused `login` is counted).
    command: str = field(default="", compare=False)

    def line(self) -> str:
        return error_line(self.code, self.detail)


def error_line(code: ErrorCode, detail: str) -> str:
    return f"error {code} {detail}"


def ok_line(command: str, *parts: str) -> str:
    return " ".join(("ok", command, *parts))


def event_line(kind: str, *parts: str) -> str:
    """``msg``/``msgall``/``join``/``leave``/``users`` lines; the last part may hold spaces."""
    return " ".join((kind, *parts))


def online_line(count: int) -> str:
    """``online <n>``: more users are online than the presence limit, so the node sends
    a count instead of names, and no `join`/`leave` (docs/protocol.md, "Presence")."""
    return event_line("online", str(count))


def userlist_reply(names: list[str], more: int) -> str:
    """``ok userlist <names>``, and ``+<n>`` when ``n`` more follow (page with
    ``userlist <last name>``); a name never starts with ``+``."""
    return ok_line("userlist", *names, *([f"+{more}"] if more else []))


def news_for_newcomer(line: str, online_at_login: frozenset[str],
                      counted: bool = False) -> str | None:
    """An event held while logging in, minus what the `users` line already said:
    a `join` of someone listed, a `leave` of someone not listed (folded names). A
    newcomer told a count (``counted``) had `online <n>` in its reply already."""
    kind, _, rest = line.partition(" ")
    if kind == "online" and counted:
        return None
    if kind not in ("join", "leave"):
        return line
    names = [n for n in rest.split(" ") if (fold_name(n) in online_at_login) == (kind == "leave")]
    return event_line(kind, *names) if names else None


def _has_control_characters(line: str) -> bool:
    return any(unicodedata.category(char) == "Cc" and char != "\t" for char in line)


def parse_line(line: str) -> Command | Rejected | None:
    """Parse one line (without its line ending). None for a blank line, which is ignored."""
    if not line.strip(_BLANK):
        return None
    if _has_control_characters(line):
        return Rejected(ErrorCode.BAD_TEXT, "control characters are not allowed")
    word, rest = _split_word(line)
    spec = COMMANDS.get(word.lower())
    if spec is None:
        known = " ".join(COMMANDS)
        return Rejected(ErrorCode.UNKNOWN_COMMAND, f"unknown command {word!r}; try: {known}")
    return _PARSERS[spec.args](spec, rest)


_BLANK = " \t"


def _split_word(text: str) -> tuple[str, str]:
    """The first word and what follows its one separating space or tab."""
    text = text.lstrip(_BLANK)
    for index, char in enumerate(text):
        if char in _BLANK:
            return text[:index], text[index + 1:]
    return text, ""


def _usage(spec: CommandSpec) -> Rejected:
    return Rejected(ErrorCode.USAGE, f"expected: {spec.usage}", spec.name)


def _parse_none(spec: CommandSpec, rest: str) -> Command | Rejected:
    return _usage(spec) if rest.strip(_BLANK) else Command(spec)


def _checked_name(spec: CommandSpec, name: str, text: str = "") -> Command | Rejected:
    problem = name_problem(name)
    if problem is not None:
        return Rejected(ErrorCode.BAD_NAME, f"bad name {name!r}: {problem}", spec.name)
    return Command(spec, name=name, text=text)


def _parse_name(spec: CommandSpec, rest: str) -> Command | Rejected:
    name, extra = _split_word(rest)
    if not name or extra.strip(_BLANK):
        return _usage(spec)
    return _checked_name(spec, name)


def _parse_name_text(spec: CommandSpec, rest: str) -> Command | Rejected:
    name, text = _split_word(rest)
    text = text.lstrip(_BLANK)
    if not name or not text.strip(_BLANK):
        return _usage(spec)
    return _checked_name(spec, name, text)


def _parse_text(spec: CommandSpec, rest: str) -> Command | Rejected:
    text = rest.lstrip(_BLANK)
    return Command(spec, text=text) if text.strip(_BLANK) else _usage(spec)


def _parse_optional_name(spec: CommandSpec, rest: str) -> Command | Rejected:
    return _parse_none(spec, rest) if not rest.strip(_BLANK) else _parse_name(spec, rest)


_PARSERS = {
    Args.NONE: _parse_none,
    Args.NAME: _parse_name,
    Args.OPTIONAL_NAME: _parse_optional_name,
    Args.NAME_TEXT: _parse_name_text,
    Args.TEXT: _parse_text,
}
