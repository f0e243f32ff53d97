"""The browser page in real headless Chromium (Playwright), against real node
processes and a real Redis: what a person sees and does."""

import time
import uuid
from collections.abc import Callable, Iterator
from itertools import pairwise

import pytest

from devcluster.redis_server import RedisServer
from tests.support.browser import (
    CHROMIUM_FLAGS,
    HoldingLink,
    LineSocket,
    NodeProc,
    chromium_path,
    two_node_procs,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect
expect.set_options(timeout=10_000)

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="LOUD SKIP: no chromium on PATH; `python3 dev.py test` installs Debian's chromium")

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def cluster(redis_server: RedisServer) -> Iterator[list[NodeProc]]:
    with two_node_procs(redis_server.url, f"b{uuid.uuid4().hex[:10]}", "web") as nodes:
        yield nodes


@pytest.fixture
def start_node(redis_server: RedisServer) -> Iterator[Callable[..., NodeProc]]:
    """Starts nodes with extra flags (one key prefix per test); stops them afterwards."""
    prefix = f"b{uuid.uuid4().hex[:10]}"
    started: list[NodeProc] = []

    def start(node_id: str, *extra: str, redis_url: str = redis_server.url) -> NodeProc:
        started.append(NodeProc(redis_url, prefix, node_id, extra=extra))
        return started[-1].start()

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def pages(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1000, "height": 650})
    context.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    opened = []

    def open_page(url: str, on_websocket: Callable[[object], None] | None = None):  # type: ignore[no-untyped-def]
        """A new page at ``url``; ``on_websocket`` sees every WebSocket it opens, from
        the start."""
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        if on_websocket is not None:
            page.on("websocket", on_websocket)
        page.goto(url)
        opened.append(page)
        return page

    yield open_page, dialogs
    context.close()


def login(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Join the chat").click()
    expect(page.locator("#me")).to_have_text(name)


def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def online(page):  # type: ignore[no-untyped-def]
    return page.locator("#online button")


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def clip(box: dict[str, float], to: dict[str, float]) -> dict[str, float] | None:
    """The part of ``box`` inside ``to`` (what a scrolling box shows of a child), or None."""
    left, top = max(box["x"], to["x"]), max(box["y"], to["y"])
    right = min(box["x"] + box["width"], to["x"] + to["width"])
    bottom = min(box["y"] + box["height"], to["y"] + to["height"])
    if right <= left or bottom <= top:
        return None
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def test_two_browsers_on_two_nodes_chat(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    alice, bob = open_page(cluster[0].url), open_page(cluster[1].url)
    login(alice, "alice")
    login(bob, "bob")
    expect(online(alice)).to_have_text(["alice", "bob"])
    expect(online(bob)).to_have_text(["alice", "bob"])
    expect(alice.locator("#messages")).to_contain_text("bob joined")

    alice.get_by_role("button", name="bob").click()  # start a direct message
    expect(alice.locator("#target")).to_have_text("to bob ✕")
    send(alice, "just between us")
    dm = bob.locator("#messages li.dm.incoming")
    expect(dm).to_have_text("alice → youjust between us")
    expect(alice.locator("#messages li.dm.outgoing")).to_have_text("you → bobjust between us")

    alice.locator("#target").click()  # back to everyone
    send(alice, "hello   everyone")
    for page in (alice, bob):
        expect(page.locator("#messages li.broadcast").last).to_have_text("alicehello   everyone")
    # A broadcast looks different from a DM.
    broadcast_bg = bob.locator("#messages li.broadcast").last.evaluate(
        "e => getComputedStyle(e).backgroundColor")
    dm_bg = dm.evaluate("e => getComputedStyle(e).backgroundColor")
    assert broadcast_bg != dm_bg

    bob.get_by_role("button", name="Log out").click()
    expect(bob.get_by_label("Name")).to_be_visible()
    expect(alice.locator("#messages")).to_contain_text("bob left")
    expect(online(alice)).to_have_text(["alice"])


def test_terminal_and_browser_users_talk_both_ways(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    page = open_page(cluster[0].url)
    login(page, "webby")
    term = LineSocket(cluster[1].tcp_port)
    try:
        term.send("login termy")
        term.expect("ok login termy")
        expect(online(page)).to_have_text(["termy", "webby"])
        term.send("msg webby hello from a terminal")
        expect(page.locator("#messages li.dm.incoming")).to_have_text(
            "termy → youhello from a terminal")
        term.send("msgall and to all")
        expect(page.locator("#messages li.broadcast")).to_have_text("termyand to all")
        page.get_by_role("button", name="termy").click()
        send(page, "hi terminal")
        term.expect("msg webby hi terminal")
        page.locator("#target").click()
        send(page, "hi all from the web")
        term.expect("msgall webby hi all from the web")
    finally:
        term.close()
    expect(page.locator("#messages")).to_contain_text("termy left")


def test_name_errors_show_inline(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    first, second = open_page(cluster[0].url), open_page(cluster[1].url)
    login(first, "Taken")
    second.get_by_label("Name").fill("taken")
    second.get_by_role("button", name="Join the chat").click()
    expect(second.get_by_role("alert")).to_have_text(
        "the name taken is taken; pick another")
    second.get_by_label("Name").fill("no@good")
    second.get_by_role("button", name="Join the chat").click()
    expect(second.get_by_role("alert")).to_contain_text("bad name 'no@good'")
    second.get_by_label("Name").fill("two words")
    second.get_by_role("button", name="Join the chat").click()
    expect(second.get_by_role("alert")).to_contain_text("one word")
    login(second, "fine")


def test_html_from_peers_is_shown_as_text(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, dialogs = pages
    victim = open_page(cluster[0].url)
    login(victim, "victim")
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script><b>bold</b>"
    term = LineSocket(cluster[1].tcp_port)
    try:
        term.send("login mallory")
        term.expect("ok login mallory")
        term.send(f"msgall {attack}")
        term.send(f"msg victim {attack}")
        expect(victim.locator("#messages li.broadcast .text")).to_have_text(attack)
        expect(victim.locator("#messages li.dm .text")).to_have_text(attack)
    finally:
        term.close()
    assert victim.locator("#messages img, #messages script, #messages b").count() == 0
    assert dialogs == []


def test_lost_connection_shows_and_reconnects(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    watcher = open_page(cluster[1].url)
    login(watcher, "watcher")
    page = open_page(cluster[0].url)
    login(page, "steady")
    expect(online(watcher)).to_have_text(["steady", "watcher"])

    cluster[0].stop()  # the node under the page goes away
    expect(page.locator("#status")).to_contain_text("reconnecting")
    expect(page.locator("#messages")).to_contain_text("Connection lost")
    expect(watcher.locator("#messages")).to_contain_text("steady left")

    cluster[0].start()  # back on the same ports
    expect(page.locator("#status")).to_have_text("connected", timeout=20_000)
    expect(page.locator("#messages")).to_contain_text("Reconnected as steady")
    expect(online(watcher)).to_have_text(["steady", "watcher"])
    send(page, "still here")
    expect(watcher.locator("#messages li.broadcast")).to_have_text("steadystill here")


def test_phone_layout_keyboard_and_autoscroll(cluster, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(cluster[0].url)
        # Keyboard only: the name field has focus; type and press Enter.
        expect(page.get_by_label("Name")).to_be_focused()
        page.keyboard.type("thumbs")
        page.keyboard.press("Enter")
        expect(page.locator("#me")).to_have_text("thumbs")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
        # The online list sits above the messages on a narrow screen.
        people = page.locator(".people").bounding_box()
        messages = page.locator("#messages").bounding_box()
        assert people["y"] < messages["y"]
        for number in range(40):
            send(page, f"line {number}")
        expect(page.locator("#messages li.broadcast")).to_have_count(40)
        at_bottom = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 5"
        assert page.locator("#messages").evaluate(at_bottom)
        # Scrolled up to read: a new message does not pull the view down.
        page.locator("#messages").evaluate("e => { e.scrollTop = 0; }")
        send(page, "one more")
        expect(page.locator("#messages li.broadcast")).to_have_count(41)
        assert page.locator("#messages").evaluate("e => e.scrollTop") == 0
    finally:
        context.close()


def test_phone_keeps_the_online_list_and_the_messages_apart(cluster, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    terms: list[LineSocket] = []
    try:
        page = context.new_page()
        page.goto(cluster[0].url)
        login(page, "thumbs")
        for number in range(9):
            terms.append(LineSocket(cluster[1].tcp_port))
            terms[-1].send(f"login person-{number}")
            terms[-1].expect(f"ok login person-{number}")
        expect(online(page)).to_have_count(10)
        for number in range(30):
            send(page, f"message number {number}")
        expect(page.locator("#messages li.broadcast")).to_have_count(30)

        # The people panel scrolls its list, so what a person sees of the list is the
        # part inside the panel. 60 px is two rows of names (a name button is ~31 px
        # high): a few people at a glance and a visible hint that the list scrolls,
        # while a 667 px phone keeps most of its height for the conversation.
        names = clip(page.locator("#online").bounding_box(),
                     page.locator(".people").bounding_box())
        assert names is not None and names["height"] >= 60, f"online list shows {names}"

        # A message scrolled out of view keeps a box up there, but the list clips it:
        # what is drawn of a message is its part inside the list's box.
        heading = page.locator("#online-title").bounding_box()
        listing = page.locator("#messages")
        assert listing.evaluate("e => getComputedStyle(e).overflowY") in ("auto", "scroll")
        listing_box = listing.bounding_box()
        assert not overlaps(listing_box, heading), f"messages {listing_box}, heading {heading}"
        for message in listing.locator("li").all():
            drawn = clip(message.bounding_box(), listing_box)
            assert drawn is None or not overlaps(drawn, heading), f"{drawn} over {heading}"
        # And the heading is what is on top at its own centre.
        centre = [heading["x"] + heading["width"] / 2, heading["y"] + heading["height"] / 2]
        on_top = page.evaluate(
            "([x, y]) => document.getElementById('online-title')"
            ".contains(document.elementFromPoint(x, y))", centre)
        assert on_top, "something is drawn over the online list's heading"
    finally:
        for term in terms:
            term.close()
        context.close()


def test_message_length_is_counted_in_utf8_bytes(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    page = open_page(cluster[0].url)
    login(page, "writer")
    box = page.get_by_label("Message", exact=True)
    accents = "é" * 3000  # 3,000 characters; "msgall " + 6,000 bytes = 6,007 bytes
    send(page, accents)
    expect(page.get_by_role("alert")).to_contain_text("Not sent: 1911 bytes over")
    expect(box).to_have_value(accents)

    # Mostly ASCII, so more than 4,000 characters too (UTF-16 units: 3,985 + 2 + 50).
    exact = "x" * 3985 + "é" * 2 + "😀" * 25
    assert len(f"msgall {exact}".encode()) == 4096  # the node's default line limit
    send(page, exact + "!")
    expect(page.get_by_role("alert")).to_contain_text("Not sent: 1 byte over")
    expect(box).to_have_value(exact + "!")

    term = LineSocket(cluster[1].tcp_port)
    try:
        term.send("login reader")
        term.expect("ok login reader")
        expect(online(page)).to_have_text(["reader", "writer"])
        send(page, exact)
        term.expect(f"msgall writer {exact}")
    finally:
        term.close()
    expect(page.locator("#messages li.broadcast .text")).to_have_text([exact])
    expect(box).to_have_value("")
    expect(page.get_by_role("alert")).to_have_count(0)
    # Replies come in command order, so a refused line sent earlier would have shown
    # its error before the broadcast that came after it.
    expect(page.locator("#messages li.error")).to_have_count(0)


def wait_for_websockets(page, opened: list[object], count: int) -> None:  # type: ignore[no-untyped-def]
    """Until the page has opened ``count`` WebSockets (each wait has the page's deadline)."""
    while len(opened) < count:
        page.wait_for_event("websocket")


def test_outage_shows_one_line_and_no_stale_online_list(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    watcher = open_page(cluster[1].url)
    login(watcher, "watcher")
    page = open_page(cluster[0].url)
    login(page, "steady")
    expect(online(page)).to_have_text(["steady", "watcher"])
    attempts: list[object] = []
    page.on("websocket", lambda socket: attempts.append(socket))

    cluster[0].kill()
    # The page opens a new WebSocket only once the last one has closed: at the third,
    # the connection was lost and two reconnect attempts failed.
    wait_for_websockets(page, attempts, 3)
    lost_lines = page.locator("#messages li", has_text="Connection lost")
    expect(lost_lines).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("reconnecting")
    expect(online(page)).to_have_count(0)  # nobody is shown online while we cannot know
    expect(page.locator("#online-count")).to_have_text("–")

    newcomer = LineSocket(cluster[1].tcp_port)  # the cluster changes meanwhile
    try:
        newcomer.send("login newcomer")
        newcomer.expect("ok login newcomer")
        cluster[0].start()  # back on the same ports
        expect(page.locator("#messages")).to_contain_text("Reconnected as steady",
                                                          timeout=20_000)
        expect(online(page)).to_have_text(["newcomer", "steady", "watcher"])
        expect(page.locator("#online-count")).to_have_text("3")
        expect(lost_lines).to_have_count(1)
        send(page, "back again")
        newcomer.expect("msgall steady back again")
    finally:
        newcomer.close()


def no_websocket_for(page, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Watch ``page`` for ``seconds``; fail at once if it opens a WebSocket meanwhile.

    A bounded observation window, not a sleep standing in for a condition: "nothing
    was opened" cannot be seen any sooner, and an opened socket ends the wait early."""
    try:
        socket = page.wait_for_event("websocket", timeout=seconds * 1000)
    except playwright_sync.TimeoutError:
        return
    raise AssertionError(f"the page opened a WebSocket to {socket.url}")


def wait_closed(websocket) -> None:  # type: ignore[no-untyped-def]
    if not websocket.is_closed():
        websocket.wait_for_event("close")


class SocketLog:
    """The WebSockets a page opens and every line the server sent on them."""

    def __init__(self) -> None:
        self.sockets: list[object] = []
        self.opened_at: list[float] = []  # time.monotonic() as each one opened
        self.received: list[str] = []

    def __call__(self, socket) -> None:  # type: ignore[no-untyped-def]
        self.sockets.append(socket)
        self.opened_at.append(time.monotonic())
        socket.on("framereceived", lambda payload: self.received.append(payload))


def test_login_form_holds_no_connection(start_node, pages) -> None:  # type: ignore[no-untyped-def]
    # This node closes a connection that has not logged in within 1 s with `bye idle`.
    node = start_node("web-idle", "--login-timeout", "1")
    open_page, _ = pages
    log = SocketLog()
    sockets = log.sockets
    page = open_page(node.url, log)
    status = page.locator("#status")
    # More than twice the login timeout: a socket opened at load would have been closed
    # (bye idle) and opened again by now.
    no_websocket_for(page, 2.5)
    assert sockets == []
    expect(status).to_have_text("not connected")
    expect(page.locator("body")).not_to_contain_text("did not log in in time")

    term = LineSocket(node.tcp_port)
    try:
        term.send("login holder")
        term.expect("ok login holder")
        # A refused name: the page says why and lets go of the socket it opened for it.
        page.get_by_label("Name").fill("HOLDER")
        page.get_by_role("button", name="Join the chat").click()
        expect(page.get_by_role("alert")).to_have_text("the name HOLDER is taken; pick another")
        assert len(sockets) == 1
        wait_closed(sockets[0])
        no_websocket_for(page, 2.5)
        expect(status).to_have_text("not connected")

        login(page, "patient")  # one socket, opened on submit; and the chat works
        assert len(sockets) == 2
        term.send("msgall hello patient")
        expect(page.locator("#messages li.broadcast")).to_have_text(["holderhello patient"])
        send(page, "hi holder")
        term.expect("msgall patient hi holder")

        page.get_by_role("button", name="Log out").click()  # back to the form: offline
        expect(page.get_by_label("Name")).to_be_visible()
        term.expect("leave patient")
        wait_closed(sockets[1])
        no_websocket_for(page, 2.5)
        expect(status).to_have_text("not connected")
        expect(page.locator("body")).not_to_contain_text("did not log in in time")
    finally:
        term.close()
    assert "bye idle" not in log.received  # no socket was left open on the form


def test_bye_shutdown_says_why_once_and_logs_in_again(cluster, pages) -> None:  # type: ignore[no-untyped-def]
    open_page, _ = pages
    watcher = open_page(cluster[1].url)
    login(watcher, "watcher")
    log = SocketLog()
    page = open_page(cluster[0].url, log)
    login(page, "steady")
    expect(online(watcher)).to_have_text(["steady", "watcher"])

    cluster[0].stop()  # SIGTERM: the node sends `bye shutdown` to everyone, then exits
    lost = page.locator("#messages li", has_text="Connection lost")
    expect(lost).to_have_text(["Connection lost: the server is shutting down. Reconnecting…"])
    # Two more sockets: the node is gone, and the failed attempts add no line.
    wait_for_websockets(page, log.sockets, 3)
    expect(lost).to_have_count(1)
    assert log.received[-1] == "bye shutdown"

    cluster[0].start()  # back on the same ports
    expect(page.locator("#messages")).to_contain_text("Reconnected as steady", timeout=20_000)
    expect(page.locator("#status")).to_have_text("connected")
    expect(online(page)).to_have_text(["steady", "watcher"])
    expect(lost).to_have_text(["Connection lost: the server is shutting down. Reconnecting…"])
    send(page, "back after the restart")
    expect(watcher.locator("#messages li.broadcast")).to_have_text(["steadyback after the restart"])


def test_bye_server_full_retries_with_growing_backoff(start_node, pages) -> None:  # type: ignore[no-untyped-def]
    node = start_node("web-full", "--max-connections", "1")
    open_page, _ = pages
    log = SocketLog()
    page = open_page(node.url, log)
    full = "Could not log in: the server is full. Trying again…"
    first = LineSocket(node.tcp_port)  # the one connection the node takes
    try:
        first.send("login first")
        first.expect("ok login first")
        page.get_by_label("Name").fill("second")
        page.get_by_role("button", name="Join the chat").click()
        expect(page.get_by_role("alert")).to_have_text(full)
        expect(page.locator("#status")).to_contain_text("the server is full")
        wait_for_websockets(page, log.sockets, 4)
        # Each socket opened and was turned away, and the backoff still grew (0.5, 1,
        # 2 s): a connection the server refused does not count as one that worked.
        gaps = [later - earlier for earlier, later in pairwise(log.opened_at)]
        assert gaps[0] >= 0.45 and gaps[1] >= 0.9 and gaps[2] >= 1.8, gaps
        expect(page.get_by_role("alert")).to_have_text(full)
        assert "bye server_full" in log.received
    finally:
        first.close()  # room now: the next attempt gets in
    expect(page.locator("#me")).to_have_text("second", timeout=20_000)
    expect(page.locator("#messages")).to_contain_text("Logged in as second.")
    expect(online(page)).to_have_text(["second"])
    expect(page.locator("#status")).to_have_text("connected")


def test_bye_name_taken_returns_to_the_form_for_good(start_node, pages) -> None:  # type: ignore[no-untyped-def]
    # Quick heartbeats, so a node paused for a second is taken for dead.
    flags = ("--heartbeat-interval", "0.2", "--heartbeat-ttl", "1")
    paused, other = start_node("web-paused", *flags), start_node("web-other", *flags)
    open_page, _ = pages
    log = SocketLog()
    page = open_page(paused.url, log)
    login(page, "steady")
    terms = [LineSocket(other.tcp_port)]
    try:
        watcher = terms[0]
        watcher.send("login watcher")
        watcher.expect("ok login watcher")
        paused.pause()
        watcher.expect("leave steady")  # the other node reaped the silent one's users
        terms.append(LineSocket(other.tcp_port))
        claimer = terms[1]
        claimer.send("login Steady")
        claimer.expect("ok login Steady")
        paused.resume()  # its next heartbeat finds the name taken

        expect(page.get_by_label("Name")).to_be_visible()
        expect(page.get_by_role("alert")).to_have_text(
            "Someone else is now using the name steady, so you were logged out here. "
            "Pick a name to log in again.")
        wait_closed(log.sockets[0])
        assert log.received[-1] == "bye name_taken"
        # It does not log in again by itself, which would take the name back.
        no_websocket_for(page, 2.5)
        expect(page.locator("#status")).to_have_text("not connected")
        claimer.send("userlist")
        claimer.expect("ok userlist Steady watcher")
    finally:
        for term in terms:
            term.close()


def test_online_list_keys_names_as_the_server_sent_them(redis_server, start_node, pages) -> None:  # type: ignore[no-untyped-def]
    # ZOË logs out on one node and zoë (the same name, for the server) logs in on the
    # other right after. The two nodes publish the leave and the join independently,
    # so they can reach others in either order (architecture.md, "Leave for someone
    # never listed"). The link from ZOË's node to Redis stalls at its leave, so the
    # join comes first, on cue. Whatever the order, `leave ZOË` is about ZOË only.
    link = HoldingLink(redis_server.port)
    # A long Redis timeout: the held announcement must not give up while it waits.
    slow = start_node("web-slow", "--redis-timeout", "30",
                      redis_url=f"redis://127.0.0.1:{link.port}")
    fast = start_node("web-fast")
    open_page, _ = pages
    page = open_page(fast.url)
    login(page, "watcher")
    terms = [LineSocket(slow.tcp_port)]
    try:
        terms[0].send("login ZOË")
        terms[0].expect("ok login ZOË")
        expect(online(page)).to_have_text(["watcher", "ZOË"])
        link.hold(lambda sent: b'"kind":"leave"' in sent)
        terms[0].send("logout")
        terms[0].expect("ok logout")
        assert link.held.wait(timeout=10), "the slow node never announced the leave"
        # The name is released by now (the release comes before the announcement).
        terms.append(LineSocket(fast.tcp_port))
        terms[1].send("login zoë")
        terms[1].expect("ok login zoë")
        expect(page.locator("#messages li").last).to_have_text("zoë joined")
        link.let_go()
        expect(page.locator("#messages li").last).to_have_text("ZOË left")
        expect(online(page)).to_have_text(["watcher", "zoë"])
        expect(page.locator("#online-count")).to_have_text("2")
    finally:
        for term in terms:
            term.close()
        link.let_go()
        slow.stop()  # before its link to Redis goes
        link.close()


def test_past_the_presence_limit_the_page_shows_a_count_then_names_again(start_node, pages) -> None:  # type: ignore[no-untyped-def]
    # Two users at most get names; the third makes the cluster send a count instead.
    page_node = start_node("web-count", "--presence-limit", "2")
    term_node = start_node("tcp-count", "--presence-limit", "2")
    open_page, _ = pages
    page = open_page(page_node.url)
    login(page, "webby")
    summary = page.locator("#online-summary")
    expect(summary).to_be_hidden()
    terms = [LineSocket(term_node.tcp_port) for _ in range(2)]
    try:
        terms[0].send("login ann")
        terms[0].expect("ok login ann")
        expect(online(page)).to_have_text(["ann", "webby"])
        terms[1].send("login bob")
        terms[1].expect("ok login bob")
        # Three online: the count, in place of a list that would only go stale.
        expect(summary).to_have_text("3 online — too many to list")
        expect(page.locator("#online-count")).to_have_text("3")
        expect(online(page)).to_have_count(0)
        # A page of `userlist` is shown as a line; it is not taken for the whole list.
        send(page, "/userlist")
        expect(page.locator("#messages li").last).to_have_text(
            "Online: ann, bob … and 1 more (/userlist bob for the next page)")
        expect(online(page)).to_have_count(0)
        expect(summary).to_have_text("3 online — too many to list")

        terms[0].send("logout")
        terms[0].expect("ok logout")
        # Back at the limit: the fresh `users` line replaces the list, exactly.
        expect(online(page)).to_have_text(["bob", "webby"])
        expect(page.locator("#online-count")).to_have_text("2")
        expect(summary).to_be_hidden()
        # And `leave` updates it again.
        terms[1].send("logout")
        terms[1].expect("ok logout")
        expect(page.locator("#messages li").last).to_have_text("bob left")
        expect(online(page)).to_have_text(["webby"])
    finally:
        for term in terms:
            term.close()
