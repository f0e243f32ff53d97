"""protocol.py: one client line -> a Command, a Rejected, or None (blank)."""

import pytest

from node.protocol import (
    COMMANDS,
    Command,
    ErrorCode,
    Rejected,
    error_line,
    event_line,
    news_for_newcomer,
    ok_line,
    parse_line,
)

KNOWN = "login msg msgall logout whoami userlist debug"


@pytest.mark.parametrize("line", ["", " ", "\t", "  \t  ", " \t \t"])
def test_blank_lines_are_ignored(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize("line, command, name, text", [
    pytest.param("login alice", "login", "alice", "", id="login"),
    pytest.param("login   alice  ", "login", "alice", "", id="login-extra-spaces"),
    pytest.param("  login alice", "login", "alice", "", id="leading-spaces"),
    pytest.param("LOGIN Alice", "login", "Alice", "", id="upper-command-keeps-name-case"),
    pytest.param("login Борис", "login", "Борис", "", id="login-cyrillic"),
    pytest.param("login नमस्ते", "login", "नमस्ते", "", id="login-devanagari"),
    pytest.param("msg bob hi", "msg", "bob", "hi", id="msg"),
    pytest.param("msg bob hello   there ", "msg", "bob", "hello   there ", id="msg-inner-spaces"),
    pytest.param("msg   bob    hi  you", "msg", "bob", "hi  you", id="msg-separators-dropped"),
    pytest.param("msg bob a\tb", "msg", "bob", "a\tb", id="msg-tab-allowed"),
    # Spaces and tabs between words separate them; the text starts at its first
    # non-blank character and keeps everything from there on.
    pytest.param("msg bob \thi", "msg", "bob", "hi", id="msg-leading-tab-separates"),
    pytest.param("msg\tbob\thi \t there\t", "msg", "bob", "hi \t there\t",
                 id="msg-tab-separated"),
    pytest.param("\twhoami\t", "whoami", "", "", id="whoami-tabs"),
    pytest.param("login\tbob", "login", "bob", "", id="login-tab"),
    pytest.param("msg bob héllo 世界", "msg", "bob", "héllo 世界", id="msg-unicode"),
    pytest.param("MsG bob hi", "msg", "bob", "hi", id="msg-mixed-case"),
    pytest.param("msgall hi all", "msgall", "", "hi all", id="msgall"),
    pytest.param("msgall   hi   all  ", "msgall", "", "hi   all  ", id="msgall-inner-spaces"),
    pytest.param("MSGALL x", "msgall", "", "x", id="msgall-upper"),
    pytest.param("logout", "logout", "", "", id="logout"),
    pytest.param("whoami", "whoami", "", "", id="whoami"),
    pytest.param("whoami   ", "whoami", "", "", id="whoami-trailing-spaces"),
    pytest.param("USERLIST", "userlist", "", "", id="userlist-upper"),
    pytest.param("debug", "debug", "", "", id="debug"),
])
def test_accepted_lines(line: str, command: str, name: str, text: str) -> None:
    assert parse_line(line) == Command(COMMANDS[command], name=name, text=text)


@pytest.mark.parametrize("line, expected", [
    pytest.param("login", "error usage expected: login <name>", id="login-no-name"),
    pytest.param("login   ", "error usage expected: login <name>", id="login-blank-name"),
    pytest.param("login two words", "error usage expected: login <name>", id="login-two-words"),
    pytest.param("msg", "error usage expected: msg <name> <text>", id="msg-bare"),
    pytest.param("msg bob", "error usage expected: msg <name> <text>", id="msg-no-text"),
    pytest.param("msg bob    ", "error usage expected: msg <name> <text>", id="msg-space-text"),
    pytest.param("msg bob \t \t", "error usage expected: msg <name> <text>", id="msg-tab-text"),
    pytest.param("msgall", "error usage expected: msgall <text>", id="msgall-bare"),
    pytest.param("msgall    ", "error usage expected: msgall <text>", id="msgall-spaces"),
    pytest.param("msgall \t", "error usage expected: msgall <text>", id="msgall-tab"),
    pytest.param("logout now", "error usage expected: logout", id="logout-arg"),
    pytest.param("whoami x", "error usage expected: whoami", id="whoami-arg"),
    pytest.param("userlist a b", "error usage expected: userlist [<after>]",
                 id="userlist-two-args"),
    pytest.param("userlist b@d", "error bad_name bad name 'b@d': '@' is not allowed; use "
                 "letters, digits, '_', '-' and '.'", id="userlist-page-bad-name"),
    pytest.param("DEBUG 1", "error usage expected: debug", id="debug-arg"),
    pytest.param("dance", f"error unknown_command unknown command 'dance'; try: {KNOWN}",
                 id="unknown"),
    pytest.param("msgs bob hi", f"error unknown_command unknown command 'msgs'; try: {KNOWN}",
                 id="near-miss"),
    pytest.param("/login bob", f"error unknown_command unknown command '/login'; try: {KNOWN}",
                 id="irc-style-slash"),
    pytest.param("login b@d",
                 "error bad_name bad name 'b@d': '@' is not allowed; use letters, digits,"
                 " '_', '-' and '.'", id="login-bad-char"),
    pytest.param("login " + "x" * 33,
                 f"error bad_name bad name '{'x' * 33}': a name has at most 32 characters",
                 id="login-33-chars"),
    pytest.param("msg b@d hi",
                 "error bad_name bad name 'b@d': '@' is not allowed; use letters, digits,"
                 " '_', '-' and '.'", id="msg-bad-target"),
    pytest.param("msgall bell\x07", "error bad_text control characters are not allowed",
                 id="bell"),
])
def test_rejected_lines(line: str, expected: str) -> None:
    rejected = parse_line(line)
    assert isinstance(rejected, Rejected)
    assert rejected.line() == expected


@pytest.mark.parametrize("line", [
    pytest.param("msg bob a\x00b", id="nul"),
    pytest.param("msg bob \x1b[31mred", id="escape"),
    pytest.param("msg bob del\x7f", id="delete"),
    pytest.param("msgall a\rb", id="carriage-return"),
    pytest.param("msgall a\x85b", id="c1-next-line"),
    pytest.param("login al\x00ice", id="in-login"),
    pytest.param("dance\x00", id="in-unknown-command"),
])
def test_control_characters_are_bad_text(line: str) -> None:
    assert parse_line(line) == Rejected(ErrorCode.BAD_TEXT, "control characters are not allowed")


@pytest.mark.parametrize("line, code", [
    # Syntax problems are reported as such, whatever else is wrong with the line.
    pytest.param("msg bob", ErrorCode.USAGE, id="usage"),
    pytest.param("login b@d", ErrorCode.BAD_NAME, id="bad-name"),
    pytest.param("msg b@d", ErrorCode.USAGE, id="usage-before-bad-name"),
    pytest.param("login " + "😀" * 40, ErrorCode.BAD_NAME, id="emoji-name"),
])
def test_error_codes(line: str, code: ErrorCode) -> None:
    rejected = parse_line(line)
    assert isinstance(rejected, Rejected) and rejected.code == code


@pytest.mark.parametrize("name, args, needs_login, usage", [
    ("login", "name", False, "login <name>"),
    ("msg", "name_text", True, "msg <name> <text>"),
    ("msgall", "text", True, "msgall <text>"),
    ("logout", "none", True, "logout"),
    ("whoami", "none", True, "whoami"),
    ("userlist", "optional_name", True, "userlist [<after>]"),
    ("debug", "none", True, "debug"),
])
def test_command_table(name: str, args: str, needs_login: bool, usage: str) -> None:
    spec = COMMANDS[name]
    assert (spec.name, spec.args.value, spec.needs_login, spec.usage) == (
        name, args, needs_login, usage)


def test_command_table_has_exactly_the_protocol_commands() -> None:
    assert " ".join(COMMANDS) == KNOWN


@pytest.mark.parametrize("code", list(ErrorCode))
def test_error_codes_are_one_lowercase_word(code: ErrorCode) -> None:
    assert code.value == code.name.lower()
    assert " " not in code.value


@pytest.mark.parametrize("made, expected", [
    pytest.param(ok_line("logout"), "ok logout", id="ok-bare"),
    pytest.param(ok_line("login", "alice"), "ok login alice", id="ok-part"),
    pytest.param(ok_line("userlist", "a", "b"), "ok userlist a b", id="ok-parts"),
    pytest.param(error_line(ErrorCode.NAME_TAKEN, "taken"), "error name_taken taken", id="error"),
    pytest.param(event_line("msg", "alice", "hi  there "), "msg alice hi  there ", id="event"),
    pytest.param(event_line("users"), "users", id="event-bare"),
])
def test_line_formatting(made: str, expected: str) -> None:
    assert made == expected


@pytest.mark.parametrize("line, expected", [
    ("join bob", None),                       # listed in `users` already
    ("join bob zoe", "join zoe"),
    ("join Zoe", "join Zoe"),
    ("join BOB", None),                       # names compare case-insensitively
    ("leave bob", "leave bob"),               # was online at login, left since
    ("leave ghost", None),                    # had left before the login
    ("leave ghost bob", "leave bob"),
    ("msgall bob join us", "msgall bob join us"),
    ("msg bob hi", "msg bob hi"),
])
def test_news_for_newcomer(line: str, expected: str | None) -> None:
    assert news_for_newcomer(line, frozenset({"alice", "bob"})) == expected
