"""``python -m bench.socketio_client_cost``: what receiving one socket.io broadcast costs
this process, with python-socketio's own asyncio client versus the trio driver that
``bench.compare`` uses (wsproto frames, python-engineio/python-socketio packet codecs,
buffers compared in bulk). Same peer, same sizes, one after the other in one process.

Needs ``pip install "python-socketio[asyncio_client]"`` (aiohttp) besides the bench
extra. The figure is this process's CPU time (``time.process_time``) from the first
send to the last delivery, per delivery; the result is in docs/decisions.md.
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import trio

from bench.servers import PeerInstall, start_peer
from client.loadgen_wire import SocketIo
from client.loadgen_workloads import BroadcastPlan, broadcast


async def python_socketio(url: str, receivers: int, messages: int) -> dict[str, float]:
    import socketio  # the asyncio client; imported here so bench.compare needs no aiohttp

    done, counts = asyncio.Event(), [0]
    expected = receivers * messages
    clients = []
    for index in range(receivers + 1):
        client = socketio.AsyncClient(reconnection=False)
        if index < receivers:
            @client.on("msgall")
            async def on_msgall(data: dict[str, str]) -> None:
                counts[0] += 1
                if counts[0] == expected:
                    done.set()
        await client.connect(url, transports=["websocket"])
        await client.call("login", f"c{index}", timeout=10)
        clients.append(client)
    sender = clients[-1]
    began, cpu = time.perf_counter(), time.process_time()
    for number in range(messages):
        await sender.emit("msgall", f"{number} {time.perf_counter():.6f}")
    await asyncio.wait_for(done.wait(), timeout=60)
    used, wall = time.process_time() - cpu, time.perf_counter() - began
    for client in clients:
        await client.disconnect()
    return {"deliveries": counts[0], "generator_us": round(used / counts[0] * 1e6, 2),
            "deliveries_per_s": round(counts[0] / wall)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.socketio_client_cost")
    parser.add_argument("--receivers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    install = PeerInstall()
    try:
        with tempfile.TemporaryDirectory(prefix="chat-sio-cost-") as logs:
            cluster = start_peer(install, 2, Path(logs))
            try:
                host, port = cluster.http[0]
                found = asyncio.run(python_socketio(f"http://{host}:{port}",
                                                    args.receivers, args.messages))
                print("python-socketio AsyncClient (asyncio):", found)
                plan = BroadcastPlan(cluster.http, receivers=args.receivers,
                                     messages=args.messages)
                result = trio.run(broadcast, SocketIo(), plan, dict)
                print("trio + wsproto + engineio/socketio codecs:",
                      {key: result[key] for key in ("deliveries", "generator_us",
                                                    "deliveries_per_s")})
            finally:
                cluster.stop()
    finally:
        install.cleanup()


if __name__ == "__main__":
    main()
