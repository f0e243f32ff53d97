"""Headless Chromium (Debian's package) driven by Playwright, and node processes
for the browser tests, which use Playwright's synchronous API."""

import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from devcluster.redis_server import free_port, stop_process

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


@dataclass
class NodeProc:
    redis_url: str
    key_prefix: str
    node_id: str
    tcp_port: int = 0
    http_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def start(self) -> "NodeProc":
        self.tcp_port = self.tcp_port or free_port()
        self.http_port = self.http_port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "node", "--redis-url", self.redis_url,
             "--key-prefix", self.key_prefix, "--node-id", self.node_id, "--host", "127.0.0.1",
             "--tcp-port", str(self.tcp_port), "--http-port", str(self.http_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not _healthy(self.http_port):
            assert self.process.poll() is None, f"{self.node_id} exited"
            assert time.monotonic() < deadline, f"{self.node_id} not healthy in 20 s"
            time.sleep(0.05)  # polling /healthz with a deadline
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
