"""Headless Chromium (Debian's package) driven by Playwright, node processes and a
link to Redis that can stall, for the browser tests, which use Playwright's
synchronous API."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from client.lines import split_lines
from devcluster.processes import start_node, stop_process, wait_healthy

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class NodeProc:
    """A node that can be stopped and started again on the same ports."""

    redis_url: str
    key_prefix: str
    node_id: str
    tcp_port: int = 0
    http_port: int = 0
    extra: tuple[str, ...] = ()  # more node flags, e.g. ("--login-timeout", "1")
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def start(self) -> "NodeProc":
        node = start_node(self.redis_url, self.node_id, tcp_port=self.tcp_port or None,
                          http_port=self.http_port or None, key_prefix=self.key_prefix,
                          extra=self.extra, log_path=Path(os.devnull))
        self.tcp_port, self.http_port, self.process = node.tcp_port, node.http_port, node.process
        try:
            wait_healthy(node, timeout=20)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.resume()  # a paused node would not act on SIGTERM
            stop_process(self.process)

    def pause(self) -> None:
        """SIGSTOP: the node is frozen, its sockets stay open (a long GC pause, a VM
        migration); once past --heartbeat-ttl the others reap its users."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as in a crash: the node says nothing to anyone before it is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()


class LineSocket:
    """A plain TCP line client, for a terminal user in a browser test."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.lines: deque[bytes] = deque()  # received, not yet read
        self.pending = b""  # after the last newline

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")

    def expect(self, wanted: str | Callable[[str], bool]) -> str:
        """Read lines until one is ``wanted`` (or passes it); that line."""
        while True:
            while not self.lines:
                data = self.sock.recv(65536)
                assert data, f"closed while waiting for {wanted!r}"
                lines, self.pending = split_lines(self.pending, data)
                self.lines.extend(lines)
            line = self.lines.popleft().decode()
            if line == wanted or (callable(wanted) and wanted(line)):
                return line

    def close(self) -> None:
        self.sock.close()


class HoldingLink:
    """A TCP relay from a node to Redis that can hold back what the node sends: a
    link that stalls at just the wrong moment, to make a race window happen on cue.

    ``hold(match)``: the first chunk the node sends that ``match`` accepts, and all
    that follows it on that connection, wait until ``let_go()`` (order is kept; other
    connections and Redis's answers flow on). ``held`` is set once something waits."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._match: Callable[[bytes], bool] | None = None
        self.held = threading.Event()
        self._go = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def hold(self, match: Callable[[bytes], bool]) -> None:
        self._match = match

    def let_go(self) -> None:
        self._go.set()

    def close(self) -> None:
        self._go.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self._listener.close()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while True:
            try:
                node_side, _ = self._listener.accept()
                redis_side = socket.create_connection(("127.0.0.1", self._upstream_port))
            except OSError:
                return  # closed
            self._sockets += [node_side, redis_side]
            for args in ((node_side, redis_side, True), (redis_side, node_side, False)):
                self._threads.append(threading.Thread(target=self._pump, args=args, daemon=True))
                self._threads[-1].start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_node: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if from_node and self._match is not None and self._match(chunk):
                    self._match = None
                    self.held.set()
                    self._go.wait(timeout=60)
                sink.sendall(chunk)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def two_node_procs(redis_url: str, key_prefix: str, name: str,
                   extra: tuple[str, ...] = ()) -> Iterator[list[NodeProc]]:
    """``<name>-1`` and ``<name>-2`` as processes; both stopped afterwards, and a node
    that fails to start does not leave the first one running."""
    nodes: list[NodeProc] = []
    try:
        for index in (1, 2):
            nodes.append(NodeProc(redis_url, key_prefix, f"{name}-{index}", extra=extra))
            nodes[-1].start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()
