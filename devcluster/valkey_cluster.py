"""A real Valkey Cluster on loopback, for the tests and the local cluster: ``primaries``
primaries with ``replicas_per_primary`` replicas each, every node a ``valkey-server``
process (see ``redis_server``) stopped by PID. Stdlib only.

``valkey-cli --cluster create`` wants 3 primaries or more; a cluster of one primary
without replicas (one shard, for measuring what sharding changes) is made by giving
that one node every slot itself.

``start()`` returns once the cluster has settled: every node says
``cluster_state:ok``, every replica's link to its primary is up, and every node's
``CLUSTER NODES`` shows the same layout (who serves which slots, who replicates whom,
nobody failing). Anything started is stopped again if starting fails or is
interrupted.

Each node listens on a port and on its cluster bus, port + 10000 (Valkey's default);
both must be free, so ports are chosen with their bus ports (``processes.free_port_run``).
A short ``cluster-node-timeout`` makes failover take a few seconds, not fifteen.

Replication is asynchronous, and right after a replica's first sync its primary
streams writes to it only once the replica has acknowledged (within a second): a test
that needs a write to survive a failover sends ``WAIT 1 <ms>`` on the connection that
wrote it (``resp.call_all``), not on a new one, where WAIT waits for nothing.
"""

import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from devcluster.cluster_nodes import SLOTS, ClusterView, parse_nodes
from devcluster.processes import bindable, free_port_run, stop_processes
from devcluster.redis_server import RedisServer, find_cli_binary, find_server_binary
from devcluster.resp import Reply, ReplyError, call

BUS_OFFSET = 10000
NODE_TIMEOUT_MS = 1000
POLL_INTERVAL = 0.05
T = TypeVar("T")


class ValkeyCluster:
    """Use as a context manager, or call ``start()`` and, in a ``finally``, ``stop()``.

    ``ports`` fixes the nodes' ports (both each port and its bus port must be free);
    by default free ones are chosen. ``own_session`` as for ``RedisServer``."""

    def __init__(self, primaries: int = 3, replicas_per_primary: int = 0, *,
                 ports: Sequence[int] = (), node_timeout_ms: int = NODE_TIMEOUT_MS,
                 own_session: bool = False) -> None:
        if primaries < 1 or (primaries < 3 and (primaries, replicas_per_primary) != (1, 0)):
            raise ValueError("a Valkey Cluster here has 3 primaries or more (valkey-cli "
                             "--cluster create refuses fewer), or one without replicas")
        count = primaries * (1 + replicas_per_primary)
        if ports and len(ports) != count:
            raise ValueError(f"{count} ports needed, {len(ports)} given")
        self.primaries, self.replicas_per_primary = primaries, replicas_per_primary
        self.binary, self.cli = find_server_binary(), find_cli_binary()
        self.node_timeout_ms, self.own_session = node_timeout_ms, own_session
        self._requested, self._count = tuple(ports), count
        self._servers: dict[int, RedisServer] = {}
        self._view: ClusterView | None = None

    @property
    def ports(self) -> list[int]:
        return list(self._servers)

    @property
    def view(self) -> ClusterView:
        """The layout as last seen settled (after ``start`` or ``wait_promoted``)."""
        if self._view is None:
            raise RuntimeError("the cluster has not started")
        return self._view

    @property
    def seed_port(self) -> int:
        """A primary that is running: where a cluster client starts from."""
        return next(port for port in self.view.primaries() if self.running(port))

    @property
    def seed_url(self) -> str:
        return f"redis://127.0.0.1:{self.seed_port}"

    def pids(self) -> dict[int, int]:
        return {port: server.process.pid for port, server in self._servers.items()
                if server.process is not None}

    def running(self, port: int) -> bool:
        process = self._servers[port].process
        return process is not None and process.poll() is None

    def start(self, timeout: float = 30) -> "ValkeyCluster":
        deadline = time.monotonic() + timeout
        try:
            for port in self._choose_ports():
                self._servers[port] = RedisServer(
                    port, self.binary, own_session=self.own_session,
                    options=self._node_options(port))
                self._servers[port].start()
            self._create(deadline)
            self._view = _wait_for(self._settled, deadline, "the cluster to settle")
        except BaseException:  # a timeout, a dead server, Ctrl-C: nothing left behind
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every server at once, SIGKILL any still there after 5 s."""
        stop_processes([server.process for server in self._servers.values()
                        if server.process is not None], timeout=5)
        for server in self._servers.values():
            server.stop()  # removes its directory

    def __enter__(self) -> "ValkeyCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kill(self, port: int, signum: signal.Signals = signal.SIGKILL) -> None:
        """Send ``signum`` to one server; after SIGKILL, return once it is gone."""
        process = self._servers[port].process
        assert process is not None
        process.send_signal(signum)
        if signum == signal.SIGKILL:
            process.wait(timeout=5)

    def run_cli(self, port: int, *args: str, timeout: float = 10) -> str:
        """valkey-cli against one node (add ``-c`` to follow redirects); its output."""
        result = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"valkey-cli {' '.join(args)}: {result.stderr}{result.stdout}")
        return result.stdout

    def primary_for_key(self, key: str) -> int:
        slot = _ask(self._answering()[0], "CLUSTER", "KEYSLOT", key)
        if not isinstance(slot, int):
            raise RuntimeError(f"CLUSTER KEYSLOT answered {slot!r}")
        return self.primary_for_slot(slot)

    def primary_for_slot(self, slot: int) -> int:
        """The port of the primary serving ``slot``, as a running node sees it now."""
        port = self._current_view(self._answering()[0]).primary_for_slot(slot)
        if port is None:
            raise LookupError(f"no primary serves slot {slot}")
        return port

    def wait_promoted(self, old_primary: int, timeout: float = 30) -> int:
        """Wait until a replica of ``old_primary`` serves its slots, in the eyes of every
        other running node, and each says ``cluster_state:ok``; the new primary's port."""
        replicas, slots = self.view.replicas_of(old_primary), self.view.slots_of(old_primary)
        if not replicas or not slots:
            raise ValueError(f"{old_primary} is not a primary with replicas")

        def promoted() -> tuple[int, ClusterView] | None:
            others = [port for port in self.ports if port != old_primary and self.running(port)]
            views = [self._current_view(port) for port in others if self._cluster_ok(port)]
            owners = {view.primary_for_slot(slots[0][0]) for view in views}
            owner = owners.pop() if len(owners) == 1 else None
            if owner is None or owner not in replicas or len(views) < len(others):
                return None
            return owner, views[0]

        new_primary, self._view = _wait_for(
            promoted, time.monotonic() + timeout, f"a replica of {old_primary} to take over")
        return new_primary

    def _choose_ports(self) -> list[int]:
        for port in self._requested:
            if port + BUS_OFFSET > 65535 or not (bindable(port) and bindable(port + BUS_OFFSET)):
                raise RuntimeError(f"port {port} or its cluster bus port "
                                   f"{port + BUS_OFFSET} is taken")
        if self._requested:
            return list(self._requested)
        base = free_port_run(self._count, BUS_OFFSET)
        return list(range(base, base + self._count))

    def _node_options(self, port: int) -> list[str]:
        # A primary waits repl-diskless-sync-delay (5 s by default) for more replicas
        # before its first full sync: replicas' links would come up 5 s late.
        return ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                "--cluster-node-timeout", str(self.node_timeout_ms),
                "--repl-diskless-sync-delay", "0"]

    def _create(self, deadline: float) -> None:
        """valkey-cli assigns the slots, pairs replicas with primaries and introduces
        the nodes to each other; it returns once they all agree on the slots. A lone
        primary takes every slot itself."""
        if self.primaries == 1:
            call(self.ports[0], "CLUSTER", "ADDSLOTSRANGE", "0", str(SLOTS - 1))
            return
        try:
            result = subprocess.run(
                [self.cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
                 "--cluster-replicas", str(self.replicas_per_primary), "--cluster-yes"],
                capture_output=True, text=True, check=False,
                timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise TimeoutError("valkey-cli --cluster create took too long") from None
        if result.returncode != 0:
            raise RuntimeError(f"valkey-cli --cluster create failed:\n{result.stdout}"
                               f"{result.stderr}")

    def _settled(self) -> ClusterView | None:
        for port in self.ports:
            if not self.running(port):
                raise RuntimeError(f"the server on port {port} exited")
        if not all(self._cluster_ok(port) for port in self.ports):
            return None
        views = [self._current_view(port) for port in self.ports]
        if len({view.layout() for view in views}) != 1:
            return None
        view = views[0]
        if not view.complete(self.primaries, self.replicas_per_primary):
            return None
        replicas = [port for port in self.ports if port not in view.primaries()]
        return view if all(self._link_up(port) for port in replicas) else None

    def _answering(self) -> list[int]:
        """The running servers that answer PING (a paused one does not)."""
        ports = [port for port in self.ports if self.running(port)
                 and _ask(port, "PING") == "PONG"]
        if not ports:
            raise RuntimeError("no server of the cluster answers")
        return ports

    def _current_view(self, port: int) -> ClusterView:
        text = _ask(port, "CLUSTER", "NODES")
        return parse_nodes(text if isinstance(text, str) else "")

    def _cluster_ok(self, port: int) -> bool:
        return _fields(_ask(port, "CLUSTER", "INFO")).get("cluster_state") == "ok"

    def _link_up(self, port: int) -> bool:
        return _fields(_ask(port, "INFO", "replication")).get("master_link_status") == "up"


def _ask(port: int, *args: str) -> Reply:
    """One command; None when the server does not answer or answers an error."""
    try:
        return call(port, *args, timeout=1)
    except (OSError, ReplyError):
        return None


def _fields(text: Reply) -> dict[str, str]:
    """``key:value`` lines, as INFO and CLUSTER INFO print them."""
    if not isinstance(text, str):
        return {}
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key: value.strip() for key, value in pairs}


def _wait_for(condition: Callable[[], T | None], deadline: float, what: str) -> T:
    while (result := condition()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL)  # polling a condition, with a deadline
    return result
