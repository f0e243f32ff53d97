"""The WebSocket endpoint against real handshakes and frames: which pages may connect
(Origin), giant and unfinished messages, close codes, and the server's pings."""

import contextlib
import logging

import pytest
import trio
from wsproto.events import Ping
from wsproto.utilities import LocalProtocolError

from tests.support.clients import WsClient, starts
from tests.support.nodes import NodeRunner, RunningNode
from tests.support.raw_ws import RawWebSocket


async def _handshake_status(nursery: trio.Nursery, node: RunningNode,
                            origin: str | None) -> int:
    """101 if the node accepted the WebSocket, else the HTTP status it refused it with."""
    client, status = await RawWebSocket.handshake(node.http_port, origin)
    await client.close()
    return status


async def test_only_the_nodes_own_page_may_connect_by_default(
        nodes: NodeRunner, nursery: trio.Nursery) -> None:
    node = await nodes.start()
    own = f"http://127.0.0.1:{node.http_port}"
    cases = {
        None: 101,  # a non-browser client sends no Origin
        own: 101,  # the page this node served (the Host the socket was opened to)
        f"https://127.0.0.1:{node.http_port}": 101,  # same host and port, behind TLS
        "http://evil.example": 403,
        f"http://evil.example:{node.http_port}": 403,
        f"http://127.0.0.1:{node.http_port + 1}": 403,  # another port is another site
        "null": 403,  # sandboxed frames and local files
        "file://": 403,
        "chrome-extension://abcdef": 403,
    }
    seen = {origin: await _handshake_status(nursery, node, origin) for origin in cases}
    assert seen == cases


async def test_a_refused_page_gets_nothing_and_others_are_undisturbed(
        nodes: NodeRunner, nursery: trio.Nursery) -> None:
    node = await nodes.start()
    user = await nodes.connect(node, "ws")
    await user.login("user")
    assert await _handshake_status(nursery, node, "http://evil.example") == 403
    assert await user.request("userlist") == "ok userlist user"


async def test_listed_origins_and_the_wildcard(nodes: NodeRunner, nursery: trio.Nursery) -> None:
    listed = await nodes.start(allowed_origins=("https://chat.example.com",))
    assert await _handshake_status(nursery, listed, "https://chat.example.com") == 101
    assert await _handshake_status(nursery, listed, "https://CHAT.example.com:443") == 101
    assert await _handshake_status(nursery, listed, "http://chat.example.com") == 403
    assert await _handshake_status(nursery, listed, "http://evil.example") == 403
    anyone = await nodes.start(allowed_origins=("*",))
    assert await _handshake_status(nursery, anyone, "http://evil.example") == 101
    assert await _handshake_status(nursery, anyone, "null") == 403


async def test_a_giant_message_in_fragments_is_closed_as_the_fragments_arrive(
        nodes: NodeRunner) -> None:
    node = await nodes.start()
    bystander = await nodes.connect(node, "ws")
    await bystander.login("bystander")
    giant = await RawWebSocket.connect(node.http_port)
    fragment = "g" * 10_000
    sent = 0

    async def send_ten_megabytes() -> None:
        nonlocal sent
        try:
            for _ in range(1000):
                await giant.send_text(fragment, finished=False)
                sent += 1
        except (trio.BrokenResourceError, trio.ClosedResourceError, LocalProtocolError):
            pass  # the node hung up, or its close frame has come in

    async with trio.open_nursery() as senders:
        senders.start_soon(send_ten_megabytes)
        _, code = await giant.messages_until_closed(timeout=10)
        assert code == 1009
        await giant.socket_closed(timeout=5)  # the close completes: the node hangs up
        senders.cancel_scope.cancel()
    assert sent < 1000  # the node did not wait for the end of the message
    assert await bystander.request("whoami") == "ok whoami bystander"


async def test_a_message_left_unfinished_is_cut_off(nodes: NodeRunner) -> None:
    node = await nodes.start(partial_line_timeout=0.5)
    client = await RawWebSocket.connect(node.http_port)
    await client.send_text("login unfinished")
    await client.send_text("msgall never", finished=False)
    with trio.move_on_after(5):  # trickling more fragments does not help
        with contextlib.suppress(trio.BrokenResourceError, LocalProtocolError):
            while True:
                await client.send_text(" ending", finished=False)
                await trio.sleep(0.1)  # the attacker's pace, not a synchronisation
    texts, code = await client.messages_until_closed()
    assert texts[-1] == "bye idle"
    assert code == 1000


async def test_a_clean_close_is_logged_with_its_code(
        nodes: NodeRunner, caplog: pytest.LogCaptureFixture) -> None:
    node = await nodes.start()
    watcher = await nodes.connect(node, "tcp")
    await watcher.login("watcher")
    client = await nodes.connect(node, "ws")
    await client.login("polite")
    with caplog.at_level(logging.INFO, logger="node.connection"):
        await client.close()  # a normal close: code 1000
        await watcher.expect("leave polite")
    lost = [r.getMessage() for r in caplog.records if " lost: " in r.getMessage()]
    assert len(lost) == 1 and lost[0].endswith("lost: websocket closed (1000)"), lost


async def test_the_node_pings_a_silent_client(nodes: NodeRunner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("node.http_server.WS_PING_INTERVAL", 0.2)
    node = await nodes.start()
    client = await RawWebSocket.connect(node.http_port)
    assert isinstance(await client.next_event(timeout=5), Ping)


async def test_a_client_ping_is_answered_and_text_frames_carry_no_newline(
        nodes: NodeRunner) -> None:
    node = await nodes.start()
    client = await nodes.connect(node, "ws")
    assert isinstance(client, WsClient)
    await client.ws.ping(b"are you there")  # trio-websocket waits for the matching pong
    await client.send("login pinger\r\n")
    assert await client.expect(starts("ok ")) == "ok login pinger"
    assert await client.next_line() == "users pinger"


async def test_the_server_close_frame_follows_bye(nodes: NodeRunner) -> None:
    node = await nodes.start(login_timeout=0.3)
    client = await RawWebSocket.connect(node.http_port)
    texts, code = await client.messages_until_closed()
    assert (texts, code) == (["bye idle"], 1000)
    await client.socket_closed()
