"""A real Prometheus server for tests: scraping given targets every second, on a free
loopback port, its data in a temporary directory, queried over its HTTP API."""

import functools
import json
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trio

from devcluster.processes import free_port
from tests.support.processes import http_get

SCRAPE_INTERVAL = "1s"
# Debian installs daemons in sbin on some releases; a non-login PATH may lack it.
FALLBACK_DIRECTORIES = ("/usr/sbin", "/usr/bin", "/usr/local/bin")


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    for directory in FALLBACK_DIRECTORIES:
        candidate = Path(directory) / "prometheus"
        if found is None and candidate.exists():
            found = str(candidate)
    if found is None:
        pytest.skip("SKIPPED LOUDLY: no `prometheus` binary on PATH or in /usr/sbin, so no "
                    "real Prometheus scraped the nodes; install Debian's prometheus package "
                    "(`python3 dev.py test` does as root)")
    return found


def scrape_config(targets: list[str], interval: str = SCRAPE_INTERVAL) -> str:
    """A Prometheus configuration scraping ``targets`` (host:port) as job ``chat``."""
    return json.dumps({  # JSON is YAML
        "global": {"scrape_interval": interval, "scrape_timeout": interval,
                   "evaluation_interval": interval},
        "scrape_configs": [{"job_name": "chat", "static_configs": [{"targets": targets}]}],
    }, indent=2)


@dataclass
class Prometheus:
    process: trio.Process
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result: [{"metric": {labels}, "value": [time, "text"]}]."""
        status, body = await http_get(self.port, f"/api/v1/query?query={quote(promql)}")
        assert status == 200, f"{promql}: {status} {body}"
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    async def wait_for(self, promql: str, check: Callable[[list[dict[str, Any]]], bool],
                       timeout: float = 20) -> list[dict[str, Any]]:
        """Query until ``check`` holds for the result; scrapes come every second."""
        result: list[dict[str, Any]] = []
        try:
            with trio.fail_after(timeout):
                while not check(result := await self.query(promql)):
                    await trio.sleep(0.2)  # polling the query API with a deadline
        except trio.TooSlowError:
            raise AssertionError(f"{promql} never matched within {timeout} s; last "
                                 f"{result}") from None
        return result

    def stop(self) -> None:
        """SIGTERM by PID (the test's fixture waits for the exit)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)


async def _wait_ready(server: Prometheus, timeout: float = 30) -> None:
    with trio.fail_after(timeout):
        while True:
            if server.process.returncode is not None:
                raise AssertionError(f"prometheus exited with {server.process.returncode}: "
                                     f"{server.output()}")
            try:
                if (await http_get(server.port, "/-/ready"))[0] == 200:
                    return
            except (OSError, IndexError, ValueError):
                pass
            await trio.sleep(0.1)  # polling /-/ready with a deadline


@asynccontextmanager
async def run_prometheus(nursery: trio.Nursery, targets: list[str],
                         directory: Path) -> AsyncIterator[Prometheus]:
    """Start Prometheus scraping ``targets``; stopped (SIGTERM, then kill) on exit."""
    binary = prometheus_binary()
    config = directory / "prometheus.yml"
    config.write_text(scrape_config(targets))
    port = free_port()
    log = directory / "prometheus.log"
    command = [binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}"]
    with log.open("wb") as output:
        process = await nursery.start(functools.partial(
            trio.run_process, command, check=False, stdout=subprocess.DEVNULL, stderr=output))
    server = Prometheus(process, port, log)
    try:
        await _wait_ready(server)
        yield server
    finally:
        server.stop()
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
