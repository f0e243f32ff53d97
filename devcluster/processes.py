"""Child processes for the local cluster, the tests and the benchmark: free ports,
starting ``python -m node`` exactly as an operator would, waiting for its
``/healthz``, and stopping by PID. Stdlib only."""

import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> range:
    """Ports the kernel never picks for outgoing connections (Linux: below 32768)."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(20000, max(low, 20001))


def free_port() -> int:
    """A loopback port free right now, for a child process to listen on.

    Chosen below the kernel's ephemeral range: a port from there (what binding port 0
    returns) can be taken, before the child binds it, by any outgoing connection, such
    as a Redis client or the browser; that made nodes fail to start now and then."""
    candidates = _below_ephemeral()
    for _ in range(100):
        port = random.choice(candidates)
        if bindable(port):
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_run(count: int = 1, offset: int = 0) -> int:
    """The first of ``count`` consecutive loopback ports free right now; with
    ``offset``, each ``port + offset`` is free too (a Valkey Cluster node listens on
    both: clients on the port, the cluster bus on port + 10000).

    Below the ephemeral range where it leaves room for the run (Linux: 20000-22767,
    buses 30000-32767 for offset 10000); else anywhere the run fits under 65536."""
    below = _below_ephemeral()
    candidates = range(below.start, below.stop - count - offset)
    if len(candidates) < 100:
        candidates = range(below.start, 65536 - count - offset)
    for _ in range(200):
        base = random.choice(candidates)
        ports = range(base, base + count)
        if all(bindable(port) and (not offset or bindable(port + offset)) for port in ports):
            return base
    raise RuntimeError(f"no run of {count} free loopback ports")


def bindable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port`` right now. With SO_REUSEADDR, as
    servers bind: connections of a server just stopped, in TIME_WAIT, do not count."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen()
        except OSError:
            return False
        return True


def node_command(redis_url: str, *, node_id: str, tcp_port: int, http_port: int,
                 host: str = "127.0.0.1", key_prefix: str = "chat",
                 extra: Sequence[str] = ()) -> list[str]:
    """The documented command line of one node."""
    return [sys.executable, "-m", "node", "--redis-url", redis_url, "--host", host,
            "--tcp-port", str(tcp_port), "--http-port", str(http_port),
            "--node-id", node_id, "--key-prefix", key_prefix, *extra]


def healthy(http_port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{http_port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_healthy(process: subprocess.Popen[bytes], http_port: int, name: str,
                 host: str = "127.0.0.1", timeout: float = 30) -> None:
    """Return once the node answers 200; RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while not healthy(http_port, host):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not become healthy within {timeout:g} s")
        time.sleep(0.05)  # polling /healthz with a deadline


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Ask a child to stop (SIGTERM); kill it if it has not within ``timeout``."""
    stop_processes([process], timeout)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 10) -> None:
    """SIGTERM all at once (they drain in parallel), then wait; kill the stragglers."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
