"""The client's life, the same for the scripted and the interactive mode.

Typed lines arrive on a channel; replies and events are shown through an
``Output``. When input ends (stdin EOF, Ctrl-D, Ctrl-C, ``/quit``) the client
logs out if logged in, waits for the outstanding replies, and exits 0 (1 if a
``login`` was refused and ``fail_on_refused_login``: a script that could not log
in did not do its job). A lost connection is reported and exits 1, or with
``reconnect`` is retried with backoff, logging in again under the same name.
``bye <reason>`` from the server ends the connection the same way, reported with
its reason; after ``bye name_taken`` the client never logs in again by itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import trio

from client.commands import Quit, Send, ShowHelp, interpret
from client.link import Link, LinkLost, Target, connect
from client.render import Conversation, Shown, Style, bye_reason, render_bye

REPLY_TIMEOUT = 10.0
BACKOFF = (0.5, 1, 2, 4, 8)
# After these the client does not reconnect by itself: someone else holds our name
# now, and logging in again under it would at best be refused, at worst take it back.
FINAL_BYE_REASONS = frozenset({"name_taken"})


class Output(Protocol):
    def show(self, shown: Shown) -> None: ...

    def raw(self, line: str) -> None: ...

    def notice(self, shown: Shown) -> None:
        """Something the client itself says (help, connection trouble)."""


@dataclass
class Options:
    target: Target
    raw: bool = False
    reconnect: bool = False
    # Scripted mode: end with status 1 if the server refused any `login`.
    fail_on_refused_login: bool = False
    # Seconds between reconnect attempts; the last value repeats.
    backoff: tuple[float, ...] = BACKOFF


class ServerBye(LinkLost):
    """The server said ``bye <reason>``: it is closing this connection."""

    def __init__(self, reason: str) -> None:
        super().__init__(render_bye(reason).text)
        self.reason = reason


def _link_lost(error: BaseException) -> LinkLost:
    """The LinkLost inside ``error`` (trio wraps task errors in groups); else re-raise.
    A ServerBye wins over the broken link that may come with it: it says why."""
    if isinstance(error, LinkLost):
        return error
    if isinstance(error, BaseExceptionGroup):
        lost_group, rest = error.split(LinkLost)
        if rest is None and lost_group is not None:
            bye_group, _ = lost_group.split(ServerBye)
            leaf: BaseException = bye_group or lost_group
            while isinstance(leaf, BaseExceptionGroup):
                leaf = leaf.exceptions[0]
            assert isinstance(leaf, LinkLost)
            return leaf
    raise error


class Client:
    def __init__(self, options: Options, output: Output) -> None:
        self.options = options
        self.output = output
        self.conversation = Conversation()
        self._replies_done = trio.Event()
        self._leaving = False
        self.login_refused = False  # in any conversation, across reconnections

    def _notice(self, text: str, style: Style = Style.SYSTEM) -> None:
        self.output.notice(Shown(text, style))

    def _received(self, line: str) -> None:
        if self.options.raw:
            self.output.raw(line)
        shown = self.conversation.received(line)
        self.login_refused = self.login_refused or self.conversation.login_refused
        if shown is not None and not self.options.raw:
            self.output.show(shown)
        if self.conversation.waiting == 0:
            self._replies_done.set()

    async def _send(self, link: Link, line: str) -> None:
        self._leaving = line == "logout"
        self.conversation.sent(line)
        self._replies_done = trio.Event()
        await link.send(line)

    async def _receive(self, link: Link) -> str:
        """The next line from the server; ServerBye if it says goodbye."""
        line = await link.receive()
        reason = bye_reason(line)
        if reason is not None:
            if self.options.raw:
                self.output.raw(line)
            raise ServerBye(reason)
        return line

    async def _read(self, link: Link) -> None:
        while True:
            try:
                line = await self._receive(link)
            except LinkLost:
                if self._leaving and self.conversation.waiting == 0:
                    return  # the server closes after `ok logout`: that is the normal end
                raise
            self._received(line)

    async def _settle(self, link: Link) -> None:
        """Log out if logged in and wait for every outstanding reply."""
        with trio.move_on_after(REPLY_TIMEOUT):
            if self.conversation.waiting:
                await self._replies_done.wait()  # we may not know yet whether login worked
            if self.conversation.me is not None:
                await self._send(link, "logout")
                await self._replies_done.wait()

    async def _type(self, link: Link, typed: trio.MemoryReceiveChannel[str],
                    done: Callable[[], None]) -> None:
        async for text in typed:
            action = interpret(text)
            if isinstance(action, Send):
                await self._send(link, action.line)
                if action.line == "logout":
                    break
            elif isinstance(action, ShowHelp):
                self._notice(action.text)
            elif isinstance(action, Quit):
                break
        await self._settle(link)
        done()

    async def _session(self, link: Link, typed: trio.MemoryReceiveChannel[str]) -> bool:
        """Run one connection; True when the user finished, False when the link broke."""
        finished = False
        try:
            async with trio.open_nursery() as nursery:
                def done() -> None:
                    nonlocal finished
                    finished = True
                    nursery.cancel_scope.cancel()

                nursery.start_soon(self._read, link)
                nursery.start_soon(self._type, link, typed, done)
        except BaseExceptionGroup as group:
            raise _link_lost(group) from None
        return finished

    async def _connection(self, typed: trio.MemoryReceiveChannel[str],
                          name: str | None) -> bool:
        async with trio.open_nursery() as ws_nursery:  # hosts a WebSocket's reader
            link = await connect(self.options.target, ws_nursery)
            try:
                if name is not None:
                    self._notice(f"* reconnected; logging in again as {name}")
                    await self._send(link, f"login {name}")
                finished = await self._session(link, typed)
            finally:
                await link.aclose()
            ws_nursery.cancel_scope.cancel()
        return finished

    async def run(self, typed: trio.MemoryReceiveChannel[str]) -> int:
        attempt = 0
        name = None
        while True:
            try:
                if await self._connection(typed, name):
                    return 1 if self.options.fail_on_refused_login and self.login_refused else 0
                attempt = 0
            except (LinkLost, BaseExceptionGroup) as error:
                lost = _link_lost(error)
                if isinstance(lost, ServerBye):
                    self.output.notice(render_bye(lost.reason))
                    if lost.reason in FINAL_BYE_REASONS:
                        return 1
                else:
                    self._notice(f"! {lost}", Style.ERROR)
            if not self.options.reconnect:
                return 1
            name = self.conversation.me or name
            self.conversation = Conversation()
            delay = self.options.backoff[min(attempt, len(self.options.backoff) - 1)]
            attempt += 1
            self._notice(f"* reconnecting to {self.options.target} in {delay:g}s")
            await trio.sleep(delay)  # backoff between attempts, not a synchronisation
