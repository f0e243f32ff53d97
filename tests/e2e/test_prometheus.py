"""A real Prometheus scrapes two live ``python -m node`` processes: what clients do
shows up in PromQL (logins by result, users and connections per node), and the PromQL
that ships in deploy/ (dashboard, alerts) runs against it."""

from pathlib import Path
from typing import Any

import trio

from devcluster.redis_server import RedisServer
from tests.support.clients import TcpClient
from tests.support.processes import NodeProcess, start_node_process
from tests.support.prometheus import prometheus_binary, run_prometheus
from tests.support.promql import alert_expressions, dashboard_expressions


def by_instance(result: list[dict[str, Any]]) -> dict[str, float]:
    return {series["metric"]["instance"]: float(series["value"][1]) for series in result}


async def test_prometheus_scrapes_two_nodes_and_sees_logins_users_and_connections(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], tmp_path: Path) -> None:
    prometheus_binary()  # skip loudly before starting anything
    for node_id in ("m1", "m2"):
        node_processes.append(
            await start_node_process(nursery, redis_server.url, key_prefix, node_id))
    m1, m2 = node_processes
    one, two = f"127.0.0.1:{m1.http_port}", f"127.0.0.1:{m2.http_port}"
    async with run_prometheus(nursery, [one, two], tmp_path) as prometheus:
        await prometheus.wait_for('up{job="chat"}',
                                  lambda result: by_instance(result) == {one: 1, two: 1})
        alice = await TcpClient.connect(m1.tcp_port)
        await alice.login("alice")
        bob, carol = await TcpClient.connect(m2.tcp_port), await TcpClient.connect(m2.tcp_port)
        await bob.login("bob")
        await carol.login("carol")
        assert (await carol.request("login Alice")).startswith("error already_logged_in")
        late = await TcpClient.connect(m2.tcp_port)
        assert (await late.request("login ALICE")).startswith("error name_taken")
        assert await bob.request("msgall hello") == "ok msgall"

        await prometheus.wait_for(
            'sum by (result) (chat_logins_total{result=~"ok|name_taken"})',
            lambda result: {s["metric"]["result"]: s["value"][1] for s in result}
            == {"ok": "3", "name_taken": "1"})
        await prometheus.wait_for("chat_users",
                                  lambda result: by_instance(result) == {one: 1, two: 2})
        await prometheus.wait_for('chat_connections{transport="tcp"}',
                                  lambda result: by_instance(result) == {one: 1, two: 3})

        await bob.request("logout")
        await late.close()
        await prometheus.wait_for("chat_users",
                                  lambda result: by_instance(result) == {one: 1, two: 1})
        await prometheus.wait_for('chat_connections{transport="tcp"}',
                                  lambda result: by_instance(result) == {one: 1, two: 1})
        # The process collector is there too, per node.
        assert set(by_instance(await prometheus.query("process_resident_memory_bytes"))) == {
            one, two}
        for expression in [*dashboard_expressions().values(), *alert_expressions().values()]:
            await prometheus.query(expression)  # Prometheus parses and evaluates each
