"""Every error code, over both transports, against one real node and Redis.
A refused line never closes the connection: the client can go on chatting."""

import pytest

from tests.support.nodes import NodeRunner

KINDS = ["tcp", "ws"]


@pytest.mark.parametrize("kind", KINDS)
async def test_errors_before_login(nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start()
    client = await nodes.connect(node, kind)
    cases = [
        ("msg bob", "error usage expected: msg <name> <text>"),
        ("msgall", "error usage expected: msgall <text>"),
        ("login", "error usage expected: login <name>"),
        ("login two words", "error usage expected: login <name>"),
        ("whoami now", "error usage expected: whoami"),
        ("msg bob hi", "error not_logged_in log in first: login <name>"),
        ("msgall hi", "error not_logged_in log in first: login <name>"),
        ("userlist", "error not_logged_in log in first: login <name>"),
        ("whoami", "error not_logged_in log in first: login <name>"),
        ("debug", "error not_logged_in log in first: login <name>"),
        ("logout", "error not_logged_in log in first: login <name>"),
    ]
    for line, expected in cases:
        assert await client.request(line) == expected, line
    reply = await client.request("dance")
    assert reply.startswith("error unknown_command unknown command 'dance'")
    reply = await client.request("login bad@name")
    assert reply.startswith("error bad_name bad name 'bad@name'")
    reply = await client.request("login " + "x" * 33)
    assert reply.startswith("error bad_name ")
    reply = await client.request("msgall bell\x07")
    assert reply == "error bad_text control characters are not allowed"
    # Blank lines get no reply at all: the next reply is for the next command.
    await client.send("")
    await client.send("   ")
    assert await client.login("Émile") == ["Émile"]
    assert client.skipped == []


@pytest.mark.parametrize("kind", KINDS)
async def test_errors_after_login(nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start()
    first = await nodes.connect(node, kind)
    await first.login("alice")
    second = await nodes.connect(node, kind)
    for taken in ("alice", "ALICE", "Alice"):
        reply = await second.request(f"login {taken}")
        assert reply == f"error name_taken the name {taken} is taken; pick another"
    reply = await first.request("login other")
    assert reply == "error already_logged_in you are already logged in as alice"
    reply = await first.request("msg nobody hello")
    assert reply == "error no_such_user nobody called nobody is online"
    assert await first.request("whoami") == "ok whoami alice"


async def test_bad_bytes_over_tcp(nodes: NodeRunner) -> None:
    node = await nodes.start(max_line_bytes=100)
    client = await nodes.connect(node, "tcp")
    await client.send_bytes(b"login \xff\xfe\n")  # type: ignore[attr-defined]
    assert await client.next_line() == "error bad_encoding lines must be UTF-8"
    await client.send_bytes(b"msgall " + b"y" * 200 + b"\n")  # type: ignore[attr-defined]
    assert await client.next_line() == "error line_too_long lines are limited to 100 bytes"
    # A long line that arrives in pieces is refused once, and the stream recovers.
    for _ in range(10):
        await client.send_bytes(b"z" * 50)  # type: ignore[attr-defined]
    await client.send_bytes(b"\r\nlogin carol\r\n")  # type: ignore[attr-defined]
    assert await client.next_line() == "error line_too_long lines are limited to 100 bytes"
    assert await client.next_line() == "ok login carol"


async def test_bad_frames_over_websocket(nodes: NodeRunner) -> None:
    node = await nodes.start(max_line_bytes=100)
    client = await nodes.connect(node, "ws")
    await client.send_bytes(b"login bin")  # type: ignore[attr-defined]
    assert await client.next_line() == "error bad_frame binary frames are not accepted; send text"
    await client.send("login a\nlogin b")
    assert await client.next_line() == "error bad_frame send one line per frame"
    await client.send("msgall " + "é" * 60)  # 127 bytes, 67 characters
    assert await client.next_line() == "error line_too_long lines are limited to 100 bytes"
    await client.send("login dora\r\n")
    assert await client.next_line() == "ok login dora"


async def test_websocket_on_other_paths_is_refused(nodes: NodeRunner) -> None:
    from trio_websocket import ConnectionRejected, open_websocket_url

    node = await nodes.start()
    with pytest.raises(ConnectionRejected):
        async with open_websocket_url(f"ws://127.0.0.1:{node.http_port}/elsewhere"):
            pass


async def test_commands_work_after_redis_forgets_its_scripts(nodes: NodeRunner, redis) -> None:  # type: ignore[no-untyped-def]
    """A restarted Redis has no scripts; the node loads them again and carries on."""
    node = await nodes.start()
    client = await nodes.connect(node, "tcp")
    await client.login("scripted")
    await redis.custom_command(["SCRIPT", "FLUSH"])
    assert await client.request("msgall still works") == "ok msgall"
    assert await client.request("msg scripted to me") == "ok msg scripted"
    other = await nodes.connect(node, "ws")
    await redis.custom_command(["SCRIPT", "FLUSH"])
    assert await other.login("second") == ["scripted", "second"]
