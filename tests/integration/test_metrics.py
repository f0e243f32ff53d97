"""GET /metrics on a node's HTTP port: the Prometheus text format, every metric the
operations guide lists, and values that follow what clients do, per node."""

import trio

from tests.support.clients import TcpClient, joined, starts
from tests.support.metrics import scrape, value, wait_for_sample
from tests.support.nodes import NodeRunner
from tests.support.processes import http_get_with_headers

REQUIRED = (
    "chat_connections", "chat_users", "chat_logins_total", "chat_commands_total",
    "chat_messages_published_total", "chat_deliveries_total", "chat_delivery_lag_seconds",
    "chat_redis_command_seconds", "chat_redis_errors_total", "chat_slow_consumer_drops_total",
    "chat_paced_commands_total", "chat_drops_total", "chat_pubsub_reconnects_total",
    "chat_self_probe_age_seconds", "chat_outbox_lines", "process_cpu_seconds_total",
    "process_resident_memory_bytes",
)


async def test_metrics_answers_in_the_text_format_with_every_metric(nodes: NodeRunner) -> None:
    node = await nodes.start()
    status, headers, body = await http_get_with_headers(node.http_port, "/metrics")
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    declared = {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}
    exported = declared | {name + "_total" for name in declared}
    assert not [name for name in REQUIRED if name not in exported]
    samples = await scrape(node.http_port)
    assert value(samples, "chat_logins_total", result="ok") == 0
    assert value(samples, "chat_self_probe_age_seconds") < 60  # it hears its own probes


async def test_logins_users_and_connections_move_per_node(nodes: NodeRunner) -> None:
    node, other = await nodes.start(), await nodes.start()
    alice = await nodes.connect(node, "tcp")
    await alice.login("alice")
    web = await nodes.connect(node, "ws")
    assert await web.request("login ALICE") == \
        "error name_taken the name ALICE is taken; pick another"
    assert (await web.request("login b@d")).startswith("error bad_name")
    assert (await web.request("login")).startswith("error usage")

    samples = await scrape(node.http_port)
    logins = {result: value(samples, "chat_logins_total", result=result)
              for result in ("ok", "name_taken", "invalid", "unavailable")}
    assert logins == {"ok": 1, "name_taken": 1, "invalid": 2, "unavailable": 0}
    assert value(samples, "chat_users") == 1
    assert value(samples, "chat_connections", transport="tcp") == 1
    assert value(samples, "chat_connections", transport="ws") == 1
    # Each node its own registry, though both run in this process.
    elsewhere = await scrape(other.http_port)
    assert value(elsewhere, "chat_logins_total", result="ok") == 0
    assert value(elsewhere, "chat_connections", transport="tcp") == 0

    await alice.request("logout")
    await web.close()
    await wait_for_sample(node.http_port, lambda s: value(s, "chat_users") == 0 and value(
        s, "chat_connections", transport="tcp") == 0 and value(
        s, "chat_connections", transport="ws") == 0)


async def test_drops_are_counted_by_reason(nodes: NodeRunner) -> None:
    node = await nodes.start(login_timeout=0.3, max_connections=1)
    silent = await nodes.connect(node, "tcp")
    turned_away = await nodes.connect(node, "tcp")
    assert await turned_away.closed() == ["bye server_full"]
    assert await silent.expect(starts("bye ")) == "bye idle"
    samples = await scrape(node.http_port)
    assert value(samples, "chat_drops_total", reason="idle") == 1
    assert value(samples, "chat_drops_total", reason="server_full") == 1
    assert value(samples, "chat_drops_total", reason="slow") == 0
    assert value(samples, "chat_slow_consumer_drops_total") == 0


async def test_a_slow_consumer_drop_is_counted_twice_over(nodes: NodeRunner) -> None:
    node = await nodes.start(outbox_lines=16, command_rate=0)
    talker = await nodes.connect(node, "tcp")
    await talker.login("talker")
    sloth = await TcpClient.connect(node.tcp_port)  # reads nothing from here on
    await sloth.send("login sloth")
    await talker.expect(joined("sloth"))
    with trio.fail_after(20):
        while "sloth" in await talker.request("userlist"):
            assert await talker.request(f"msgall {'x' * 3000}") == "ok msgall"
    samples = await scrape(node.http_port)
    assert value(samples, "chat_slow_consumer_drops_total") == 1
    assert value(samples, "chat_drops_total", reason="slow") == 1


async def test_commands_messages_and_deliveries_are_counted_where_they_happen(
        nodes: NodeRunner) -> None:
    one, two = await nodes.start(), await nodes.start()
    alice = await nodes.connect(one, "tcp")
    await alice.login("alice")
    bob = await nodes.connect(two, "ws")
    await bob.login("bob")
    carol = await nodes.connect(two, "tcp")
    await carol.login("carol")
    await alice.expect(joined("carol"))
    assert await alice.request("msg bob hi") == "ok msg bob"
    assert await alice.request("msg nobody hi") == \
        "error no_such_user nobody called nobody is online"
    assert await alice.request("msgall all") == "ok msgall"
    assert await alice.request("whoami") == "ok whoami alice"
    await bob.expect(starts("msgall alice"))
    await carol.expect(starts("msgall alice"))

    sent = await scrape(one.http_port)
    assert {command: value(sent, "chat_commands_total", command=command)
            for command in ("login", "msg", "msgall", "whoami", "userlist")} == \
        {"login": 1, "msg": 2, "msgall": 1, "whoami": 1, "userlist": 0}
    # Published: the message that found its target, and the broadcast.
    assert value(sent, "chat_messages_published_total", kind="direct") == 1
    assert value(sent, "chat_messages_published_total", kind="broadcast") == 1
    assert value(sent, "chat_redis_command_seconds_count") >= 3
    await wait_for_sample(two.http_port, lambda s: value(
        s, "chat_deliveries_total", kind="broadcast") == 2 and value(
        s, "chat_deliveries_total", kind="direct") == 1)
    received = await scrape(two.http_port)
    # Every message delivered here carried its publish time: one lag sample each.
    assert value(received, "chat_delivery_lag_seconds_count") == 2
    assert value(received, "chat_delivery_lag_seconds_bucket", le="+Inf") == 2
    assert value(received, "chat_deliveries_total", kind="presence") >= 1  # bob saw carol join
