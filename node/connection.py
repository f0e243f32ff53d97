"""One client connection, the same for TCP and WebSocket.

Owns one nursery with the reader loop (this function) and the single writer
task. Replies wait for room in the outbox; events from others are offered and
a full outbox drops the client. A dropped client (slow, idle, name taken
elsewhere, node stopping) gets one last line, ``bye <reason>``. On the way out,
whatever the reason, the name is released under a shielded, time-limited scope
and the others hear ``leave``.
"""

import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable

import trio

from node import envelope
from node.claim import Claim
from node.cluster import ClusterUnavailable, NameLost, RegistryRecovering
from node.metrics import BROADCAST, DIRECT
from node.names import fold_name
from node.outbox import Outbox
from node.prepared import Prepared
from node.protocol import ByeReason, Rejected, bye_line, news_for_newcomer
from node.ratelimit import TokenBucket
from node.services import NodeServices
from node.session import (
    Broadcast,
    ClaimName,
    DumpDebug,
    ListUsers,
    LoginResult,
    Operation,
    Reply,
    SendDirect,
    Session,
)
from node.status import Drop
from node.transport import ConnectionLost, LineStalled, Transport

log = logging.getLogger(__name__)


def _weakly(method: Callable[[], None]) -> Callable[[], None]:
    """``method``, called through a weak reference to its object (gone: nothing)."""
    ref = weakref.WeakMethod(method)

    def call() -> None:
        bound = ref()
        if bound is not None:
            bound()
    return call


class Connection:
    __slots__ = ("transport", "peer", "_services", "_session", "_outbox", "_held", "_claim",
                 "_nursery", "_login_deadline", "_pace", "_writing", "_lost", "_ending",
                 "__weakref__")

    def __init__(self, transport: Transport, services: NodeServices) -> None:
        self.transport = transport
        self.peer = transport.peer
        self._services = services
        self._session = Session(userlist_page=services.config.presence_limit)
        config = services.config
        # The outbox holds its callback weakly: a connection and its outbox in a
        # reference cycle would wait for a full garbage collection to be freed.
        self._outbox = Outbox(transport.socket, config.outbox_lines, services.flusher,
                              _weakly(self._start_writer))
        self._ending = False  # dropped: the reader stops, the last lines still go out
        self._writing = False  # a writer task is draining a backed-up socket
        self._lost = False
        # Events that arrive while logging in (from before the claim until `ok login`
        # is queued) wait here.
        self._held: list[Prepared] | None = None
        self._claim: Claim | None = None  # the name this session holds, once logged in
        self._nursery: trio.Nursery | None = None
        now = trio.current_time()
        self._login_deadline = now + config.login_timeout
        self._pace = TokenBucket(config.command_rate, config.command_burst, now)

    # -- what LocalUsers and OpenConnections call -------------------------------
    def offer(self, line: Prepared, *, now: bool = False) -> bool:
        if self._held is not None:
            if len(self._held) >= self._services.config.outbox_lines:
                return False
            self._held.append(line)
            return True
        return self._outbox.offer(line.encoded(self.transport.encode), now=now)

    def drop(self, reason: ByeReason) -> None:
        """End this connection; its last line is ``bye <reason>``. Only the first call
        counts. A slow consumer's queued lines are discarded: they are why it goes."""
        if self._outbox.closed:
            return
        name = self._session.name
        metrics = self._services.metrics
        metrics.dropped(reason)
        metrics.recent_drops.add(Drop(time.time(), self.peer, name, reason))
        # Once, at INFO, whatever the reason (/metrics counts them by reason).
        log.info("%s%s dropped: bye %s", self.peer, f" ({name})" if name else "", reason,
                 extra={"user": name} if name else None)
        self._outbox.close(self.transport.encode(bye_line(reason)),
                           discard=reason is ByeReason.SLOW)
        self._stop_reading()

    def keepalive(self, now: float, interval: float) -> None:
        self.transport.keepalive(now, interval)

    @property
    def queued(self) -> int:
        return len(self._outbox)

    def _stop_reading(self) -> None:
        """Cancel the connection's nursery (the reader, a writer); `run` then sends
        what is left itself, outside it."""
        self._ending = True
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    # -- the connection's life ------------------------------------------------
    async def run(self) -> None:
        log.info("%s connected", self.peer)
        services = self._services
        services.connections.add(self)
        open_here = services.metrics.connections.labels(self.transport.kind)
        open_here.inc()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self._ending:  # dropped before it started (the node is stopping)
                    nursery.cancel_scope.cancel()
                try:
                    await self._read_loop()
                except ConnectionLost as exc:
                    log.info("%s lost: %s", self.peer, exc)
                    self._lost = True
            self._nursery = None
        finally:
            await self._leave()
            self._outbox.close()
            if not self._lost:  # what is left (`ok logout`, `bye`) goes out, in time
                with trio.move_on_after(services.config.flush_timeout), \
                        contextlib.suppress(ConnectionLost):
                    await self._outbox.drain_out()
            services.connections.discard(self)
            open_here.dec()
            await self.transport.close()
        log.info("%s closed", self.peer)

    def _start_writer(self) -> None:
        """The socket is backed up (the client reads slowly): a task drains it, and
        ends once it has; most clients never need one."""
        if not self._writing and self._nursery is not None and not self._lost:
            self._writing = True
            self._nursery.start_soon(self._write_loop)

    async def _write_loop(self) -> None:
        try:
            await self._outbox.drain_out()
        except ConnectionLost:
            self._lost = True
            self._stop_reading()
        finally:
            self._writing = False

    async def _read_loop(self) -> None:
        metrics = self._services.metrics
        while True:
            lines = await self._receive()
            if lines is None:
                return
            for line in lines:
                # Every line is paced, those answered locally too: a flood of `whoami`
                # or of garbage costs the node as much as a flood of commands.
                delay = self._pace.take(trio.current_time())
                if delay:
                    metrics.paced_commands.inc()
                    await trio.sleep(delay)  # pacing a flooding client, by design
                result = self._session.receive_line(line)
                if result is None:
                    continue
                if self._session.command:
                    metrics.command(self._session.command)
                reply = result if isinstance(result, Reply) else await self._perform(result)
                if reply is not None:
                    if reply.login is not None:  # (a won login is counted in _login)
                        metrics.login(reply.login)
                    await self._put(reply.lines)
                    if reply.close:
                        return

    async def _put(self, lines: list[str]) -> None:
        for line in lines:
            await self._outbox.put(self.transport.encode(line))

    async def _receive(self) -> list[str | Rejected] | None:
        """The next lines; None once the connection is dropped for idling (no login
        within the login timeout, or a line left unfinished)."""
        try:
            if self._session.name is not None:  # no deadline: no cancel scope to keep
                return await self.transport.receive()
            with trio.move_on_at(self._login_deadline):
                return await self.transport.receive()
        except LineStalled:
            pass
        self.drop(ByeReason.IDLE)
        return None

    async def _perform(self, op: Operation) -> Reply | None:
        """Carry out ``op`` against the cluster; the one reply (None if already queued,
        or if the connection is being dropped). The whole of it, waiting for this
        node's lease included, gets ``redis_timeout``: a command fails once, in time."""
        deadline = trio.current_time() + self._services.config.redis_timeout
        try:
            await self._wait_for_lease(deadline)
            if isinstance(op, ClaimName):
                return await self._login(op, deadline)
            try:
                outcome = await self._carry_out(op, deadline)
            except NameLost:
                if not await self._reclaim():
                    return None
                outcome = await self._carry_out(op, deadline)
        except NameLost:
            self.drop(ByeReason.NAME_TAKEN)
            return None
        except (ClusterUnavailable, trio.TooSlowError) as exc:
            log.error("%s: %s", self.peer, exc or "the chat store did not answer in time")
            return self._session.fail(op, recovering=isinstance(exc, RegistryRecovering))
        return self._session.complete(op, outcome)

    async def _wait_for_lease(self, deadline: float) -> None:
        """While the node's lease has lapsed (it was paused or cut off for longer than
        the heartbeat TTL), its sessions are suspended until liveness re-asserts them."""
        lease = self._services.lease
        if lease.valid(trio.current_time()):  # nearly always: no cancel scope needed
            return
        with trio.move_on_at(deadline):
            await lease.wait_valid()
            return
        raise ClusterUnavailable("this node's lease on its names has lapsed; re-asserting")

    async def _carry_out(self, op: Operation, deadline: float) -> object:
        cluster, claim = self._services.cluster, self._claim
        assert claim is not None  # every operation but the claim needs a login
        with trio.fail_at(deadline):
            if isinstance(op, SendDirect):
                target = fold_name(op.target)
                payload = envelope.encode(envelope.Direct(op.sender, target, op.text,
                                                          time.time()))
                holder = await cluster.send_direct(claim, target, payload)
                if holder is not None:
                    self._services.metrics.published(DIRECT)
                return holder
            if isinstance(op, Broadcast):
                await cluster.broadcast(claim, envelope.encode(envelope.Broadcast(
                    op.sender, op.text, time.time())))
                self._services.metrics.published(BROADCAST)
            elif isinstance(op, ListUsers):
                return await cluster.list_users()
            elif isinstance(op, DumpDebug):
                await self._debug(op)
        return None

    async def _reclaim(self) -> bool:
        """Redis refused to act for this session: its name is gone from the registry.
        Put it back if nobody else took it (True); else drop the client (False)."""
        services, claim = self._services, self._claim
        assert claim is not None
        restored, taken = await services.cluster.reassert([claim])
        if taken:
            self.drop(ByeReason.NAME_TAKEN)
            [(_, holder)] = taken
            if holder != claim.display:  # others listed this spelling: take it off
                await services.announcer.leave(claim.display)
            return False
        if restored:
            await services.announcer.join(claim.display)
        return True

    async def _login(self, op: ClaimName, deadline: float) -> Reply | None:
        claim = Claim.of(op.name, secrets.token_hex(8))
        local_users = self._services.local_users
        # Receive events (held back) from *before* the claim runs in Redis: a join
        # published after our claim can reach this node before the claim's reply
        # does, and must not be missed. None of it is shown unless the claim wins.
        self._held = []
        if not local_users.holds(claim.folded):  # else a local session has it: we lose
            local_users.add(claim, self, pending=True)
        try:
            with trio.fail_at(deadline):
                outcome = await self._services.cluster.claim(
                    claim, self._services.config.presence_limit)
        except BaseException:
            local_users.remove(claim.folded, self)
            self._held = None
            # The claim may have run although its answer was lost: undo it, without
            # keeping the client waiting for that (its token makes the undo exact).
            if self._nursery is not None:
                self._nursery.start_soon(self._release_unanswered, claim)
            else:  # the connection is ending: the liveness loop releases it
                self._services.unreleased.add(claim)
            raise
        reply = self._session.complete(op, outcome)
        if not outcome.won:
            local_users.remove(claim.folded, self)
            self._held = None
            return reply
        self._claim = claim
        local_users.add(claim, self)
        self._services.metrics.login(LoginResult.OK)
        log.info("%s logged in as %s", self.peer, op.name, extra={"user": op.name})
        await self._services.announcer.join(op.name)
        await self._put(reply.lines)
        held, self._held = self._held, None
        online = frozenset(fold_name(name) for name in outcome.users)
        for line in held:
            news = news_for_newcomer(line.line, online, counted=outcome.online is not None)
            if news is not None and not self._outbox.offer(self.transport.encode(news)):
                self.drop(ByeReason.SLOW)
        return None

    async def _debug(self, op: DumpDebug) -> None:
        registry = await self._services.cluster.registry()
        log.info("debug requested by %s; local connections: %s", op.name,
                 self._services.local_users.describe())
        log.info("debug: cluster registry (%d users): %s", len(registry), registry)

    async def _leave(self) -> None:
        services, claim = self._services, self._claim
        if claim is None:
            return
        services.local_users.remove(claim.folded, self)
        if services.stopping:
            return  # the node releases all its users at once
        released = await self._release(claim)
        if released:
            with trio.CancelScope(shield=True), \
                    trio.move_on_after(services.config.redis_timeout):
                await services.announcer.leave(claim.display)
        log.info("%s logged out %s", self.peer, claim.display, extra={"user": claim.display})

    async def _release_unanswered(self, claim: Claim) -> None:
        """Undo a claim whose answer never reached us; nobody was told of the join.
        (Redis runs it after the claim: both go in order on one connection.)"""
        await self._release(claim)

    async def _release(self, claim: Claim) -> bool:
        """Release ``claim``, shielded and time-limited; True if it was released. If
        Redis did not answer, the liveness loop retries it (``unreleased``)."""
        services = self._services
        answered, released = False, False
        with trio.CancelScope(shield=True), \
                trio.move_on_after(services.config.redis_timeout * 2):
            try:
                released = await services.cluster.release(claim, services.config.presence_limit)
                answered = True
            except ClusterUnavailable as exc:
                log.error("could not release %s, will retry: %s", claim.display, exc)
        if not answered:
            services.unreleased.add(claim)
        return released


# How long a client turned away gets to take its one `bye` line.
REFUSAL_SEND_SECONDS = 1.0


def serve_client(transport: Transport, services: NodeServices) -> Awaitable[None]:
    """What serves one client (await it): the connection, or turning it away with one
    ``bye`` line if the node is stopping or already serves as many connections as it
    takes. (Not a coroutine itself: its frame would stay in memory, for every
    connected user, as long as the connection.)"""
    if not (services.stopping or services.connections.full):
        return Connection(transport, services).run()
    return _turn_away(transport, services)


async def _turn_away(transport: Transport, services: NodeServices) -> None:
    connections = services.connections
    reason = ByeReason.SHUTDOWN if services.stopping else ByeReason.SERVER_FULL
    services.metrics.dropped(reason)
    held_back = connections.refusals.report(trio.current_time())
    if held_back is not None and reason is ByeReason.SERVER_FULL:
        log.warning("full (%d connections): turning clients away with bye server_full "
                    "(%d more since the last warning)", len(connections), held_back)
    with trio.move_on_after(REFUSAL_SEND_SECONDS), contextlib.suppress(ConnectionLost):
        transport.socket.write(transport.encode(bye_line(reason)))
        await transport.socket.drain()
    await transport.close()
