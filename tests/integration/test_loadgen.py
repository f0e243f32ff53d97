"""The load generator, small: 20 users over two in-process nodes, 10 broadcasts."""

import pytest

from client.loadgen import LoadConfig, latency_ms, percentile, run_load, split_evenly
from tests.support.nodes import NodeRunner


@pytest.mark.parametrize(("fraction", "expected"),
                         [(0.0, 1.0), (0.5, 5.0), (0.99, 10.0), (1.0, 10.0), (0.11, 2.0)])
def test_percentile_is_nearest_rank(fraction: float, expected: float) -> None:
    assert percentile([float(v) for v in range(1, 11)], fraction) == expected


def test_latency_summary_and_split() -> None:
    assert percentile([], 0.5) == 0.0
    assert latency_ms([0.002, 0.001], (0.5, 1.0)) == {"p50_ms": 1.0, "max_ms": 2.0}
    assert split_evenly(10, 4) == [3, 3, 2, 2]


async def _two_nodes(nodes: NodeRunner, **load: object) -> LoadConfig:
    node_a, node_b = await nodes.start(), await nodes.start()
    return LoadConfig(nodes=(("127.0.0.1", node_a.tcp_port), ("127.0.0.1", node_b.tcp_port)),
                      request_timeout=3, phase_timeout=4, settle_timeout=3,
                      **load)  # type: ignore[arg-type]


async def test_every_user_gets_every_broadcast(nodes: NodeRunner) -> None:
    summary = await run_load(await _two_nodes(nodes, users=20, messages=10, mode="broadcast"))
    delivery = summary["delivery"]
    assert isinstance(delivery, dict)
    assert summary["failures"] == []
    assert delivery["expected"] == delivery["received"] == 20 * 10
    assert delivery["losses"] == delivery["duplicates"] == delivery["reordered"] == 0
    assert summary["ok"] is True


async def test_direct_messages_reach_their_targets(nodes: NodeRunner) -> None:
    summary = await run_load(await _two_nodes(nodes, users=10, messages=20, mode="direct"))
    delivery = summary["delivery"]
    assert isinstance(delivery, dict)
    assert summary["failures"] == []
    assert delivery["received"] == 20 and delivery["losses"] == delivery["duplicates"] == 0
    assert summary["ok"] is True
