"""What a node does at its limits, seen by clients: the login deadline, unfinished
lines, the connection cap, pacing of every line, and the one last `bye` line that
tells a dropped client why."""

import logging

import pytest
import trio

from tests.support.clients import TcpClient, starts
from tests.support.nodes import NodeRunner
from tests.support.processes import http_get
from tests.support.raw_ws import RawWebSocket

KINDS = ["tcp", "ws"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_connection_that_never_logs_in_is_told_bye_idle(
        nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start(login_timeout=0.5)
    lurker = await nodes.connect(node, kind)
    user = await nodes.connect(node, kind)
    await user.login("user")
    # Commands that are not a login do not count: only logging in stops the clock.
    assert (await lurker.request("whoami")).startswith("error not_logged_in")
    started = trio.current_time()
    assert await lurker.closed(timeout=5) == ["bye idle"]
    assert trio.current_time() - started >= 0.3
    # A logged-in user is never timed out for being quiet.
    with trio.move_on_after(1):
        await user.next_line()
    assert await user.request("whoami") == "ok whoami user"


async def test_a_line_left_unfinished_is_cut_off_even_while_it_trickles_in(
        nodes: NodeRunner) -> None:
    node = await nodes.start(partial_line_timeout=0.6)
    slowloris = await TcpClient.connect(node.tcp_port)
    await slowloris.login("slowloris")
    started = trio.current_time()
    with trio.fail_after(5):
        try:
            while True:  # one byte every 0.1 s, never a newline
                await slowloris.send_bytes(b"m")
                await trio.sleep(0.1)  # the attacker's pace, not a synchronisation
        except trio.BrokenResourceError:
            pass
    assert trio.current_time() - started >= 0.5
    assert await slowloris.closed() == ["bye idle"]


async def test_whole_lines_keep_the_connection_however_slow(nodes: NodeRunner) -> None:
    node = await nodes.start(partial_line_timeout=0.5)
    client = await TcpClient.connect(node.tcp_port)
    await client.login("typist")
    for word in ("who", "ami\n", "who", "ami\n"):
        await client.send_bytes(word.encode())
        await trio.sleep(0.3)  # a slow typist: each line takes 0.6 s, each part 0.3 s
    assert await client.expect(starts("ok ")) == "ok whoami typist"
    assert await client.expect(starts("ok ")) == "ok whoami typist"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_full_node_turns_newcomers_away_and_still_answers_healthz(
        nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start(node_id="full-1", max_connections=3)
    clients = [await nodes.connect(node, kind) for _ in range(3)]
    await clients[0].login("first")
    for client in clients[1:]:  # connected (counted) but never logged in
        assert (await client.request("whoami")).startswith("error not_logged_in")
    turned_away = await nodes.connect(node, kind)
    assert await turned_away.closed() == ["bye server_full"]
    assert await http_get(node.http_port, "/healthz") == (503, "full (3 connections)\n")
    assert await clients[0].request("msgall still fine") == "ok msgall"
    await clients[1].close()
    with trio.fail_after(5):
        while (await http_get(node.http_port, "/healthz"))[0] != 200:
            await trio.sleep(0.02)  # polling /healthz with a deadline
    newcomer = await nodes.connect(node, kind)
    assert await newcomer.login("newcomer") == ["first", "newcomer"]


async def test_every_line_is_paced_even_those_answered_locally(nodes: NodeRunner) -> None:
    node = await nodes.start(command_rate=20, command_burst=5)
    flooder = await nodes.connect(node, "tcp")
    await flooder.login("flooder")
    calm = await nodes.connect(node, "ws")
    await calm.login("calm")
    started = trio.current_time()
    for _ in range(40):  # two seconds' worth at 20 per second, sent at once
        await flooder.send("whoami")
    await flooder.send("nonsense")
    assert await calm.request("whoami") == "ok whoami calm"  # calm is not held up
    for _ in range(40):
        assert await flooder.expect(starts("ok ")) == "ok whoami flooder"
    assert (await flooder.expect(starts("error "))).startswith("error unknown_command")
    # 5 at once, then 20 a second: a lower bound a faster machine cannot break.
    assert trio.current_time() - started >= (41 - 5) / 20 - 0.1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_slow_consumer_is_told_bye_slow_once_it_reads_and_logged_once(
        nodes: NodeRunner, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    node = await nodes.start(outbox_lines=16, command_rate=0)
    talker = await nodes.connect(node, "tcp")
    await talker.login("talker")
    # A client that reads nothing at all until asked (trio-websocket would read ahead
    # into its own queue in the background).
    sloth: TcpClient | RawWebSocket
    if kind == "tcp":
        sloth = await TcpClient.connect(node.tcp_port)
    else:
        sloth = await RawWebSocket.connect(node.http_port)
    await sloth.send_text("login sloth") if isinstance(sloth, RawWebSocket) else \
        await sloth.send("login sloth")
    await talker.expect("join sloth")
    big = "x" * 3000
    with caplog.at_level(logging.INFO, logger="node"), trio.fail_after(20):
        while "sloth" in await talker.request("userlist"):  # the sloth never reads
            assert await talker.request(f"msgall {big}") == "ok msgall"
        for _ in range(20):  # more events for it after the drop: no second log line
            assert await talker.request(f"msgall {big}") == "ok msgall"
    lines = await _read_to_the_end(sloth)
    # Whatever reached its socket before the drop, then the reason; nothing after it.
    assert lines[-1] == "bye slow"
    # (A `join talker` may come too: the documented repeated-join race.)
    extra = set(lines[:-1]) - {f"msgall talker {big}", "users sloth talker", "ok login sloth",
                               "join talker"}
    assert not extra, extra
    drops = [(r.levelname, r.getMessage()) for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and drops[0][1].endswith("(sloth) dropped: bye slow"), drops
    assert drops[0][0] == "INFO"


async def _read_to_the_end(client: TcpClient | RawWebSocket) -> list[str]:
    if isinstance(client, RawWebSocket):
        texts, code = await client.messages_until_closed(timeout=10)
        assert code == 1000
        return texts
    return [*client.skipped, *await client.closed(timeout=10)]
