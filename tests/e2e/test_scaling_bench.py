"""bench.scaling on a tiny real setup: node processes on one Valkey and on a one-shard
Valkey Cluster. No timed assertions: what is checked is that its own counting adds
up (every message seen by Redis as the commands the design says, CPU split over the
processes that ran)."""

import argparse
from pathlib import Path

from bench.scaling import Config, parse_config, run_config
from bench.scaling_report import figures, idle_figures, markdown

TINY = argparse.Namespace(receivers_per_node=2, messages=30, broadcast_rate=0, pairs_per_node=2,
                          seconds=0.5, direct_rate_per_node=40, idle_users_per_node=3,
                          idle_seconds=0.5)


def test_configurations_parse() -> None:
    assert parse_config("3") == Config(3, 0)
    assert parse_config("3@1").label == "3 nodes, 1 shard"
    assert Config(1, 0).label == "1 node, one Valkey"


def test_one_valkey_publishes_from_the_scripts(tmp_path: Path) -> None:
    found = run_config(Config(2, 0), TINY, tmp_path)
    broadcast, direct = found["broadcast"], found["direct"]
    assert broadcast["ok"] is True and direct["ok"] is True
    assert found["redis"] == ["redis"] and found["roles"] == {}
    # Background work (heartbeats, probes) may add a few; every message is there.
    sent = {"broadcast": 30, "direct": 2 * direct["round_trips"]}
    for workload, messages in sent.items():
        calls = found[workload]["redis_calls"]
        assert calls["evalsha"] >= messages and calls["publish"] >= messages
    assert "spublish" not in broadcast["redis_calls"] | direct["redis_calls"]
    figure = figures(found, "broadcast")
    assert figure["units"] == 2 * 2 * 30 and figure["messages"] == 30
    assert figure["server_us"] > 0 and figure["commands_per_message"]["publish"] >= 1
    assert found["idle"]["ok"] is True and found["idle"]["users"] == 6
    assert idle_figures(found)["user_seconds"] > 0


def test_a_one_shard_cluster_publishes_sharded_only(tmp_path: Path) -> None:
    found = run_config(Config(1, 1), TINY, tmp_path)
    direct = found["direct"]
    assert found["broadcast"]["ok"] is True and direct["ok"] is True
    assert found["roles"] == {"registry": "redis-1", "node-1": "redis-1"}
    messages = 2 * direct["round_trips"]
    # On a cluster deliver.lua only looks up: the node then sends SPUBLISH itself.
    assert direct["redis_calls"]["evalsha"] >= messages
    assert direct["redis_calls"]["spublish"] >= messages
    assert "publish" not in found["broadcast"]["redis_calls"] | direct["redis_calls"]
    assert "1 node, 1 shard" in markdown({"1 node, 1 shard": found}, {}, "python -m bench.scaling")
