"""Child processes for the local cluster, the tests and the benchmark: free ports,
starting ``python -m node`` exactly as an operator would (``node_command``,
``start_node``), reading its ``/healthz`` (``health``, ``users_from_health``) and
waiting on it, and stopping by PID. The one place these are written. Stdlib only."""

import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
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
        if bindable(port, reuse=False):
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
        if all(bindable(port, reuse=False) and (not offset or bindable(port + offset, reuse=False))
               for port in ports):
            return base
    raise RuntimeError(f"no run of {count} free loopback ports")


def bindable(port: int, host: str = "127.0.0.1", *, reuse: bool = True) -> bool:
    """Whether a server could listen on ``port`` right now. With ``reuse``
    (SO_REUSEADDR, as servers bind), connections of a server just stopped, in TIME_WAIT,
    do not count: right for ports asked for by number. A port picked at random should
    be free without it, so that a child binding without SO_REUSEADDR gets it too."""
    with socket.socket() as sock:
        if reuse:
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


@dataclass
class NodeProcess:
    """One ``python -m node`` child: its process, its id, where it listens, and the
    file its log (stderr) goes to (None: the log goes where ours goes)."""

    process: subprocess.Popen[bytes]
    node_id: str
    tcp_port: int
    http_port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None


def start_node(redis_url: str, node_id: str, *, tcp_port: int | None = None,
               http_port: int | None = None, host: str = "127.0.0.1",
               key_prefix: str = "chat", extra: Sequence[str] = (),
               log_path: Path | None = None, own_session: bool = False) -> NodeProcess:
    """Start one node with ``node_command``, on free ports unless given; it is not
    healthy yet (see ``wait_healthy``). With ``log_path`` its stderr goes to that file
    and its stdout nowhere; without, both go where ours go. ``own_session`` puts it
    out of reach of the terminal's Ctrl-C (whoever started it stops it)."""
    tcp_port = free_port() if tcp_port is None else tcp_port
    http_port = free_port() if http_port is None else http_port
    command = node_command(redis_url, node_id=node_id, tcp_port=tcp_port,
                           http_port=http_port, host=host, key_prefix=key_prefix, extra=extra)
    if log_path is None:
        process = subprocess.Popen(command, start_new_session=own_session)
    else:
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                                       start_new_session=own_session)
    return NodeProcess(process, node_id, tcp_port, http_port, host, log_path)


def health(http_port: int, host: str = "127.0.0.1",
           timeout: float = 1) -> tuple[int, str] | None:
    """The node's ``/healthz`` answer, (status, body); None if it gives none."""
    try:
        with urllib.request.urlopen(f"http://{host}:{http_port}/healthz",
                                    timeout=timeout) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as refusal:  # 503: not serving (the body says why)
        with refusal:
            return refusal.code, _body(refusal)
    except OSError:
        return None


def _body(refusal: urllib.error.HTTPError) -> str:
    try:
        return refusal.read().decode(errors="replace")
    except OSError:  # the connection went while the body was on its way
        return ""


def users_from_health(body: str) -> int | None:
    """N from a ``/healthz`` body ``ok <id> users=N``; None for any other body."""
    try:
        return int(body.rsplit("users=", 1)[1])
    except (IndexError, ValueError):
        return None


def local_users(node: NodeProcess, timeout: float = 1) -> int | None:
    """Users on the node, from ``/healthz``; None while it is not healthy."""
    answer = health(node.http_port, node.host, timeout)
    if answer is None or answer[0] != 200:
        return None
    return users_from_health(answer[1])


def wait_healthy(node: NodeProcess, timeout: float = 30) -> None:
    """Return once the node answers 200; RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while (answer := health(node.http_port, node.host)) is None or answer[0] != 200:
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.node_id} exited with {node.process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node.node_id} did not become healthy within {timeout:g} s")
        time.sleep(0.05)  # polling /healthz with a deadline


def wait_users(nodes: Sequence[NodeProcess], users: int, timeout: float,
               answer_timeout: float = 1) -> None:
    """Poll each node's ``/healthz`` until it is healthy and holds ``users`` users;
    RuntimeError if any of them exits, or past ``timeout`` (for all of them)."""
    deadline = time.monotonic() + timeout
    for node in nodes:
        while local_users(node, answer_timeout) != users:
            for each in nodes:
                if each.process.poll() is not None:
                    raise RuntimeError(f"{each.node_id} exited with {each.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.node_id}: not at {users} users within {timeout:g} s")
            time.sleep(0.1)  # polling /healthz with a deadline


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
