"""One node's view of a Valkey Cluster, parsed from its ``CLUSTER NODES`` reply: who
listens on which port, who is primary of which slots, who replicates whom, who is
failing. Pure: text in, values out.

A line reads ``<id> <ip:port@bus[,hostname,...]> <flags> <primary id or -> <ping-sent>
<pong-received> <config-epoch> <link-state> <slot or range>...``; slots being migrated
show as ``[slot->-id]`` and are left out here.
"""

from dataclasses import dataclass

SLOTS = 16384
# Flags of a node the others cannot use right now (``fail?`` is one node's suspicion,
# ``fail`` the majority's verdict).
UNHEALTHY = frozenset({"fail", "fail?", "handshake", "noaddr"})


@dataclass(frozen=True)
class NodeEntry:
    node_id: str
    port: int
    primary_id: str | None  # None for a primary
    flags: frozenset[str]
    slots: tuple[tuple[int, int], ...]  # inclusive ranges

    @property
    def is_primary(self) -> bool:
        return "master" in self.flags

    @property
    def healthy(self) -> bool:
        return not self.flags & UNHEALTHY


@dataclass(frozen=True)
class ClusterView:
    nodes: tuple[NodeEntry, ...]  # in port order

    def port_of(self, node_id: str | None) -> int | None:
        return next((node.port for node in self.nodes if node.node_id == node_id), None)

    def primaries(self) -> list[int]:
        """Ports of the healthy primaries that serve slots."""
        return [node.port for node in self.nodes
                if node.is_primary and node.healthy and node.slots]

    def replicas_of(self, port: int) -> list[int]:
        return [node.port for node in self.nodes
                if not node.is_primary and self.port_of(node.primary_id) == port]

    def slots_of(self, port: int) -> tuple[tuple[int, int], ...]:
        return next((node.slots for node in self.nodes if node.port == port), ())

    def primary_for_slot(self, slot: int) -> int | None:
        for node in self.nodes:
            if node.is_primary and any(low <= slot <= high for low, high in node.slots):
                return node.port
        return None

    def layout(self) -> tuple[tuple[object, ...], ...]:
        """What every node must agree on: each node's port, role, primary, slots and
        health; not who is ``myself``, nor ping times."""
        return tuple((node.port, node.is_primary, self.port_of(node.primary_id),
                      node.slots, node.healthy) for node in self.nodes)

    def complete(self, primaries: int, replicas_per_primary: int) -> bool:
        """All nodes healthy, every slot served, each primary with its replicas."""
        expected = primaries * (1 + replicas_per_primary)
        served = sum(high - low + 1 for node in self.nodes if node.is_primary
                     for low, high in node.slots)
        return (len(self.nodes) == expected and all(node.healthy for node in self.nodes)
                and len(self.primaries()) == primaries and served == SLOTS
                and all(len(self.replicas_of(port)) == replicas_per_primary
                        for port in self.primaries()))


def parse_nodes(text: str) -> ClusterView:
    entries = [_parse_line(line) for line in text.splitlines() if line.strip()]
    return ClusterView(tuple(sorted(entries, key=lambda node: node.port)))


def _parse_line(line: str) -> NodeEntry:
    node_id, address, flags, primary, *rest = line.split()
    endpoint = address.split(",")[0].split("@")[0]
    slots = tuple(_slot_range(token) for token in rest[4:] if not token.startswith("["))
    return NodeEntry(node_id, int(endpoint.rsplit(":", 1)[1] or 0),
                     None if primary == "-" else primary,
                     frozenset(flags.split(",")), slots)


def _slot_range(token: str) -> tuple[int, int]:
    low, _, high = token.partition("-")
    return int(low), int(high or low)
