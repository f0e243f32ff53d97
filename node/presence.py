"""Names or a count: how this node tells its users who is online.

Up to ``presence_limit`` users online cluster-wide, everyone gets names: `users` at
login, then `join` and `leave`. Beyond it that is quadratic work (every login a line to
everyone, a list that grows with every login), so the cluster switches to counts:
newcomers get `online <n>`, nobody gets `join`/`leave`, and each node tells its users
the count once per liveness round when it changed. The switch is decided in Redis
(presence.lua) and announced on the broadcast channel, so every node flips at the same
point of the stream of joins and leaves; when the count is back at the limit every user
gets a fresh `users` line and joins resume (docs/protocol.md, "Presence").
"""

from typing import Protocol

from node import protocol
from node.local_users import LocalUsers
from node.names import sort_names


class Registry(Protocol):
    async def list_users(self) -> list[str]: ...

    async def check_presence(self, limit: int) -> int: ...


class Presence:
    def __init__(self, limit: int, local_users: LocalUsers) -> None:
        self.limit = limit
        self.listed = True
        self._local_users = local_users
        self._announced = -1  # the last count sent while counted

    async def switch(self, mode: str, online: int, registry: Registry) -> None:
        """The relay read a mode change from the channel; tell every local user."""
        if mode == "counted":
            self.listed = False
            self._announce(online)
            return
        # Read the list before any later join or leave is delivered (the relay waits).
        names = await registry.list_users()
        self.listed, self._announced = True, -1
        self._local_users.broadcast(protocol.event_line("users", *sort_names(names)))

    async def refresh(self, registry: Registry) -> None:
        """Each liveness round: check the mode in Redis (a safety net; logins and
        logouts already do) and, while counted, tell local users a changed count."""
        online = await registry.check_presence(self.limit)
        if not self.listed and online != self._announced and online > self.limit:
            self._announce(online)

    def _announce(self, online: int) -> None:
        self._announced = online
        self._local_users.broadcast(protocol.online_line(online))
