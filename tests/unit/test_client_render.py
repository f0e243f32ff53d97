"""The console client's pure parts: rendering lines for people, reading what they type."""

import pytest

from client.commands import HELP, Quit, Send, ShowHelp, interpret
from client.render import Conversation, Shown, Style, bye_reason, render_event, render_reply


@pytest.mark.parametrize(("line", "shown"), [
    ("msgall alice hi  there ", Shown("[alice] hi  there ", Style.BROADCAST)),
    ("msg bob psst", Shown("[bob → you] psst", Style.DIRECT)),
    ("join carol", Shown("* carol joined", Style.SYSTEM)),
    ("join a b c", Shown("* a, b, c joined", Style.SYSTEM)),
    ("leave dave", Shown("* dave left", Style.SYSTEM)),
    ("users a b", Shown("* online: a, b", Style.SYSTEM)),
    ("mystery line", None),
])
def test_events_render_for_people(line: str, shown: Shown | None) -> None:
    assert render_event(line) == shown


TOO_MANY = "(too many to list; /userlist to page through them)"


@pytest.mark.parametrize(("line", "text"), [
    # Past --presence-limit the node sends a count instead of names.
    ("online 3", f"* 3 users online {TOO_MANY}"),
    ("online 1234", f"* 1,234 users online {TOO_MANY}"),
    ("online 1000001", f"* 1,000,001 users online {TOO_MANY}"),
    ("online 1", f"* 1 user online {TOO_MANY}"),
])
def test_a_count_of_users_online_renders_for_people(line: str, text: str) -> None:
    assert render_event(line) == Shown(text, Style.SYSTEM)
    assert Conversation().received(line) == Shown(text, Style.SYSTEM)  # an event


def test_a_count_is_shown_once_until_names_come_back() -> None:
    # Past the limit the node sends `online <n>` again every heartbeat while the number
    # changes, and the user whose login crossed the limit can get the same count twice:
    # in a log, one line says it; `userlist` pages through the names.
    talk = Conversation()
    assert talk.received("online 3") == Shown(f"* 3 users online {TOO_MANY}", Style.SYSTEM)
    assert talk.received("online 3") is None
    assert talk.received("online 4") is None
    assert talk.received("users a b") == Shown("* online: a, b", Style.SYSTEM)
    assert talk.received("online 5") == Shown(f"* 5 users online {TOO_MANY}", Style.SYSTEM)
    assert talk.received("online many") is None  # not a count: shows nothing, changes nothing
    assert talk.received("users a") == Shown("* online: a", Style.SYSTEM)
    assert talk.received("online many") is None
    assert talk.received("online 3") == Shown(f"* 3 users online {TOO_MANY}", Style.SYSTEM)


@pytest.mark.parametrize("line", ["online", "online many", "online -3", "online 3 4"])
def test_a_count_that_is_not_one_number_is_a_line_we_do_not_know(line: str) -> None:
    assert render_event(line) is None


@pytest.mark.parametrize(("command", "reply", "text"), [
    ("userlist", "ok userlist a b", "* online: a, b"),
    # A page: the names, how many more, and the command for the next page.
    ("userlist", "ok userlist a b c +1234",
     "* online: a, b, c … and 1,234 more (/userlist c for the next page)"),
    ("userlist", "ok userlist solo +1", "* online: solo … and 1 more (/userlist solo for "
                                        "the next page)"),
    # The next pages say where they start.
    ("userlist c", "ok userlist d e +7",
     "* online after c: d, e … and 7 more (/userlist e for the next page)"),
    ("userlist e", "ok userlist f g", "* online after e: f, g"),
    # Everyone after `zed` left between two pages.
    ("userlist zed", "ok userlist", "* online after zed: nobody"),
    # A name that merely contains '+' is a name (a name never starts with one).
    ("userlist", "ok userlist a+b", "* online: a+b"),
])
def test_userlist_pages_render_for_people(command: str, reply: str, text: str) -> None:
    assert render_reply(reply, command) == Shown(text, Style.SYSTEM)
    talk = Conversation()
    talk.sent(command)
    assert talk.received(reply) == Shown(text, Style.SYSTEM)


@pytest.mark.parametrize(("line", "text"), [
    ("bye slow", "! disconnected by the server: this client did not read its messages "
                 "fast enough"),
    ("bye name_taken", "! disconnected by the server: someone else is now logged in with "
                       "your name"),
    ("bye shutdown", "! disconnected by the server: the server is shutting down"),
    ("bye idle", "! disconnected by the server: you took too long to log in (or to finish "
                 "a line)"),
    ("bye server_full", "! disconnected by the server: the server is full; try again later"),
    # A reason added to the server later, and a bye without one.
    ("bye maintenance", "! disconnected by the server (reason: maintenance)"),
    ("bye", "! disconnected by the server"),
])
def test_bye_renders_for_people_as_an_error(line: str, text: str) -> None:
    assert render_event(line) == Shown(text, Style.ERROR)
    assert Conversation().received(line) == Shown(text, Style.ERROR)  # an event, not a reply


@pytest.mark.parametrize(("line", "reason"), [
    ("bye shutdown", "shutdown"),
    ("bye name_taken", "name_taken"),
    ("bye", ""),
    ("byebye", None),
    ("msgall alice bye all", None),
    ("msg bob bye", None),
])
def test_bye_reason(line: str, reason: str | None) -> None:
    assert bye_reason(line) == reason


def test_replies_pair_with_the_commands_that_caused_them() -> None:
    talk = Conversation()
    for command in ("login alice", "msg bob  hi   bob", "msgall x", "userlist", "whoami",
                    "msg nobody x", "debug", "logout"):
        talk.sent(command)
    assert talk.waiting == 8
    assert talk.received("ok login alice") == Shown("* logged in as alice", Style.SYSTEM)
    assert talk.me == "alice"
    assert talk.received("users alice bob") == Shown("* online: alice, bob", Style.SYSTEM)
    assert talk.waiting == 7  # events do not consume a pending command
    assert talk.received("ok msg bob") == Shown("[you → bob] hi   bob", Style.DIRECT)
    assert talk.received("ok msgall") is None  # the echo shows the message instead
    assert talk.received("ok userlist alice bob") == Shown("* online: alice, bob", Style.SYSTEM)
    assert talk.received("ok whoami alice") == Shown("* you are alice", Style.SYSTEM)
    assert talk.received("error no_such_user nobody called nobody is online") == Shown(
        "! nobody called nobody is online", Style.ERROR)
    assert talk.received("ok debug").style is Style.SYSTEM
    assert talk.received("ok logout") == Shown("* logged out", Style.SYSTEM)
    assert talk.me is None
    assert talk.waiting == 0


def test_a_refused_login_leaves_us_anonymous() -> None:
    talk = Conversation()
    talk.sent("login taken")
    assert talk.received("error name_taken the name taken is taken; pick another").style \
        is Style.ERROR
    assert talk.me is None
    assert talk.login_refused


@pytest.mark.parametrize(("exchange", "refused"), [
    ([("login alice", "ok login alice")], False),
    ([("msg bob hi", "error not_logged_in log in first: login <name>")], False),
    ([("login no@way", "error bad_name bad name 'no@way': '@' is not allowed")], True),
    ([("login", "error usage expected: login <name>")], True),
    # Once refused, a later login that works does not make the script a success.
    ([("login taken", "error name_taken the name taken is taken; pick another"),
      ("login other", "ok login other")], True),
])
def test_the_conversation_remembers_a_refused_login(exchange: list[tuple[str, str]],
                                                    refused: bool) -> None:
    talk = Conversation()
    for command, _ in exchange:
        talk.sent(command)
    for _, reply in exchange:
        talk.received(reply)
    assert talk.login_refused is refused


@pytest.mark.parametrize(("typed", "action"), [
    ("hello world", Send("msgall hello world")),
    ("  spaced  out  ", Send("msgall   spaced  out  ")),
    ("msg bob hi", Send("msg bob hi")),
    ("/msg bob hi  there", Send("msg bob hi  there")),
    ("MSGALL loud", Send("msgall loud")),
    ("userlist", Send("userlist")),
    ("/userlist", Send("userlist")),
    ("userlist carol", Send("userlist carol")),  # the page after carol
    ("/userlist carol", Send("userlist carol")),
    ("login alice", Send("login alice")),
    ("logout", Send("logout")),
    ("/quit", Quit()),
    ("/exit", Quit()),
    ("/help", ShowHelp()),
    ("help", ShowHelp()),
    ("help me with this", Send("msgall help me with this")),
    ("/dance", ShowHelp("unknown command /dance; type /help")),
    ("", None),
    ("   ", None),
])
def test_typed_lines(typed: str, action: object) -> None:
    assert interpret(typed) == action


def test_help_lists_every_command() -> None:
    for command in ("login", "msg", "msgall", "userlist", "whoami", "logout", "/help"):
        assert command in HELP
