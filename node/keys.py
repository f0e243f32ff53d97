"""Every Redis key and pub/sub channel name, built in one place under one prefix.

Data model (prefix ``chat`` by default):
  {p}:users              hash  display name -> node id     (operators: HGETALL chat:users)
  {p}:names              hash  folded name  -> display name (the atomic uniqueness claim)
  {p}:skeletons          hash  skeleton     -> folded name  (no two online names look alike)
  {p}:claims             hash  folded name  -> claim token  (which session holds it: the fence)
  {p}:nodes              set   ids of nodes that registered
  {p}:node:{id}:users    hash  folded name -> skeleton, held by that node (for cleanup)
  {p}:node:{id}:alive    string with a TTL, refreshed by the node's heartbeat
  {p}:registry           string, no TTL: set by the first heartbeat; gone = data lost
  {p}:recovering         string with a TTL: claims wait while nodes re-assert their users
  {p}:presence           "listed" or "counted": names or a count (presence.lua)
Channels:
  {p}:broadcast          msgall, join and leave envelopes for every node
  {p}:node:{id}          direct messages for the users held by that node

On a Redis Cluster (``cluster=True``) every key and the broadcast channel carry the
prefix as a hash tag, ``{chat}:users``, so they share one slot and every Lua script
stays atomic; the node channels keep the plain prefix, ``chat:node:<id>``, so they
spread over the shards (sharded pub/sub: SSUBSCRIBE / SPUBLISH).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "chat"
    cluster: bool = False

    @property
    def base(self) -> str:
        """What every key begins with: the prefix, as a hash tag on a cluster."""
        return f"{{{self.prefix}}}" if self.cluster else self.prefix

    @property
    def users(self) -> str:
        return f"{self.base}:users"

    @property
    def names(self) -> str:
        return f"{self.base}:names"

    @property
    def skeletons(self) -> str:
        return f"{self.base}:skeletons"

    @property
    def claims(self) -> str:
        return f"{self.base}:claims"

    @property
    def registry_marker(self) -> str:
        return f"{self.base}:registry"

    @property
    def recovering(self) -> str:
        return f"{self.base}:recovering"

    @property
    def presence(self) -> str:
        return f"{self.base}:presence"

    @property
    def nodes(self) -> str:
        return f"{self.base}:nodes"

    def node_users(self, node_id: str) -> str:
        return f"{self.base}:node:{node_id}:users"

    def node_alive(self, node_id: str) -> str:
        return f"{self.base}:node:{node_id}:alive"

    @property
    def broadcast_channel(self) -> str:
        return f"{self.base}:broadcast"

    def node_channel(self, node_id: str) -> str:
        return f"{self.node_channel_prefix}{node_id}"

    @property
    def node_channel_prefix(self) -> str:
        """Lua scripts append the holder's node id to this to address its channel."""
        return f"{self.prefix}:node:"
