"""The node's HTTP port: /healthz, unknown paths, the WebSocket frame cap, and the
`debug` command writing to the node's log rather than to the client."""

import logging

import pytest
import trio
from trio_websocket import ConnectionClosed

from tests.support.clients import WsClient
from tests.support.nodes import NodeRunner
from tests.support.processes import http_get


async def test_healthz_and_unknown_paths(nodes: NodeRunner) -> None:
    node = await nodes.start(node_id="hz-1")
    assert await http_get(node.http_port, "/healthz") == (200, "ok hz-1 users=0\n")
    status, body = await http_get(node.http_port, "/nope")
    assert status == 404
    assert "/ws" in body


async def test_draining_node_fails_healthz_but_keeps_serving(nodes: NodeRunner) -> None:
    node = await nodes.start(node_id="drain-1", drain_seconds=2)
    client = await nodes.connect(node, "tcp")
    await client.login("stayer")
    node.stop_event.set()
    with trio.fail_after(5):
        while (await http_get(node.http_port, "/healthz")) != (503, "stopping\n"):
            await trio.sleep(0.02)  # polling /healthz with a deadline
    assert await client.request("msgall still here") == "ok msgall"
    late = await nodes.connect(node, "ws")
    assert (await late.login("late"))[-1] == "stayer"
    assert not node.finished.is_set()
    with trio.fail_after(10):
        await node.finished.wait()  # then it closes, as without a drain
    await late.closed()  # raises unless the node closes the connection in time


async def test_oversized_frame_closes_with_1009_without_disturbing_others(
        nodes: NodeRunner) -> None:
    node = await nodes.start()
    bystander = await nodes.connect(node, "ws")
    await bystander.login("bystander")
    giant = await nodes.connect(node, "ws")
    assert isinstance(giant, WsClient)
    await giant.send("msgall " + "g" * 200_000)
    with pytest.raises(ConnectionClosed) as closed:
        await giant.ws.get_message()
    assert closed.value.reason.code == 1009
    assert await bystander.request("whoami") == "ok whoami bystander"


@pytest.mark.parametrize("kind", ["tcp", "ws"])
async def test_logout_flushes_the_reply_then_closes(nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start()
    watcher = await nodes.connect(node, "tcp")
    await watcher.login("watcher")
    leaving = await nodes.connect(node, kind)
    await leaving.login("leaving")
    await leaving.send("logout")
    await leaving.expect("ok logout")  # (a late `join watcher` may come first)
    assert await leaving.closed() == []
    await watcher.expect("leave leaving")


async def test_debug_goes_to_the_node_log_only(nodes: NodeRunner,
                                               caplog: pytest.LogCaptureFixture) -> None:
    node = await nodes.start(node_id="dbg-1")
    client = await nodes.connect(node, "tcp")
    await client.login("inspector")
    with caplog.at_level(logging.INFO, logger="node.connection"):
        assert await client.request("debug") == "ok debug"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "local connections: ['inspector tcp:127.0.0.1:" in logged
    assert "cluster registry (1 users): {'inspector': 'dbg-1'}" in logged
    assert client.skipped == []


async def test_healthz_reports_a_node_that_stopped_hearing_pubsub(nodes: NodeRunner,
                                                                 redis) -> None:  # type: ignore[no-untyped-def]
    node = await nodes.start(heartbeat_interval=0.1, heartbeat_ttl=1.0, redis_timeout=0.5)
    status = (0, "")
    with trio.fail_after(15):
        # Commands keep working, but the subscription is cut again and again.
        while not status[1].startswith("not hearing the cluster"):
            await redis.custom_command(["CLIENT", "KILL", "TYPE", "pubsub"])
            status = await http_get(node.http_port, "/healthz")
            await trio.sleep(0.05)  # pacing the cuts, with a deadline around the loop
    assert status[0] == 503
    with trio.fail_after(20):  # left alone, glide resubscribes and the node hears again
        while (await http_get(node.http_port, "/healthz"))[0] != 200:
            await trio.sleep(0.1)  # polling /healthz with a deadline


async def _raw_http(port: int, request: bytes, timeout: float = 5) -> bytes:
    """Send ``request`` as it is; everything the node answers until it closes."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        data = b""
        with trio.fail_after(timeout):
            while chunk := await stream.receive_some(65536):
                data += chunk
    return data


async def test_keep_alive_serves_several_requests_and_head_has_no_body(
        nodes: NodeRunner) -> None:
    node = await nodes.start(node_id="ka-1")
    answer = await _raw_http(node.http_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, second, third = answer.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 ") and first.endswith(b"\r\n\r\nok ka-1 users=0\n")
    assert second.startswith(b"200 ") and second.endswith(b"\r\n\r\n")  # HEAD: headers only
    assert b"content-length: 16" in second.lower()
    assert third.startswith(b"426 ")  # /ws without an upgrade


async def test_a_request_head_that_never_ends_is_closed(
        nodes: NodeRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("node.http_server.REQUEST_TIMEOUT", 0.5)
    node = await nodes.start()
    started = trio.current_time()
    answer = await _raw_http(node.http_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert answer == b""  # closed without a word, after the deadline
    assert trio.current_time() - started >= 0.4
    assert (await http_get(node.http_port, "/healthz"))[0] == 200


async def test_an_oversized_request_head_gets_431(nodes: NodeRunner) -> None:
    node = await nodes.start()
    answer = await _raw_http(node.http_port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
                             + b"b" * 20_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
