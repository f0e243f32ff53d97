"""Reading a node's ``GET /metrics`` in tests: every sample by name and labels."""

from collections.abc import Callable

import trio
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import http_get_with_headers

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; KeyError if the node does not export it."""
    return samples[(name, frozenset(labels.items()))]


async def scrape(http_port: int) -> Samples:
    status, _, body = await http_get_with_headers(http_port, "/metrics")
    assert status == 200, body
    return parse(body)


async def wait_for_sample(http_port: int, check: Callable[[Samples], bool],
                          timeout: float = 5) -> Samples:
    """Scrape until ``check`` holds (a gauge that follows a connection's end)."""
    with trio.fail_after(timeout):
        while not check(samples := await scrape(http_port)):
            await trio.sleep(0.02)  # polling /metrics with a deadline
    return samples
