"""The Redis ring: the only module that imports the Redis client (valkey-glide).

Every call runs under ``trio.fail_after`` and maps any client error to one
``ClusterUnavailable``, so callers handle a single failure type. Multi-key
updates run as Lua scripts (``lua/*.lua``), so each is atomic across nodes.

On a Redis/Valkey Cluster (``cluster_mode``) the clients are glide's cluster clients,
every key shares one hash slot (keys.py), and pub/sub is sharded: channels are
SSUBSCRIBEd, scripts publish with SPUBLISH. A direct message's node channel lives in
another slot than the registry, so there it takes two steps: deliver.lua looks the
target up, then SPUBLISH (docs/protocol.md says what that changes).
"""

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import trio
from glide import (
    AdvancedGlideClientConfiguration,
    AdvancedGlideClusterClientConfiguration,
    BackoffStrategy,
    Batch,
    ClusterBatch,
    GlideClient,
    GlideClientConfiguration,
    GlideClusterClient,
    GlideClusterClientConfiguration,
    GlideError,
    Logger,
    LogLevel,
    NodeAddress,
    PeriodicChecksManualInterval,
    Script,
    ServerCredentials,
    SlotKeyRoute,
    SlotType,
)

from node.claim import Claim
from node.config import RedisTarget
from node.keys import Keys
from node.pipeline import Command, CommandPipeline
from node.session import ClaimOutcome
from node.status import NodeEntry

log = logging.getLogger(__name__)

Client = GlideClient | GlideClusterClient


class ClusterUnavailable(Exception):
    """Redis could not be reached, or answered with an error, within the timeout."""


class RegistryRecovering(ClusterUnavailable):
    """Redis lost its data moments ago; claims wait while nodes re-assert their users."""


class NameLost(Exception):
    """The session's claim token no longer holds its name in Redis (the node was reaped
    while cut off or paused, perhaps the name claimed by someone else): nothing was
    published on its behalf."""


def _source(name: str) -> str:
    return resources.files("node").joinpath("lua", f"{name}.lua").read_text()


def _script(name: str) -> Script:
    """A script glide runs by hash, loading it when Redis does not know it."""
    return Script(_source(name))


class _Lua:
    """A script the pipeline runs by hash (EVALSHA); ``_run_batch`` runs it by source
    (EVAL, which also caches it) where Redis does not know it. On a cluster the script
    publishes to shard channels: the same source with PUBLISH swapped for SPUBLISH."""

    def __init__(self, name: str, *, sharded: bool = False) -> None:
        code = _source(name)
        self.code = code.replace("redis.call('PUBLISH'", "redis.call('SPUBLISH'") if sharded \
            else code
        self.sha = hashlib.sha1(self.code.encode()).hexdigest()


class _Pipelined:
    """The scripts of the message path, in one pub/sub flavour."""

    def __init__(self, *, sharded: bool) -> None:
        self.claim = _Lua("claim", sharded=sharded)
        self.release = _Lua("release", sharded=sharded)
        self.deliver = _Lua("deliver", sharded=sharded)
        self.broadcast = _Lua("broadcast", sharded=sharded)
        self.presence = _Lua("presence", sharded=sharded)
        self.publish = _Lua("publish")  # used on a cluster only: it calls SPUBLISH itself
        scripts = (self.claim, self.release, self.deliver, self.broadcast, self.presence,
                   self.publish)
        self.by_sha = {script.sha: script for script in scripts}


_CLASSIC = _Pipelined(sharded=False)
_SHARDED = _Pipelined(sharded=True)
_REAP = _script("reap")
_REASSERT = _script("reassert")
_HEARTBEAT = _script("heartbeat")
REASSERT_CHUNK = 500  # sessions per reassert.lua call, to keep each script short
# glide reconnects after 50 ms, doubling for this many attempts, then at that pace
# (800 ms) for ever: a node is back within about a second of Redis.
RECONNECT_STEPS = 4
# How often glide checks that the subscriptions it wants are the ones Redis has, and
# resubscribes if not (its default, about 3 s, is how long a node stays deaf after a
# Redis restart).
PUBSUB_RECONCILE_MS = 200
# On a cluster, how often glide compares its view of the slots with the servers' (its
# default is 60 s): after a failover, requests for the dead primary's slots fail until
# the next check (docs/failure-modes.md).
TOPOLOGY_CHECK_SECONDS = 1


def _evalsha_command(script: _Lua, keys: list[str], args: list[str]) -> Command:
    return ["EVALSHA", script.sha, str(len(keys)), *keys, *args]


_NO_SCRIPT = ("noscript",)
# Errors with which a cluster refuses a command without running it, as glide words them
# ("An error was signalled by the server: - Moved: 856 127.0.0.1:20669").
_NOT_RUN = ("- moved:", "- ask:", "- tryagain:", "- clusterdown:")
REDIRECT_RETRY_SECONDS = 0.05


def _failed_with(results: list[object], errors: tuple[str, ...]) -> list[int]:
    """Where ``results`` holds a Redis error whose message names one of ``errors``."""
    return [index for index, result in enumerate(results) if isinstance(result, GlideError)
            and any(error in str(result).lower() for error in errors)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Cluster:
    """Cluster-wide operations of one node, on its command connection."""

    def __init__(self, client: Client, keys: Keys, node_id: str, timeout: float,
                 on_batch: Callable[[float], None] = lambda seconds: None) -> None:
        self._client = client
        self.keys = keys
        self.node_id = node_id
        self._timeout = timeout
        self._sharded = isinstance(client, GlideClusterClient)
        self._lua = _SHARDED if self._sharded else _CLASSIC
        self._on_batch = on_batch  # each batch's round trip in seconds (for /metrics)
        self.failures = 0  # operations that raised ClusterUnavailable (for /metrics)
        # The commands of the message path go to Redis in batches (pipeline.py).
        self.pipeline = CommandPipeline(self._run_batch)

    async def _run_batch(self, commands: list[Command]) -> list[object]:
        """Run ``commands`` as one pipeline (not a transaction): a result per command,
        an exception object for a command that failed. Scripts go by hash; if Redis
        has lost its script cache (a restart, a failover), those run once more by source
        (EVAL caches them again on whichever server owns their keys)."""
        with trio.fail_after(self._timeout):
            started = trio.current_time()
            results = list(await self._exec(commands))
            self._on_batch(trio.current_time() - started)
            while any(isinstance(result, GlideError) for result in results):
                unknown = _failed_with(results, _NO_SCRIPT)
                # A cluster in the middle of a failover or a slot move may answer "not
                # here, not yet" (MOVED and the like): nothing ran, so it is safe to send
                # the command again once the client has caught up, until the deadline.
                # (A promoted replica does not know the scripts either: NOSCRIPT next.)
                redirected = _failed_with(results, _NOT_RUN)
                if not unknown and not redirected:
                    break  # failures of their own: each goes to its caller
                if redirected:
                    await trio.sleep(REDIRECT_RETRY_SECONDS)  # glide refreshes its slot map
                again = [*unknown, *redirected]
                retried = await self._exec([self._by_source(commands[index]) for index in unknown]
                                           + [commands[index] for index in redirected])
                for index, result in zip(again, retried, strict=True):
                    results[index] = result
        return results

    def _by_source(self, command: Command) -> Command:
        """``EVALSHA sha ...`` as ``EVAL source ...``."""
        return ["EVAL", self._lua.by_sha[command[1]].code, *command[2:]]

    async def _exec(self, commands: list[Command]) -> list[object]:
        batch = ClusterBatch(is_atomic=False) if self._sharded else Batch(is_atomic=False)
        for command in commands:
            batch.custom_command(command)
        return list(await self._client.exec(batch, raise_on_error=False) or [])

    def _unavailable(self, operation: str, error: BaseException) -> ClusterUnavailable:
        self.failures += 1
        return ClusterUnavailable(f"{operation}: {error!r}")

    async def _pipelined(self, operation: str, command: Command) -> Any:
        # No deadline of its own: the batch it rides in has one (_run_batch).
        try:
            return await self.pipeline.call(command)
        except (GlideError, trio.TooSlowError, OSError) as exc:
            raise self._unavailable(operation, exc) from exc

    async def _evalsha(self, operation: str, script: "_Lua", keys: list[str],
                       args: list[str]) -> Any:
        return await self._pipelined(operation, _evalsha_command(script, keys, args))

    def _presence_command(self, limit: int) -> Command:
        keys = self.keys
        return _evalsha_command(self._lua.presence, [keys.users, keys.presence],
                                [keys.broadcast_channel, str(limit)])

    async def _with_presence(self, operation: str, command: Command, limit: int) -> Any:
        """``command``, then presence.lua in the same batch: a login or logout that
        crosses the presence limit switches the cluster's presence mode at once."""
        try:
            result, _ = await self.pipeline.call_many([command, self._presence_command(limit)])
        except (GlideError, trio.TooSlowError, OSError) as exc:
            raise self._unavailable(operation, exc) from exc
        if isinstance(result, BaseException):
            raise self._unavailable(operation, result)
        return result

    async def check_presence(self, limit: int) -> int:
        """Run presence.lua (switching the mode if the count crossed the limit); the
        number of users online."""
        return int(await self._pipelined("presence", self._presence_command(limit)))

    async def presence_listed(self) -> bool:
        """Is the cluster's presence mode "listed" (names) rather than "counted"?"""
        mode = await self._pipelined("get", ["GET", self.keys.presence])
        return mode != b"counted"

    async def _call(self, operation: str, coro_fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with trio.fail_after(self._timeout):
                return await coro_fn(*args, **kwargs)
        except (GlideError, trio.TooSlowError, OSError) as exc:
            raise self._unavailable(operation, exc) from exc

    def _user_keys(self, node_id: str | None = None) -> list[str]:
        keys = self.keys
        return [keys.names, keys.skeletons, keys.claims, keys.users,
                keys.node_users(node_id or self.node_id)]

    async def _script(self, name: str, script: Script, keys: list[str], args: list[str]) -> Any:
        return await self._call(name, self._client.invoke_script, script, keys=keys, args=args)

    async def ping(self) -> None:
        """Does the server holding the registry answer? (On a cluster: the primary of
        the registry's slot, the one every login and message needs.)"""
        if isinstance(self._client, GlideClusterClient):
            route = SlotKeyRoute(SlotType.PRIMARY, self.keys.users)
            await self._call("ping", self._client.ping, route=route)
        else:
            await self._call("ping", self._client.ping)

    async def claim(self, claim: Claim, presence_limit: int) -> ClaimOutcome:
        keys = [*self._user_keys(), self.keys.recovering, self.keys.registry_marker]
        result = await self._with_presence("claim", _evalsha_command(self._lua.claim, keys, [
            claim.folded, claim.skeleton, claim.display, self.node_id, claim.token,
            str(presence_limit)]), presence_limit)
        if result[0] == -1:
            raise RegistryRecovering("Redis lost its data; nodes are re-asserting their users")
        if result[0] == 0:
            return ClaimOutcome(won=False, holder=_text(result[1]))
        if result[0] == 2:
            return ClaimOutcome(won=True, online=int(result[1]))
        return ClaimOutcome(won=True, users=[_text(u) for u in result[1]])

    async def release(self, claim: Claim, presence_limit: int) -> bool:
        result = await self._with_presence("release", _evalsha_command(
            self._lua.release, self._user_keys(),
            [claim.folded, claim.skeleton, claim.display, self.node_id, claim.token]),
            presence_limit)
        return result == 1

    async def send_direct(self, sender: Claim, target_folded: str, payload: str) -> str | None:
        """Publish ``payload`` to the node holding the user; their display name, or None
        if nobody of that name is online. NameLost if ``sender`` lost its own name."""
        keys = self.keys
        # On a cluster the node channel is in another slot: deliver.lua only looks up.
        prefix, envelope = ("", "") if self._sharded else (keys.node_channel_prefix, payload)
        result = await self._evalsha("deliver", self._lua.deliver,
                                     [keys.names, keys.users, keys.claims],
                                     [target_folded, prefix, envelope, sender.folded, sender.token])
        if result[0] == -1:
            raise NameLost(sender.display)
        if result[0] != 1:
            return None
        if self._sharded:
            await self.publish(keys.node_channel(_text(result[2])), payload)
        return _text(result[1])

    async def broadcast(self, sender: Claim, payload: str) -> None:
        """Publish a broadcast for ``sender``; NameLost if it no longer holds its name."""
        keys = self.keys
        published = await self._evalsha("broadcast", self._lua.broadcast, [keys.claims], [
            sender.folded, sender.token, keys.broadcast_channel, payload])
        if published != 1:
            raise NameLost(sender.display)

    @property
    def probe_channels(self) -> tuple[str, ...]:
        """The channels whose subscription the node checks with probes: its own, and on
        a cluster the broadcast channel too (it lives on another shard)."""
        own = self.keys.node_channel(self.node_id)
        return (own, self.keys.broadcast_channel) if self._sharded else (own,)

    async def publish(self, channel: str, payload: str) -> None:
        if self._sharded:  # SPUBLISH in a script, routed by the channel as its key
            await self._evalsha("publish", self._lua.publish, [channel], [payload])
        else:
            await self._pipelined("publish", ["PUBLISH", channel, payload])

    async def list_users(self) -> list[str]:
        names = await self._pipelined("hkeys", ["HKEYS", self.keys.users])
        return [_text(name) for name in names]

    async def registry(self) -> dict[str, str]:
        entries = await self._call("hgetall", self._client.hgetall, self.keys.users)
        return {_text(name): _text(node) for name, node in entries.items()}

    async def heartbeat(self, ttl: float, recovery_window: float, *, running: bool) -> bool:
        """Mark this node alive for ``ttl`` seconds and make sure it is listed. True if
        Redis had lost the registry while this node was ``running`` (heartbeat.lua)."""
        keys = self.keys
        lost = await self._script(
            "heartbeat", _HEARTBEAT,
            [keys.nodes, keys.node_alive(self.node_id), keys.registry_marker, keys.recovering],
            [self.node_id, str(int(ttl * 1000)), str(int(recovery_window * 1000)),
             "running" if running else "starting"])
        return lost == 1

    async def still_registered(self) -> bool:
        """Is this node's alive key there? Gone: Redis lost it, or survivors reaped us."""
        return bool(await self._call("exists", self._client.exists,
                                     [self.keys.node_alive(self.node_id)]))

    async def reap_node(self, node_id: str, *, force: bool = False) -> list[str]:
        """Remove the users of ``node_id`` (if its heartbeat expired, or ``force``)."""
        keys = self._user_keys(node_id) + [self.keys.nodes, self.keys.node_alive(node_id)]
        removed = await self._script("reap", _REAP, keys, [node_id, "force" if force else "check"])
        return [_text(name) for name in removed]

    async def reassert(self, claims: list[Claim]
                       ) -> tuple[list[Claim], list[tuple[Claim, str]]]:
        """Re-register the sessions this node still serves where Redis lost them.
        Returns (the restored, and for those whose name or a look-alike someone else
        holds now: the claim and that holder's display name)."""
        restored: list[Claim] = []
        taken: list[tuple[Claim, str]] = []
        for start in range(0, len(claims), REASSERT_CHUNK):
            chunk = claims[start:start + REASSERT_CHUNK]
            args = [self.node_id] + [part for claim in chunk for part in (
                claim.folded, claim.skeleton, claim.display, claim.token)]
            statuses = await self._script("reassert", _REASSERT, self._user_keys(), args)
            for claim, status in zip(chunk, statuses, strict=True):
                if isinstance(status, bytes | str):
                    taken.append((claim, _text(status)))
                elif status == 1:
                    restored.append(claim)
        return restored, taken

    async def nodes_overview(self) -> list[NodeEntry]:
        """Every registered node with its alive key's remaining TTL and its user count,
        in two round trips whatever the number of users: the node set, then a PTTL and
        an HLEN of its own users hash per node."""
        keys = self.keys
        [members] = await self._batch("smembers", [["SMEMBERS", keys.nodes]])
        node_ids = sorted(_text(member) for member in members)
        if not node_ids:
            return []
        answers = await self._batch("node status", [
            command for node_id in node_ids for command in (
                ["PTTL", keys.node_alive(node_id)], ["HLEN", keys.node_users(node_id)])])
        return [NodeEntry(node_id, int(ttl) if int(ttl) >= 0 else None, int(users))
                for node_id, ttl, users in zip(node_ids, answers[::2], answers[1::2],
                                               strict=True)]

    async def _batch(self, operation: str, commands: list[Command]) -> list[Any]:
        """``commands`` in one round trip, off the message path's pipeline."""
        results = await self._call(operation, self._exec, commands)
        for result in results:
            if isinstance(result, GlideError):
                raise self._unavailable(operation, result)
        return results

    async def silent_nodes(self) -> list[str]:
        """Registered nodes whose heartbeat key has expired."""
        members = await self._call("smembers", self._client.smembers, self.keys.nodes)
        silent = []
        for member in sorted(_text(m) for m in members):
            alive = await self._call("exists", self._client.exists,
                                     [self.keys.node_alive(member)])
            if not alive:
                silent.append(member)
        return silent


class Subscription:
    """What this node's pub/sub connection receives: the broadcast channel and its own.

    glide hands each message to ``_received`` as it reads it off the connection (in
    the trio thread); the relay takes everything received so far in one wake-up.
    """

    def __init__(self) -> None:
        self._received: list[tuple[str, bytes]] = []
        self._arrived = trio.Event()

    def _receive(self, message: Any, context: Any) -> None:
        self._received.append((_text(message.channel), bytes(message.message)))
        self._arrived.set()

    async def next_messages(self) -> list[tuple[str, bytes]]:
        """Every message received since the last call, in order; waits for one."""
        while not self._received:
            await self._arrived.wait()
            self._arrived = trio.Event()
        received, self._received = self._received, []
        return received


def _configuration(target: RedisTarget, timeout: float, name: str, *, cluster_mode: bool,
                   subscription: tuple[set[str], Subscription] | None = None
                   ) -> GlideClientConfiguration | GlideClusterClientConfiguration:
    """How to reach Redis (one server, or a cluster through one of its nodes); with
    ``subscription``, the channels to subscribe and where their messages go."""
    kind = GlideClusterClientConfiguration if cluster_mode else GlideClientConfiguration
    pubsub = None
    if subscription is not None:
        channels, receiver = subscription
        modes = kind.PubSubChannelModes
        mode = modes.Sharded if cluster_mode else modes.Exact
        pubsub = kind.PubSubSubscriptions(channels_and_patterns={mode: channels},
                                          callback=receiver._receive, context=None)
    advanced = (AdvancedGlideClusterClientConfiguration if cluster_mode
                else AdvancedGlideClientConfiguration)
    settings: dict[str, Any] = dict(
        use_tls=target.tls,
        credentials=(None if target.password is None
                     else ServerCredentials(target.password, target.username)),
        request_timeout=int(timeout * 1000),
        reconnect_strategy=BackoffStrategy(num_of_retries=RECONNECT_STEPS, factor=50,
                                           exponent_base=2),
        advanced_config=advanced(pubsub_reconciliation_interval=PUBSUB_RECONCILE_MS),
        client_name=name,
        pubsub_subscriptions=pubsub,
    )
    if cluster_mode:
        settings["periodic_checks"] = PeriodicChecksManualInterval(TOPOLOGY_CHECK_SECONDS)
    else:
        settings["database_id"] = target.database
    return kind([NodeAddress(target.host, target.port)], **settings)


async def _connect(config: GlideClientConfiguration | GlideClusterClientConfiguration,
                   timeout: float) -> Client:
    try:
        with trio.fail_after(timeout):
            if isinstance(config, GlideClusterClientConfiguration):
                return await GlideClusterClient.create(config)
            return await GlideClient.create(config)
    except (GlideError, trio.TooSlowError, OSError) as exc:
        raise ClusterUnavailable(f"connect: {exc!r}") from exc


@asynccontextmanager
async def open_cluster(
    target: RedisTarget, keys: Keys, node_id: str, timeout: float, *, cluster_mode: bool = False,
    on_batch: Callable[[float], None] = lambda seconds: None,
) -> AsyncIterator[tuple[Cluster, Subscription]]:
    """Connect the command and subscriber clients; close both on exit."""
    # glide's own log goes to stderr with colours, a line per failed request while
    # Redis is away: our log already says what failed, once. Keep only its errors.
    Logger.set_logger_config(LogLevel.ERROR)
    channels = {keys.broadcast_channel, keys.node_channel(node_id)}
    # On a cluster, a subscriber client per channel: measured, glide restored a lone
    # shard channel within a second of a failover, but two on the same shard only after
    # about 18 s (docs/decisions.md). One client listens to both on a single Redis.
    groups = [{channel} for channel in sorted(channels)] if cluster_mode else [channels]
    subscription = Subscription()
    clients: list[Client] = []
    try:
        commands = await _connect(_configuration(target, timeout, f"chat-{node_id}",
                                                 cluster_mode=cluster_mode), timeout)
        clients.append(commands)
        for group in groups:
            clients.append(await _connect(_configuration(
                target, timeout, f"chat-{node_id}-sub", cluster_mode=cluster_mode,
                subscription=(group, subscription)), timeout))
        cluster = Cluster(commands, keys, node_id, timeout, on_batch)
        async with trio.open_nursery() as nursery:
            await nursery.start(cluster.pipeline.run)
            yield cluster, subscription
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            for client in reversed(clients):
                await client.close()
