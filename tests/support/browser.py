"""Headless Chromium (Debian's package) driven by Playwright, and node processes
for the browser tests, which use Playwright's synchronous API."""

import shutil
import signal
import subprocess
from dataclasses import dataclass

from devcluster.processes import free_port, node_command, stop_process, wait_healthy

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class NodeProc:
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
        self.tcp_port = self.tcp_port or free_port()
        self.http_port = self.http_port or free_port()
        self.process = subprocess.Popen(
            node_command(self.redis_url, node_id=self.node_id, tcp_port=self.tcp_port,
                         http_port=self.http_port, key_prefix=self.key_prefix,
                         extra=self.extra),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy(self.process, self.http_port, self.node_id, timeout=20)
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
