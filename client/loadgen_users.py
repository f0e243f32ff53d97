"""Logged-in clients of the comparison load generator, in any dialect.

A ``User`` is one connection with its reader task (the pump) and its ``Receiver``.
Units that are not the message expected next land in ``User.unit``, which answers
pings, notes login answers and replies, presence and ``bye``, and hands chat events to
the workload's ``on_event``. A ``Crowd`` logs many users in, a bounded number at a
time, each under a deadline, and waits (bounded) for presence to settle.
"""

import time
from collections.abc import Callable, Sequence

import trio

from client.loadgen_receive import Receiver
from client.loadgen_wire import RECEIVE_BYTES, Address, Dialect, Link, Note, WireError

# (user, note of a msgall/msg event, arrival time) -> bytes to send back
OnEvent = Callable[["User", Note, float], bytes]
# Presence counts as settled once no presence line arrived for this long; it is only
# exact (everyone heard of everyone) up to the node's presence limit.
PRESENCE_QUIET = 1.0


def _unexpected(user: "User", note: Note, now: float) -> bytes:
    user.unexpected += 1
    return b""


class User:
    def __init__(self, dialect: Dialect, name: str, link: Link) -> None:
        self.dialect, self.name, self.link = dialect, name, link
        self.receiver = Receiver(dialect.splitter(), self.unit)
        self.on_event: OnEvent = _unexpected
        self.answered = trio.Event()  # the login was answered, or the connection ended
        self.next_reply = trio.Event()  # set at each reply after the login's
        self.login_ok = False
        self.refusal = ""
        self.replies = self.errors = self.presence = self.unexpected = 0
        self.last_presence = 0.0
        self.bye = ""
        self.lost = ""
        self.closing = False

    def unit(self, unit: str, now: float) -> bytes:
        note = self.dialect.classify(unit)
        kind = note[0]
        if kind == "ping":
            return self.dialect.pong()
        if not self.answered.is_set():
            answer = self.dialect.is_login_ack(note, self.name)
            if answer is not None:
                self.login_ok, self.refusal = answer, "" if answer else unit
                self.answered.set()
                return b""
        if kind == "reply":
            self.replies += 1
            self.errors += note[1].startswith("error")
            self.next_reply.set()
        elif kind == "presence":
            self.presence += 1
            self.last_presence = now
        elif kind in ("msgall", "msg"):
            return self.on_event(self, note, now)
        elif kind == "bye":
            self.bye = note[1]
        else:
            self.unexpected += 1
        return b""

    async def pump(self) -> None:
        """Read until the connection ends; send back what the receiver asks for."""
        receiver, stream = self.receiver, self.link.stream
        try:
            data = self.link.leftover
            while True:
                if data:
                    reply = receiver.take(data, time.perf_counter())
                    if reply:
                        await self.link.send(reply)
                data = await stream.receive_some(RECEIVE_BYTES)
                if not data:
                    break
            if not self.closing:
                self.lost = "closed by the server"
        except (trio.BrokenResourceError, trio.ClosedResourceError, WireError) as exc:
            if not self.closing:
                self.lost = str(exc) or type(exc).__name__
        self.answered.set()

    async def close(self) -> None:
        self.closing = True
        await self.link.close()


async def log_in(dialect: Dialect, address: Address, name: str, nursery: trio.Nursery,
                 timeout: float) -> User:
    """Connect, start the pump, log in; WireError on refusal, TooSlowError past ``timeout``."""
    with trio.fail_after(timeout):
        link = await dialect.connect(address)
        user = User(dialect, name, link)
        nursery.start_soon(user.pump)
        await link.send(dialect.login(name))
        await user.answered.wait()
    if not user.login_ok:
        await user.close()
        raise WireError(f"{name}: login refused: {user.refusal or user.lost or 'no answer'}")
    return user


class Crowd:
    """Users of one workload: their pumps live in ``nursery``; failures are kept."""

    def __init__(self, dialect: Dialect, nursery: trio.Nursery, timeout: float = 10.0) -> None:
        self.dialect, self.nursery, self.timeout = dialect, nursery, timeout
        self.users: list[User] = []
        self.failures: list[str] = []
        self.login_seconds: list[float] = []

    async def log_in_all(self, plan: Sequence[tuple[str, Address]], in_flight: int,
                         on_login: Callable[[User], None] | None = None) -> None:
        """Log in every (name, address), ``in_flight`` at a time; keep the plan's order."""
        slots: list[User | None] = [None] * len(plan)
        limiter = trio.CapacityLimiter(in_flight)

        async def one(index: int, name: str, address: Address) -> None:
            async with limiter:
                began = time.perf_counter()
                try:
                    user = await log_in(self.dialect, address, name, self.nursery, self.timeout)
                except (WireError, trio.TooSlowError, OSError) as exc:
                    self.fail(f"{name}: {str(exc) or type(exc).__name__}")
                    return
                self.login_seconds.append(time.perf_counter() - began)
                slots[index] = user
                if on_login is not None:
                    on_login(user)

        try:
            async with trio.open_nursery() as logins:
                for index, (name, address) in enumerate(plan):
                    logins.start_soon(one, index, name, address)
        finally:
            self.users = [user for user in slots if user is not None]

    def fail(self, reason: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(reason)

    async def settle_presence(self, bound: float = 10.0) -> float:
        """Until no presence line has come for PRESENCE_QUIET s (at most ``bound`` s)."""
        began = trio.current_time()
        with trio.move_on_after(bound):
            while True:
                last = max((u.last_presence for u in self.users), default=0.0)
                quiet_at = last + PRESENCE_QUIET - time.perf_counter()
                if quiet_at <= 0:
                    break
                await trio.sleep(quiet_at)  # a deadline to re-check the condition
        return trio.current_time() - began

    def problems(self) -> list[str]:
        """Lost connections, error replies, byes and unexpected units, by user."""
        found = list(self.failures)
        for user in self.users:
            if user.lost:
                found.append(f"{user.name}: connection lost: {user.lost}")
            if user.bye:
                found.append(f"{user.name}: bye {user.bye}")
            if user.errors or user.unexpected:
                found.append(f"{user.name}: {user.errors} errors, {user.unexpected} unexpected")
        return found[:20]

    async def close_all(self) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            for user in self.users:
                await user.close()
