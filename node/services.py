"""What every connection of a node shares: settings, the cluster, local users."""

from dataclasses import dataclass, field

from node.announcer import Announcer
from node.claim import Claim
from node.cluster import Cluster
from node.config import NodeConfig
from node.flusher import Flusher
from node.hearing import Hearing
from node.lease import Lease
from node.local_users import LocalUsers
from node.metrics import Metrics
from node.open_connections import OpenConnections
from node.presence import Presence


@dataclass
class NodeServices:
    config: NodeConfig
    cluster: Cluster
    announcer: Announcer
    connections: OpenConnections
    lease: Lease
    presence: Presence
    local_users: LocalUsers
    flusher: Flusher = field(default_factory=Flusher)
    hearing: Hearing = field(default_factory=Hearing)
    metrics: Metrics = field(default_factory=Metrics)
    # Claims whose release failed (Redis unreachable); the liveness loop retries them.
    unreleased: set[Claim] = field(default_factory=set)
    ready: bool = False
    # Set on stop, drain_seconds before `stopping`: /healthz fails, service goes on.
    draining: bool = False
    # Set when the node is stopping: it then releases all its users in one step.
    stopping: bool = False
