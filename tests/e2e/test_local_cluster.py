"""`python -m devcluster` (what `python3 dev.py cluster` runs): Redis plus three
nodes on fixed, printed ports; two line clients on two nodes chat; Ctrl-C (or SIGTERM,
what ``kill PID`` sends) stops all."""

import functools
import os
import random
import signal
import socket
import subprocess
import sys

import pytest
import trio

from devcluster.redis_server import ping
from tests.support.clients import TcpClient, starts
from tests.support.processes import http_get


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        base = random.randrange(20000, 60000)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
async def test_local_cluster_runs_chats_and_stops_on_a_signal(
        nursery: trio.Nursery, stop_signal: signal.Signals) -> None:
    tcp, http, redis_port = _free_run(3), _free_run(3), _free_run(1)
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    command = [sys.executable, "-m", "devcluster", "--tcp-port", str(tcp),
               "--http-port", str(http), "--redis-port", str(redis_port),
               "--key-prefix", "devtest"]
    process: trio.Process = await nursery.start(functools.partial(
        trio.run_process, command, check=False, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    printed = b""
    try:
        with trio.fail_after(30):
            while b"Ctrl-C stops everything" not in printed:
                chunk = await process.stdout.receive_some(65536)
                assert chunk, f"devcluster ended early: {printed.decode()}"
                printed += chunk
        text = printed.decode()

        async def drain() -> None:  # keep the nodes' log pipe from filling up
            while await process.stdout.receive_some(65536):
                pass

        nursery.start_soon(drain)
        for index in range(3):
            assert f"node-{index + 1}: nc 127.0.0.1 {tcp + index}" in text
            assert (await http_get(http + index, "/healthz"))[0] == 200

        alice = await TcpClient.connect(tcp)
        bob = await TcpClient.connect(tcp + 2)
        await alice.login("alice")
        assert await bob.login("bob") == ["alice", "bob"]
        assert await alice.request("userlist") == "ok userlist alice bob"
        assert await bob.request("msg alice over here") == "ok msg alice"
        assert await alice.expect(starts("msg ")) == "msg bob over here"
        assert await alice.request("msgall hi") == "ok msgall"
        assert await bob.expect(starts("msgall ")) == "msgall alice hi"
    finally:
        process.send_signal(stop_signal)
        with trio.fail_after(20):
            await process.wait()
    assert process.returncode == 0
    assert not ping(redis_port)
    for index in range(3):
        with trio.move_on_after(1):
            try:
                await http_get(http + index, "/healthz")
                raise AssertionError(f"node-{index + 1} still answers after {stop_signal.name}")
            except OSError:
                pass
