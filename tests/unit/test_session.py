"""session.py: every command gets exactly one reply, decided without I/O."""

from collections.abc import Callable

import pytest

from node.linebuffer import too_long
from node.protocol import ErrorCode, Rejected
from node.session import (
    Broadcast,
    ClaimName,
    ClaimOutcome,
    DumpDebug,
    ListUsers,
    LoginResult,
    Operation,
    Reply,
    SendDirect,
    Session,
)

KNOWN = "login msg msgall logout whoami userlist debug"
NOT_LOGGED_IN = "error not_logged_in log in first: login <name>"
UNAVAILABLE = "error unavailable the chat store is unreachable; try again shortly"


def logged_in(name: str = "alice") -> Session:
    session = Session()
    op = session.receive_line(f"login {name}")
    assert op == ClaimName(name)
    session.complete(op, ClaimOutcome(won=True, users=[name]))
    return session


@pytest.mark.parametrize("line, expected", [
    # Syntax is checked before login state.
    pytest.param("msg bob", "error usage expected: msg <name> <text>", id="msg-usage"),
    pytest.param("msgall", "error usage expected: msgall <text>", id="msgall-usage"),
    pytest.param("login", "error usage expected: login <name>", id="login-usage"),
    pytest.param("logout now", "error usage expected: logout", id="logout-usage"),
    pytest.param("whoami x", "error usage expected: whoami", id="whoami-usage"),
    pytest.param("dance", f"error unknown_command unknown command 'dance'; try: {KNOWN}",
                 id="unknown"),
    pytest.param("login b@d", "error bad_name bad name 'b@d': '@' is not allowed; use"
                 " letters, digits, '_', '-' and '.'", id="bad-name"),
    pytest.param("msg b@d hi", "error bad_name bad name 'b@d': '@' is not allowed; use"
                 " letters, digits, '_', '-' and '.'", id="msg-bad-name"),
    pytest.param("msgall \x1b[2J", "error bad_text control characters are not allowed",
                 id="bad-text"),
    # Well-formed, but needs a login.
    pytest.param("msg bob hi", NOT_LOGGED_IN, id="msg"),
    pytest.param("msgall hi", NOT_LOGGED_IN, id="msgall"),
    pytest.param("logout", NOT_LOGGED_IN, id="logout"),
    pytest.param("whoami", NOT_LOGGED_IN, id="whoami"),
    pytest.param("userlist", NOT_LOGGED_IN, id="userlist"),
    pytest.param("debug", NOT_LOGGED_IN, id="debug"),
    pytest.param("WHOAMI", NOT_LOGGED_IN, id="upper-case"),
])
def test_replies_before_login(line: str, expected: str) -> None:
    session = Session()
    assert session.receive_line(line) == Reply([expected])
    assert session.name is None and not session.closed


@pytest.mark.parametrize("line", ["", "   ", "\t", " \t "])
def test_blank_lines_get_no_reply(line: str) -> None:
    assert Session().receive_line(line) is None
    assert logged_in().receive_line(line) is None


@pytest.mark.parametrize("line, expected", [
    pytest.param("login alice", ClaimName("alice"), id="login"),
    pytest.param("LOGIN Alice", ClaimName("Alice"), id="login-upper"),
    pytest.param("login Борис", ClaimName("Борис"), id="login-cyrillic"),
])
def test_login_asks_the_cluster_to_claim_the_name(line: str, expected: ClaimName) -> None:
    session = Session()
    assert session.receive_line(line) == expected
    assert session.name is None  # not until the claim is won


@pytest.mark.parametrize("users, expected_users_line", [
    pytest.param(["Alice"], "users Alice", id="alone"),
    pytest.param(["zoe", "Alice", "bob"], "users Alice bob zoe", id="sorted-case-insensitively"),
    pytest.param(["Émile", "Alice", "émile"], "users Alice Émile émile", id="ties-by-exact-text"),
])
def test_won_claim_logs_in(users: list[str], expected_users_line: str) -> None:
    session = Session()
    op = session.receive_line("login Alice")
    assert isinstance(op, ClaimName)
    reply = session.complete(op, ClaimOutcome(won=True, users=users))
    assert reply == Reply(["ok login Alice", expected_users_line])
    assert session.name == "Alice"


def test_lost_claim_leaves_the_session_logged_out() -> None:
    session = Session()
    op = session.receive_line("login alice")
    assert isinstance(op, ClaimName)
    reply = session.complete(op, ClaimOutcome(won=False))
    assert reply == Reply(["error name_taken the name alice is taken; pick another"])
    assert session.name is None
    assert session.receive_line("whoami") == Reply([NOT_LOGGED_IN])
    assert session.receive_line("login alice2") == ClaimName("alice2")


@pytest.mark.parametrize("line, expected", [
    pytest.param("msg bob hi", SendDirect("alice", "bob", "hi"), id="msg"),
    pytest.param("msg bob hello   there ", SendDirect("alice", "bob", "hello   there "),
                 id="msg-keeps-inner-spaces"),
    pytest.param("msg  Bob \thi", SendDirect("alice", "Bob", "hi"), id="msg-tab"),
    pytest.param("msgall hi all", Broadcast("alice", "hi all"), id="msgall"),
    pytest.param("msgall   hi   all ", Broadcast("alice", "hi   all "), id="msgall-spaces"),
    pytest.param("userlist", ListUsers(), id="userlist"),
    pytest.param("userlist bob", ListUsers("bob"), id="userlist-page-after"),
    pytest.param("debug", DumpDebug("alice"), id="debug"),
    pytest.param("whoami", Reply(["ok whoami alice"]), id="whoami"),
    pytest.param("WhoAmI", Reply(["ok whoami alice"]), id="whoami-mixed-case"),
    pytest.param("login carol",
                 Reply(["error already_logged_in you are already logged in as alice"]),
                 id="second-login"),
    pytest.param("login alice",
                 Reply(["error already_logged_in you are already logged in as alice"]),
                 id="same-login-again"),
    pytest.param("login b@d", Reply(["error bad_name bad name 'b@d': '@' is not allowed; use"
                                     " letters, digits, '_', '-' and '.'"]),
                 id="bad-name-before-already-logged-in"),
    pytest.param("msg bob", Reply(["error usage expected: msg <name> <text>"]), id="usage"),
])
def test_commands_when_logged_in(line: str, expected: Reply | Operation) -> None:
    assert logged_in().receive_line(line) == expected


@pytest.mark.parametrize("op, outcome, expected", [
    pytest.param(SendDirect("alice", "bob", "hi"), None,
                 ["error no_such_user nobody called bob is online"], id="msg-nobody"),
    pytest.param(SendDirect("alice", "bob", "hi"), "Bob", ["ok msg Bob"], id="msg-delivered"),
    pytest.param(SendDirect("alice", "борис", "hi"), "Борис", ["ok msg Борис"],
                 id="msg-display-name"),
    pytest.param(Broadcast("alice", "hi"), None, ["ok msgall"], id="msgall"),
    pytest.param(ListUsers(), ["carol", "Alice", "bob"], ["ok userlist Alice bob carol"],
                 id="userlist-sorted"),
    pytest.param(ListUsers(), ["alice"], ["ok userlist alice"], id="userlist-alone"),
    pytest.param(ListUsers("Alice"), ["carol", "Alice", "bob"], ["ok userlist bob carol"],
                 id="userlist-after"),
    pytest.param(ListUsers("bob"), ["carol", "Alice", "bob"], ["ok userlist carol"],
                 id="userlist-after-is-case-insensitive"),
    pytest.param(ListUsers("zed"), ["carol", "Alice", "bob"], ["ok userlist"],
                 id="userlist-past-the-end"),
    pytest.param(DumpDebug("alice"), None, ["ok debug"], id="debug"),
])
def test_completed_operations(op: Operation, outcome: object, expected: list[str]) -> None:
    assert logged_in().complete(op, outcome) == Reply(expected)


def test_logout_replies_and_closes() -> None:
    session = logged_in()
    assert session.receive_line("logout") == Reply(["ok logout"], close=True)
    assert session.closed


@pytest.mark.parametrize("op", [
    ClaimName("alice"), SendDirect("alice", "bob", "hi"), Broadcast("alice", "hi"),
    ListUsers(), DumpDebug("alice"),
])
def test_unreachable_store_gives_unavailable(op: Operation) -> None:
    assert Session().fail(op) == Reply([UNAVAILABLE])


def test_failed_claim_leaves_the_session_logged_out() -> None:
    session = Session()
    op = session.receive_line("login alice")
    assert isinstance(op, ClaimName)
    session.fail(op)
    assert session.name is None
    assert session.receive_line("login alice") == ClaimName("alice")


@pytest.mark.parametrize("rejected, expected", [
    pytest.param(too_long(4096), "error line_too_long lines are limited to 4096 bytes",
                 id="too-long"),
    pytest.param(Rejected(ErrorCode.BAD_ENCODING, "lines must be UTF-8"),
                 "error bad_encoding lines must be UTF-8", id="bad-encoding"),
    pytest.param(Rejected(ErrorCode.BAD_FRAME, "send one line per frame"),
                 "error bad_frame send one line per frame", id="bad-frame"),
])
@pytest.mark.parametrize("session_of", [Session, logged_in], ids=["anonymous", "logged-in"])
def test_transport_rejections_become_their_error_line(
        rejected: Rejected, expected: str, session_of: Callable[[], Session]) -> None:
    assert session_of().receive_line(rejected) == Reply([expected])


CORPUS = [
    "login bob", "login b@d", "login", "msg bob hi", "msg bob", "msgall hi", "msgall",
    "whoami", "whoami x", "userlist", "debug", "dance", "msg bob \x00", "logout",
]
OUTCOMES = {
    ClaimName: ClaimOutcome(won=True, users=["alice", "bob"]),
    SendDirect: "bob",
    Broadcast: None,
    ListUsers: ["alice"],
    DumpDebug: None,
}


@pytest.mark.parametrize("session_of", [Session, logged_in], ids=["anonymous", "logged-in"])
@pytest.mark.parametrize("line", CORPUS)
def test_exactly_one_reply_per_command(session_of: Callable[[], Session], line: str) -> None:
    session = session_of()
    result = session.receive_line(line)
    replies = [result] if isinstance(result, Reply) else [
        session.complete(result, OUTCOMES[type(result)]), session.fail(result)]
    for reply in replies:
        first, *events = reply.lines
        assert first.startswith(("ok ", "error "))
        # Only a won login carries a second line, the `users` event that follows it.
        assert events == [] or (first.startswith("ok login ") and len(events) == 1
                                and events[0].startswith("users "))


def test_userlist_pages_and_says_how_many_more() -> None:
    session = Session(userlist_page=2)
    session.name = "alice"
    names = ["d", "a", "C", "b", "e"]
    assert session.complete(ListUsers(), names) == Reply(["ok userlist a b +3"])
    assert session.complete(ListUsers("b"), names) == Reply(["ok userlist C d +1"])
    assert session.complete(ListUsers("d"), names) == Reply(["ok userlist e"])


def test_login_above_the_presence_limit_gets_a_count() -> None:
    session = Session()
    reply = session.complete(ClaimName("zoe"), ClaimOutcome(won=True, online=5000))
    assert reply == Reply(["ok login zoe", "online 5000"])


def _login_result(session: Session, line: str, outcome: ClaimOutcome | None = None
                  ) -> LoginResult | None:
    result = session.receive_line(line)
    if isinstance(result, ClaimName):
        result = session.fail(result) if outcome is None else session.complete(result, outcome)
    assert isinstance(result, Reply)
    return result.login


def test_the_reply_that_ends_a_login_attempt_says_how_for_the_metrics() -> None:
    won, lost = ClaimOutcome(won=True, users=["a"]), ClaimOutcome(won=False, holder="a")
    assert _login_result(Session(), "login a", won) is LoginResult.OK
    assert _login_result(Session(), "login a", lost) is LoginResult.NAME_TAKEN
    assert _login_result(Session(), "login a") is LoginResult.UNAVAILABLE
    assert _login_result(Session(), "login b@d") is LoginResult.INVALID
    assert _login_result(Session(), "LOGIN") is LoginResult.INVALID
    # Not login attempts: other refused lines, other commands' failures.
    assert _login_result(Session(), "msg b@d hi") is None
    assert _login_result(Session(), "dance") is None
    assert _login_result(logged_in(), "whoami") is None
    assert Session().fail(Broadcast("a", "hi")).login is None
