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
import math

import trio

from node import envelope
from node.cluster import ClusterUnavailable
from node.names import fold_name
from node.outbox import Outbox
from node.protocol import ByeReason, Rejected, bye_line, news_for_newcomer
from node.ratelimit import TokenBucket
from node.services import NodeServices
from node.session import (
    Broadcast,
    ClaimName,
    DumpDebug,
    ListUsers,
    Operation,
    Reply,
    SendDirect,
    Session,
)
from node.transport import ConnectionLost, LineStalled, Transport

log = logging.getLogger(__name__)


class Connection:
    def __init__(self, transport: Transport, services: NodeServices) -> None:
        self.transport = transport
        self.peer = transport.peer
        self._services = services
        self._session = Session()
        config = services.config
        self._outbox = Outbox(config.outbox_lines)
        self._reader_scope = trio.CancelScope()
        self._writer_scope = trio.CancelScope()
        # Events that arrive while logging in (from before the claim until `ok login`
        # is queued) wait here.
        self._held: list[str] | None = None
        self._claiming: tuple[str, str] | None = None
        now = trio.current_time()
        self._login_deadline = now + config.login_timeout
        self._pace = TokenBucket(config.command_rate, config.command_burst, now)

    # -- what LocalUsers and OpenConnections call -------------------------------
    def offer(self, line: str) -> bool:
        if self._held is not None:
            if len(self._held) >= self._services.config.outbox_lines:
                return False
            self._held.append(line)
            return True
        return self._outbox.offer(line)

    def drop(self, reason: ByeReason) -> None:
        """End this connection; its last line is ``bye <reason>``. Only the first call
        counts. A slow consumer's queued lines are discarded: they are why it goes."""
        if self._outbox.closed:
            return
        level = logging.WARNING if reason is ByeReason.SLOW else logging.INFO
        log.log(level, "%s%s dropped: bye %s", self.peer,
                f" ({self._session.name})" if self._session.name else "", reason)
        self._outbox.close(bye_line(reason), discard=reason is ByeReason.SLOW)
        self._reader_scope.cancel()

    # -- the connection's life ------------------------------------------------
    async def run(self) -> None:
        log.info("%s connected", self.peer)
        services = self._services
        services.connections.add(self)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write_loop)
                try:
                    with self._reader_scope:
                        await self._read_loop()
                except ConnectionLost as exc:
                    log.info("%s lost: %s", self.peer, exc)
                    self._writer_scope.cancel()
                finally:
                    await self._leave()
                    self._outbox.close()
                    self._writer_scope.deadline = min(
                        self._writer_scope.deadline,
                        trio.current_time() + services.config.flush_timeout)
        finally:
            services.connections.discard(self)
        await self.transport.close()
        log.info("%s closed", self.peer)

    async def _write_loop(self) -> None:
        with self._writer_scope:
            try:
                await self._outbox.write_to(self.transport)
            except ConnectionLost:
                self._reader_scope.cancel()

    async def _read_loop(self) -> None:
        while True:
            lines = await self._receive()
            if lines is None:
                return
            for line in lines:
                # Every line is paced, those answered locally too: a flood of `whoami`
                # or of garbage costs the node as much as a flood of commands.
                delay = self._pace.take(trio.current_time())
                if delay:
                    await trio.sleep(delay)  # pacing a flooding client, by design
                result = self._session.receive_line(line)
                if result is None:
                    continue
                reply = result if isinstance(result, Reply) else await self._perform(result)
                if reply is not None:
                    for out in reply.lines:
                        await self._outbox.put(out)
                    if reply.close:
                        return

    async def _receive(self) -> list[str | Rejected] | None:
        """The next lines; None once the connection is dropped for idling (no login
        within the login timeout, or a line left unfinished)."""
        deadline = self._login_deadline if self._session.name is None else math.inf
        with trio.move_on_at(deadline):
            try:
                return await self.transport.receive()
            except LineStalled:
                pass
        self.drop(ByeReason.IDLE)
        return None

    async def _perform(self, op: Operation) -> Reply | None:
        cluster = self._services.cluster
        try:
            if isinstance(op, ClaimName):
                return await self._login(op)
            if isinstance(op, SendDirect):
                target = fold_name(op.target)
                payload = envelope.encode(envelope.Direct(op.sender, target, op.text))
                outcome: object = await cluster.send_direct(target, payload)
            elif isinstance(op, Broadcast):
                payload = envelope.encode(envelope.Broadcast(op.sender, op.text))
                await cluster.publish(cluster.keys.broadcast_channel, payload)
                outcome = None
            elif isinstance(op, ListUsers):
                outcome = await cluster.list_users()
            else:
                await self._debug(op)
                outcome = None
        except ClusterUnavailable as exc:
            log.error("%s: %s", self.peer, exc)
            if self._claiming is not None:
                await self._release_unclaimed(*self._claiming)
                self._claiming = None
            return self._session.fail(op)
        return self._session.complete(op, outcome)

    async def _login(self, op: ClaimName) -> Reply | None:
        folded = fold_name(op.name)
        local_users = self._services.local_users
        # Receive events (held back) from *before* the claim runs in Redis: a join
        # published after our claim can reach this node before the claim's reply
        # does, and must not be missed. None of it is shown unless the claim wins.
        self._held = []
        if not local_users.holds(folded):  # else a local session has it: we will lose
            local_users.add(folded, op.name, self, pending=True)
        # If the claim's outcome is lost (timeout, or this connection ends meanwhile),
        # Redis may still have run it: `_leave` then releases the name to be safe.
        self._claiming = (folded, op.name)
        try:
            outcome = await self._services.cluster.claim(folded, op.name)
        except BaseException:
            local_users.remove(folded, self)
            self._held = None
            raise
        self._claiming = None
        reply = self._session.complete(op, outcome)
        if not outcome.won:
            local_users.remove(folded, self)
            self._held = None
            return reply
        local_users.add(folded, op.name, self)
        log.info("%s logged in as %s", self.peer, op.name)
        await self._services.announcer.join(op.name)
        for line in reply.lines:
            await self._outbox.put(line)
        held, self._held = self._held, None
        online = frozenset(fold_name(name) for name in outcome.users)
        for line in held:
            news = news_for_newcomer(line, online)
            if news is not None and not self._outbox.offer(news):
                self.drop(ByeReason.SLOW)
        return None

    async def _debug(self, op: DumpDebug) -> None:
        registry = await self._services.cluster.registry()
        log.info("debug requested by %s; local connections: %s", op.name,
                 self._services.local_users.describe())
        log.info("debug: cluster registry (%d users): %s", len(registry), registry)

    async def _leave(self) -> None:
        services = self._services
        if self._claiming is not None and not services.stopping:
            await self._release_unclaimed(*self._claiming)
        name = self._session.name
        if name is None:
            return
        folded = fold_name(name)
        services.local_users.remove(folded, self)
        if services.stopping:
            return  # the node releases all its users at once
        with trio.CancelScope(shield=True), trio.move_on_after(services.config.redis_timeout * 2):
            try:
                if await services.cluster.release(folded, name):
                    await services.announcer.leave(name)
            except ClusterUnavailable as exc:
                log.error("could not release %s, will retry: %s", name, exc)
                services.unreleased.add((folded, name))
        log.info("%s logged out %s", self.peer, name)

    async def _release_unclaimed(self, folded: str, name: str) -> None:
        """Undo a claim whose answer never reached us; nobody was told of the join.
        (Redis runs it after the claim: both go in order on one connection.)"""
        if self._services.local_users.holds(folded):
            return  # another session of this node holds the name: the claim lost
        with trio.CancelScope(shield=True), trio.move_on_after(self._services.config.redis_timeout):
            try:
                await self._services.cluster.release(folded, name)
            except ClusterUnavailable:
                self._services.unreleased.add((folded, name))


# How long a client turned away gets to take its one `bye` line.
REFUSAL_SEND_SECONDS = 1.0


async def serve_client(transport: Transport, services: NodeServices) -> None:
    """Serve one client, or turn it away with one ``bye`` line if the node is stopping
    or already serves as many connections as it takes."""
    connections = services.connections
    if not (services.stopping or connections.full):
        await Connection(transport, services).run()
        return
    reason = ByeReason.SHUTDOWN if services.stopping else ByeReason.SERVER_FULL
    held_back = connections.refusals.report(trio.current_time())
    if held_back is not None and reason is ByeReason.SERVER_FULL:
        log.warning("full (%d connections): turning clients away with bye server_full "
                    "(%d more since the last warning)", len(connections), held_back)
    with trio.move_on_after(REFUSAL_SEND_SECONDS), contextlib.suppress(ConnectionLost):
        await transport.send_lines([bye_line(reason)])
    await transport.close()
