"""keys.py: every Redis key and channel name, under one prefix."""

from collections.abc import Callable

import pytest

from node.keys import Keys

CASES: list[tuple[str, Callable[[Keys], str], str]] = [
    ("users", lambda k: k.users, "{p}:users"),
    ("names", lambda k: k.names, "{p}:names"),
    ("nodes", lambda k: k.nodes, "{p}:nodes"),
    ("node_users", lambda k: k.node_users("n1"), "{p}:node:n1:users"),
    ("node_alive", lambda k: k.node_alive("n1"), "{p}:node:n1:alive"),
    ("broadcast_channel", lambda k: k.broadcast_channel, "{p}:broadcast"),
    ("node_channel", lambda k: k.node_channel("n1"), "{p}:node:n1"),
    ("node_channel_prefix", lambda k: k.node_channel_prefix, "{p}:node:"),
]


@pytest.mark.parametrize("prefix", ["chat", "t0123456789ab"])
@pytest.mark.parametrize("build, template", [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_key_names(prefix: str, build: Callable[[Keys], str], template: str) -> None:
    assert build(Keys(prefix)) == template.format(p=prefix)


def test_default_prefix_is_chat() -> None:
    assert Keys().users == "chat:users"


@pytest.mark.parametrize("node_id", ["n1", "node-2.eu_west"])
def test_node_channel_is_prefix_plus_id(node_id: str) -> None:
    # The Lua scripts build a holder's channel this way; the two must agree.
    keys = Keys("p")
    assert keys.node_channel(node_id) == keys.node_channel_prefix + node_id


def test_every_key_differs() -> None:
    keys = Keys("chat")
    built = [build(keys) for _, build, _ in CASES]
    assert len(set(built)) == len(built)


def test_prefixes_keep_tests_apart() -> None:
    one, two = Keys("t1"), Keys("t2")
    assert {build(one) for _, build, _ in CASES}.isdisjoint(build(two) for _, build, _ in CASES)


CLUSTER_CASES = [
    (lambda k: k.users, "{chat}:users"),
    (lambda k: k.claims, "{chat}:claims"),
    (lambda k: k.node_users("n1"), "{chat}:node:n1:users"),
    (lambda k: k.node_alive("n1"), "{chat}:node:n1:alive"),
    (lambda k: k.broadcast_channel, "{chat}:broadcast"),
    # Node channels carry no hash tag: they spread over the cluster's shards.
    (lambda k: k.node_channel("n1"), "chat:node:n1"),
]


@pytest.mark.parametrize("build, expected", CLUSTER_CASES)
def test_on_a_cluster_the_keys_share_one_hash_tag(build: Callable[[Keys], str],
                                                  expected: str) -> None:
    assert build(Keys("chat", cluster=True)) == expected


def test_on_a_cluster_node_channels_still_match_the_prefix_lua_uses() -> None:
    keys = Keys("chat", cluster=True)
    assert keys.node_channel("n2") == keys.node_channel_prefix + "n2"
