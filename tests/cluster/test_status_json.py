"""GET /status.json on live nodes against a real Redis: the cluster's nodes with their
users as Redis has them, this node's connections and rates, its last drops; and the
status page itself served with the chat page's security headers."""

import json
from collections.abc import Callable
from typing import Any

import trio

from tests.support.clients import TcpClient, joined
from tests.support.nodes import NodeRunner, RunningNode
from tests.support.processes import http_get, http_get_with_headers


async def status_of(node: RunningNode) -> dict[str, Any]:
    status, headers, body = await http_get_with_headers(node.http_port, "/status.json")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    document: dict[str, Any] = json.loads(body)
    return document


async def wait_for_status(node: RunningNode, check: Callable[[dict[str, Any]], bool],
                          timeout: float = 10) -> dict[str, Any]:
    with trio.fail_after(timeout):
        while not check(document := await status_of(node)):
            await trio.sleep(0.05)  # polling /status.json with a deadline
    return document


async def test_status_lists_both_nodes_users_and_this_nodes_connections(
        nodes: NodeRunner) -> None:
    first, second = await nodes.start("st-a"), await nodes.start("st-b")
    alice, carol = await nodes.connect(first, "tcp"), await nodes.connect(first, "ws")
    bob = await nodes.connect(second, "tcp")
    await alice.login("alice")
    await carol.login("carol")
    await bob.login("bob")
    await alice.expect(joined("bob"))
    for index in range(5):
        assert await alice.request(f"msgall hello {index}") == "ok msgall"
    await bob.expect("msgall alice hello 4")

    # Samples come at least a second apart, so the rates add up to at most the five
    # messages; a slow machine's longer interval makes them a little less.
    document = await wait_for_status(first, lambda doc: sum(doc["rates"]["messages"]) >= 4)
    assert sum(document["rates"]["messages"]) <= 5.01
    assert sum(document["rates"]["deliveries"]) > 0
    assert [(node["id"], node["users"], node["self"]) for node in document["nodes"]] == \
        [("st-a", 2, True), ("st-b", 1, False)]
    for node in document["nodes"]:
        assert 0 <= node["heartbeat_age"] < first.config.heartbeat_ttl
    assert document["node"] == "st-a"
    assert document["connections"] == {"tcp": 1, "ws": 1}
    assert document["users"] == 2
    assert document["heartbeat"] == {"interval": first.config.heartbeat_interval,
                                     "ttl": first.config.heartbeat_ttl}
    assert document["redis"]["query_ms"] > 0
    assert document["drops"] == []

    other = await status_of(second)
    assert [(node["id"], node["self"]) for node in other["nodes"]] == \
        [("st-a", False), ("st-b", True)]
    assert other["connections"] == {"tcp": 1, "ws": 0}


async def test_a_slow_consumer_drop_shows_with_its_user_and_peer(nodes: NodeRunner) -> None:
    node = await nodes.start(outbox_lines=16, command_rate=0)
    talker = await nodes.connect(node, "tcp")
    await talker.login("talker")
    sloth = await TcpClient.connect(node.tcp_port)  # reads nothing until the end
    await sloth.send("login sloth")
    await talker.expect(joined("sloth"))
    with trio.fail_after(20):
        while "sloth" in await talker.request("userlist"):
            assert await talker.request(f"msgall {'x' * 3000}") == "ok msgall"
    document = await status_of(node)
    [drop] = document["drops"]
    assert (drop["reason"], drop["user"]) == ("slow", "sloth")
    assert drop["peer"].startswith("tcp:127.0.0.1:")
    assert drop["time"] <= document["time"]
    await sloth.close()


async def test_the_status_page_is_served_like_the_chat_page(nodes: NodeRunner) -> None:
    node = await nodes.start()
    _, chat_headers, _ = await http_get_with_headers(node.http_port, "/")
    for path, kind in (("/status", "text/html"), ("/status.js", "text/javascript"),
                       ("/status.css", "text/css")):
        status, headers, body = await http_get_with_headers(node.http_port, path)
        assert status == 200 and headers["content-type"].startswith(kind)
        assert headers["content-security-policy"] == chat_headers["content-security-policy"]
    status, page = await http_get(node.http_port, "/status")
    assert '<script src="status.js" defer></script>' in page
    assert "<script>" not in page and "style=" not in page  # nothing inline
