"""devcluster.cluster_nodes: one node's CLUSTER NODES reply, parsed."""

from devcluster.cluster_nodes import parse_nodes

# As Valkey 8 prints it (ids shortened): three primaries and their replicas, the bus
# port and hostname after the address, one slot being migrated.
SETTLED = """\
a1 127.0.0.1:7001@17001,host-a master - 0 1700 1 connected 0-5460 [5461->-b2]
b2 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 5461-10922
c3 127.0.0.1:7003@17003 master - 0 1700 3 connected 10923-16383
d4 127.0.0.1:7004@17004 slave a1 0 1700 1 connected
e5 127.0.0.1:7005@17005 slave b2 0 1700 2 connected
f6 127.0.0.1:7006@17006 slave c3 0 1700 3 connected
"""

# After 7001 died and its replica 7004 took over its slots.
FAILED_OVER = """\
a1 127.0.0.1:7001@17001 master,fail - 1700 1690 1 disconnected
b2 127.0.0.1:7002@17002 master - 0 1700 2 connected 5461-10922
c3 127.0.0.1:7003@17003 myself,master - 0 0 3 connected 10923-16383
d4 127.0.0.1:7004@17004 master - 0 1700 4 connected 0-5460
e5 127.0.0.1:7005@17005 slave b2 0 1700 2 connected
f6 127.0.0.1:7006@17006 slave c3 0 1700 3 connected
"""


def test_settled_cluster() -> None:
    view = parse_nodes(SETTLED)
    assert [node.port for node in view.nodes] == [7001, 7002, 7003, 7004, 7005, 7006]
    assert view.primaries() == [7001, 7002, 7003]
    assert view.replicas_of(7001) == [7004]
    assert view.slots_of(7001) == ((0, 5460),)
    assert view.primary_for_slot(0) == 7001
    assert view.primary_for_slot(5461) == 7002
    assert view.primary_for_slot(16383) == 7003
    assert view.complete(primaries=3, replicas_per_primary=1)
    assert not view.complete(primaries=3, replicas_per_primary=0)


def test_the_layout_ignores_who_is_myself() -> None:
    other_node = SETTLED.replace("myself,master", "master").replace(
        "c3 127.0.0.1:7003@17003 master", "c3 127.0.0.1:7003@17003 myself,master")
    assert parse_nodes(other_node).layout() == parse_nodes(SETTLED).layout()


def test_after_failover() -> None:
    view = parse_nodes(FAILED_OVER)
    assert view.primaries() == [7002, 7003, 7004]
    assert view.primary_for_slot(100) == 7004
    assert not view.nodes[0].healthy
    assert not view.complete(primaries=3, replicas_per_primary=1)
    assert parse_nodes(FAILED_OVER).layout() != parse_nodes(SETTLED).layout()


def test_a_suspected_node_is_not_healthy() -> None:
    view = parse_nodes(SETTLED.replace("c3 127.0.0.1:7003@17003 master",
                                       "c3 127.0.0.1:7003@17003 master,fail?"))
    assert view.primaries() == [7001, 7002]
    assert not view.complete(primaries=3, replicas_per_primary=1)
