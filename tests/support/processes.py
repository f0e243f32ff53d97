"""Nodes as separate processes of the test's trio run, started with the documented
command (``devcluster.processes.node_command``), and a bare HTTP GET."""

import functools
import resource
import signal
import subprocess
from dataclasses import dataclass
from typing import IO

import trio

from devcluster.processes import free_port, node_command


async def http_get(port: int, path: str) -> tuple[int, str]:
    """A bare HTTP/1.0 GET over a real socket: (status, body)."""
    status, _, body = await http_get_with_headers(port, path)
    return status, body


async def http_get_with_headers(port: int, path: str) -> tuple[int, dict[str, str], str]:
    """A bare HTTP/1.0 GET over a real socket: (status, headers in lower case, body)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body.decode()


async def wait_healthy(port: int, process: trio.Process | None = None,
                       timeout: float = 20) -> None:
    with trio.fail_after(timeout):
        while True:
            if process is not None and process.returncode is not None:
                raise AssertionError(f"process exited with {process.returncode}")
            try:
                if (await http_get(port, "/healthz"))[0] == 200:
                    return
            except (OSError, IndexError, ValueError):
                pass
            await trio.sleep(0.05)  # polling /healthz with a deadline


@dataclass
class NodeProcess:
    """A node child of the test's trio run (``devcluster.processes.NodeProcess`` is the
    same for code without trio)."""

    process: trio.Process
    node_id: str
    tcp_port: int
    http_port: int

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 10) -> int:
        with trio.fail_after(timeout):
            return await self.process.wait()


async def start_node_process(nursery: trio.Nursery, redis_url: str, key_prefix: str,
                             node_id: str, *extra: str, stderr: IO[bytes] | None = None,
                             open_files: int | None = None) -> NodeProcess:
    """Start ``python -m node``; ``stderr`` takes its log, ``open_files`` sets its
    RLIMIT_NOFILE (soft and hard, as ``ulimit -n`` does)."""
    tcp_port, http_port = free_port(), free_port()
    command = node_command(redis_url, node_id=node_id, tcp_port=tcp_port, http_port=http_port,
                           key_prefix=key_prefix, extra=extra)

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    process = await nursery.start(functools.partial(
        trio.run_process, command, check=False, stdout=subprocess.DEVNULL, stderr=stderr,
        preexec_fn=limit_open_files))
    node = NodeProcess(process, node_id, tcp_port, http_port)
    await wait_healthy(http_port, process)
    return node


def stop_process(node: NodeProcess) -> None:
    if node.process.returncode is None:
        node.process.kill()
