"""The status page in real headless Chromium, against two real node processes and a
real Redis, after some chat and a slow consumer's drop: it draws the nodes, the
sparklines and the drop, under the chat page's content security policy, with no
errors. ``UPDATE_SCREENSHOTS=1`` writes its screenshot to docs/status.png."""

import itertools
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devcluster.redis_server import RedisServer
from tests.support.browser import (
    CHROMIUM_FLAGS,
    LineSocket,
    NodeProc,
    chromium_path,
    two_node_procs,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="LOUD SKIP: no chromium on PATH; `python3 dev.py test` installs Debian's chromium")

TIMEOUT_MS = 15_000
DRAWN = re.compile(r"^M[\d.]+ [\d.]+ L")  # a path of at least two points
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "status.png"
# Every CSP violation the page meets, recorded by the page itself from the start.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.violations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


@pytest.fixture
def two_nodes(redis_server: RedisServer) -> Iterator[list[NodeProc]]:
    flags = ("--outbox-lines", "16", "--command-rate", "0")
    with two_node_procs(redis_server.url, f"s{uuid.uuid4().hex[:10]}", "status",
                        flags) as nodes:
        yield nodes


@pytest.fixture
def context() -> Iterator[object]:
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=CHROMIUM_FLAGS)
        context = chromium.new_context(viewport={"width": 1000, "height": 720})
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        chromium.close()


def drop_a_slow_consumer(node: NodeProc) -> None:
    """A client that never reads, flooded until the node drops it with `bye slow`."""
    sloth = socket.create_connection(("127.0.0.1", node.tcp_port), timeout=10)
    talker = LineSocket(node.tcp_port)
    try:
        talker.send("login talker")
        talker.expect("ok login talker")
        sloth.sendall(b"login sloth\n")
        talker.expect(lambda line: line.startswith("join ") and "sloth" in line)
        while True:
            for _ in range(20):
                talker.send("msgall " + "x" * 3000)
            talker.send("userlist")
            if "sloth" not in talker.expect(lambda line: line.startswith("ok userlist")):
                return
    finally:
        talker.close()
        sloth.close()


class Chatter:
    """Two terminal users on two nodes chatting in uneven bursts until stopped."""

    def __init__(self, first: NodeProc, second: NodeProc) -> None:
        self.alice, self.bob = LineSocket(first.tcp_port), LineSocket(second.tcp_port)
        for user, name in ((self.alice, "alice"), (self.bob, "bob")):
            user.send(f"login {name}")
            user.expect(f"ok login {name}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._talk, daemon=True)
        self._thread.start()

    def _talk(self) -> None:
        for tick in itertools.count():
            for index in range(1 + tick * 7 % 6):
                self.alice.send(f"msgall tick {tick} line {index}")
            if tick % 3 == 0:
                self.bob.send(f"msg alice tick {tick}")
            if self._stop.wait(0.25):  # pacing the load; stop() ends it at once
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.alice.close()
        self.bob.close()


def points(page, svg: str) -> int:  # type: ignore[no-untyped-def]
    """How many rates a sparkline draws."""
    return int(page.locator(f"{svg} .line").evaluate(
        "path => (path.getAttribute('d').match(/[ML]/g) || []).length"))


def test_status_page_shows_the_cluster_after_some_chat(two_nodes, context, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, second = two_nodes
    drop_a_slow_consumer(first)
    chatter = Chatter(first, second)
    try:
        chat = context.new_page()
        chat.goto(first.url)
        chat.get_by_label("Name").fill("webby")
        chat.get_by_role("button", name="Join the chat").click()
        expect(chat.locator("#me")).to_have_text("webby")

        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text)
                if message.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(f"{first.url}status")

        expect(page.locator("#node")).to_have_text("status-1")
        rows = page.locator("#nodes tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("status-1")
        expect(rows.nth(0)).to_contain_text("this node")
        expect(rows.nth(1)).to_contain_text("status-2")
        expect(rows.nth(1)).not_to_contain_text("this node")
        expect(rows.nth(0).locator("td").nth(2)).to_have_text("2")  # alice, webby
        expect(rows.nth(1).locator("td").nth(2)).to_have_text("1")  # bob
        expect(page.locator("#conn-ws")).to_have_text("1")
        expect(page.locator("#drops tbody tr")).to_have_count(1)
        expect(page.locator("#drops tbody tr")).to_contain_text("slow")
        expect(page.locator("#drops tbody tr")).to_contain_text("sloth")
        expect(page.locator("#messages-spark .line")).to_have_attribute("d", DRAWN)
        expect(page.locator("#deliveries-spark .line")).to_have_attribute("d", DRAWN)
        expect(page.locator("#messages-now")).to_contain_text("peak")
        expect(page.locator("#redis-query")).to_contain_text("ms")

        screenshot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") else \
            tmp_path / "status.png"
        if screenshot == SCREENSHOT:  # a fuller line for the picture
            page.wait_for_function(
                "() => document.querySelector('#messages-spark .line')"
                ".getAttribute('d').split('L').length > 15", timeout=30_000)
        assert points(page, "#messages-spark") >= 2
        page.locator("body").screenshot(path=str(screenshot))  # as tall as the content
        assert screenshot.stat().st_size > 10_000
    finally:
        chatter.stop()

    assert problems == []
    assert page.evaluate("window.violations") == []
    # The check bites: inline code is refused, and seen.
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.inline = 1'; document.body.append(s); }""")
    page.wait_for_function("() => window.violations.length > 0")
    assert page.evaluate("window.inline") is None
