"""The comparison workloads, the same for every dialect (our TCP, our WebSocket, the
socket.io peer); each runs in one trio run and returns a plain dict.

- ``broadcast``: receivers spread over the addresses, one more user sends ``messages``
  broadcasts back to back (or at ``rate`` per second); every receiver must get every
  message exactly once, in order. Deliveries/s count from the first send to the last
  delivery, to the receivers only (our sender also gets its own copy; it is checked and
  reported apart, so both systems are measured on the same deliveries).
- ``ping_pong``: pairs across the addresses (pair i from address i to address i + 1,
  round robin: with two, half the pairs each way; with one, both on it); each pair
  bounces a direct message for ``seconds``; a round trip ends when the pong is back.
  With ``rate``, pings leave at that many per second in all, pairs in turn, whether
  or not the last pong is back (an open loop, so the load does not follow latency).
- ``idle``: users round robin over the addresses log in, then stay silent for
  ``seconds``: what the servers spend on connected users doing nothing.
- ``login_storm`` (in ``loadgen_storm``).

``meter`` returns the CPU seconds of every server process by name; each workload reads
it, this process's CPU time and the clock at the start and the end of what it measures.
"""

import itertools
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import trio

from client.loadgen import latency_ms
from client.loadgen_receive import Expected, Receiver
from client.loadgen_users import Crowd, User
from client.loadgen_wire import Address, Dialect, Note

Meter = Callable[[], dict[str, float]]
Result = dict[str, object]
LATENCY_POINTS = (0.5, 0.99, 1.0)


def reading(meter: Meter) -> dict[str, float]:
    return meter() | {"generator": time.process_time(), "wall": time.perf_counter()}


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Seconds of CPU per process (and ``wall``) between two readings."""
    return {name: round(after[name] - before[name], 4) for name in before}


def server_cpu(used: dict[str, float]) -> float:
    return sum(seconds for name, seconds in used.items() if name not in ("generator", "wall"))


def per_unit(used: dict[str, float], count: int) -> dict[str, float | None]:
    """Server and generator CPU microseconds per delivery (or round trip)."""
    if not count:
        return {"server_us": None, "generator_us": None}
    return {"server_us": round(server_cpu(used) / count * 1e6, 2),
            "generator_us": round(used["generator"] / count * 1e6, 2)}


def run_id() -> str:
    return secrets.token_hex(2)


@dataclass(frozen=True)
class BroadcastPlan:
    addresses: Sequence[Address]
    receivers: int = 200
    messages: int = 2000
    rate: float = 0.0  # broadcasts per second; 0: back to back
    in_flight: int = 64
    settle: float = 10.0  # for deliveries after the last send


class BroadcastTally:
    """Arrivals at the receivers (and, apart, at the sender) of one sender's messages."""

    def __init__(self, sender: str, expected: Expected, messages: int, receivers: int) -> None:
        self.sender, self.expected, self.messages = sender, expected, messages
        self.waiting = receivers
        self.done = trio.Event()
        self.latencies: list[float] = []
        self.last_arrival = 0.0

    def watch(self, user: User, counted: bool) -> None:
        """Make ``user`` expect the stream; ``counted``: a receiver (not the sender)."""
        receiver, sent_at = user.receiver, self.expected.sent_at

        def matched(first: int, end: int, now: float) -> bytes:
            if counted:
                self.latencies.extend([now - sent_at[k] for k in range(first, end)])
                self.last_arrival = now
                self._check(receiver)
            return b""

        def event(user: User, note: Note, now: float) -> bytes:
            number = _number(note, self.sender)
            if number is None:
                user.unexpected += 1
                return b""
            reply = receiver.out_of_sequence(number, now)
            if counted:
                self._check(receiver)
            return reply

        receiver.on_match = matched
        user.on_event = event
        receiver.expect(self.expected)

    def _check(self, receiver: Receiver) -> None:
        if receiver.received == self.messages:
            self.waiting -= 1
            if not self.waiting:
                self.done.set()


def _number(note: Note, sender: str) -> int | None:
    """The message number of a chat event from ``sender`` (text ``<number> <stamp>``)."""
    if len(note) != 3 or note[1] != sender:
        return None
    head = note[2].split(" ", 1)[0]
    return int(head) if head.isdigit() else None


def _plan(prefix: str, count: int, addresses: Sequence[Address]) -> list[tuple[str, Address]]:
    return [(f"{prefix}{i}", addresses[i % len(addresses)]) for i in range(count)]


async def broadcast(dialect: Dialect, plan: BroadcastPlan, meter: Meter) -> Result:
    prefix = f"b{run_id()}x"
    async with trio.open_nursery() as nursery:
        crowd = Crowd(dialect, nursery)
        people = _plan(prefix, plan.receivers, plan.addresses) + [(f"{prefix}s", plan.addresses[0])]
        try:
            await crowd.log_in_all(people, plan.in_flight)
            if len(crowd.users) != len(people):
                return {"ok": False, "problems": crowd.problems()}
            settled = await crowd.settle_presence()
            result = await _send_broadcasts(dialect, plan, crowd, meter)
            result["presence_settled_s"] = round(settled, 3)
            return result
        finally:
            await crowd.close_all()
            nursery.cancel_scope.cancel()


async def _send_broadcasts(dialect: Dialect, plan: BroadcastPlan, crowd: Crowd,
                           meter: Meter) -> Result:
    *receivers, sender = crowd.users
    expected = Expected()
    tally = BroadcastTally(sender.name, expected, plan.messages, len(receivers))
    for user in receivers:
        tally.watch(user, counted=True)
    if dialect.echoes_broadcast:
        tally.watch(sender, counted=False)
    before = reading(meter)
    first = trio.current_time()
    for number in range(plan.messages):
        if plan.rate:
            await trio.sleep_until(first + number / plan.rate)
        sent_at = time.perf_counter()
        text = f"{number} {sent_at:.6f}"
        payload = dialect.broadcast_event(sender.name, text)
        expected.add(payload, dialect.wire(payload), sent_at)
        await sender.link.send(dialect.broadcast(text))
    with trio.move_on_after(plan.settle):
        await tally.done.wait()
    after = reading(meter)
    if dialect.acknowledges:
        with trio.move_on_after(plan.settle):
            while sender.replies < plan.messages and not sender.lost:
                await trio.sleep(0.01)  # polling a counter, under the deadline above
    return _broadcast_result(dialect, plan, tally, receivers, sender, cpu_used(before, after),
                             crowd)


def _broadcast_result(dialect: Dialect, plan: BroadcastPlan, tally: BroadcastTally,
                      receivers: list[User], sender: User, used: dict[str, float],
                      crowd: Crowd) -> Result:
    delivered = sum(user.receiver.received for user in receivers)
    span = tally.last_arrival - tally.expected.sent_at[0] if delivered else 0.0
    lost = sum(user.receiver.missing(plan.messages) for user in receivers)
    duplicates = sum(user.receiver.duplicates for user in receivers)
    late = sum(user.receiver.late for user in receivers)
    echoes = sender.receiver.received if dialect.echoes_broadcast else None
    problems = crowd.problems()
    if dialect.acknowledges and sender.replies != plan.messages:
        problems.append(f"sender got {sender.replies} replies to {plan.messages} broadcasts")
    if echoes is not None and echoes != plan.messages:
        problems.append(f"sender got {echoes} of its own {plan.messages} broadcasts")
    ok = not problems and not lost and not duplicates and not late
    return {
        "ok": ok, "dialect": dialect.name, "receivers": len(receivers),
        "messages": plan.messages, "rate": plan.rate, "expected": len(receivers) * plan.messages,
        "deliveries": delivered, "lost": lost, "duplicates": duplicates, "late": late,
        "sender_own_copies": echoes, "seconds": round(span, 4),
        "decoded_one_by_one": sum(user.receiver.decoded for user in receivers),
        "deliveries_per_s": round(delivered / span) if span else 0,
        "broadcasts_per_s": round(plan.messages / span, 1) if span else 0,
        **latency_ms(tally.latencies, LATENCY_POINTS), "cpu_s": used,
        **per_unit(used, delivered), "problems": problems,
    }


@dataclass(frozen=True)
class PingPongPlan:
    addresses: Sequence[Address]  # pair i: a on address i, b on the next (round robin)
    pairs: int = 50
    seconds: float = 10.0
    rate: float = 0.0  # pings per second over all pairs; 0: each pair's next on its pong
    in_flight: int = 64
    settle: float = 10.0


class Pair:
    """Two users bouncing one direct message: a's pings to b, b's pongs back."""

    def __init__(self, dialect: Dialect, a: User, b: User, game: "PingPong") -> None:
        self.dialect, self.a, self.b, self.game = dialect, a, b, game
        self.to_b, self.to_a = Expected(), Expected()
        self.texts: list[str] = []
        b.receiver.expect(self.to_b)
        a.receiver.expect(self.to_a)
        b.receiver.on_match = self._pong
        a.receiver.on_match = self._returned
        a.on_event = b.on_event = self._out_of_sequence

    def ping(self) -> bytes:
        sent_at = time.perf_counter()
        text = f"{len(self.texts)} {sent_at:.6f}"
        self.texts.append(text)
        payload = self.dialect.direct_event(self.a.name, text)
        self.to_b.add(payload, self.dialect.wire(payload), sent_at)
        self.game.in_flight += 1
        return self.dialect.direct(self.b.name, text)

    def _pong(self, first: int, end: int, now: float) -> bytes:
        replies = b""
        for number in range(first, end):
            text = self.texts[number]
            payload = self.dialect.direct_event(self.b.name, text)
            self.to_a.add(payload, self.dialect.wire(payload), self.to_b.sent_at[number])
            replies += self.dialect.direct(self.a.name, text)
        return replies

    def _returned(self, first: int, end: int, now: float) -> bytes:
        self.game.returned(self.to_a.sent_at[first:end], now)
        return self.ping() if not self.game.paced and now < self.game.ends_at else b""

    def _out_of_sequence(self, user: User, note: Note, now: float) -> bytes:
        partner = self.b if user is self.a else self.a
        number = _number(note, partner.name)
        if number is None:
            user.unexpected += 1
            return b""
        return user.receiver.out_of_sequence(number, now)

    def sent(self) -> int:
        return len(self.texts) + len(self.to_a)


class PingPong:
    def __init__(self, seconds: float, paced: bool = False) -> None:
        self.ends_at, self.paced = time.perf_counter() + seconds, paced
        self.in_flight = self.round_trips = 0
        self.latencies: list[float] = []
        self.last_return = 0.0
        self.idle = trio.Event()

    def returned(self, sent: list[float], now: float) -> None:
        self.round_trips += len(sent)
        self.in_flight -= len(sent)
        self.latencies.extend([now - began for began in sent])
        self.last_return = now
        self.check_idle(now)

    def check_idle(self, now: float) -> None:
        if now >= self.ends_at and not self.in_flight:
            self.idle.set()


async def ping_pong(dialect: Dialect, plan: PingPongPlan, meter: Meter) -> Result:
    prefix = f"p{run_id()}x"
    places, count = plan.addresses, len(plan.addresses)
    people = [(f"{prefix}{side}{i}", places[(i + step) % count]) for i in range(plan.pairs)
              for side, step in (("a", 0), ("b", 1))]
    async with trio.open_nursery() as nursery:
        crowd = Crowd(dialect, nursery)
        try:
            await crowd.log_in_all(people, plan.in_flight)
            if len(crowd.users) != len(people):
                return {"ok": False, "problems": crowd.problems()}
            await crowd.settle_presence()
            return await _bounce(dialect, plan, crowd, meter)
        finally:
            await crowd.close_all()
            nursery.cancel_scope.cancel()


async def _paced_pings(pairs: list[Pair], rate: float, ends_at: float) -> None:
    first = trio.current_time()
    for number in itertools.count():
        await trio.sleep_until(first + number / rate)
        if time.perf_counter() >= ends_at:
            return
        pair = pairs[number % len(pairs)]
        await pair.a.link.send(pair.ping())


async def _bounce(dialect: Dialect, plan: PingPongPlan, crowd: Crowd, meter: Meter) -> Result:
    before = reading(meter)
    game = PingPong(plan.seconds, paced=bool(plan.rate))
    users = crowd.users
    pairs = [Pair(dialect, users[i], users[i + 1], game) for i in range(0, len(users), 2)]
    started = time.perf_counter()
    if plan.rate:
        await _paced_pings(pairs, plan.rate, game.ends_at)
        game.check_idle(time.perf_counter())  # every pong may be back already
    else:
        for pair in pairs:
            await pair.a.link.send(pair.ping())
    with trio.move_on_at(trio.current_time() + plan.seconds + plan.settle):
        await game.idle.wait()
    after = reading(meter)
    sent = sum(pair.sent() for pair in pairs)
    if dialect.acknowledges:
        with trio.move_on_after(plan.settle):
            while sum(user.replies for user in users) < sent:
                await trio.sleep(0.01)  # polling a counter, under the deadline above
    span = game.last_return - started
    problems = crowd.problems()
    replies = sum(user.replies for user in users)
    if dialect.acknowledges and replies != sent:
        problems.append(f"{replies} replies to {sent} direct messages")
    lost = game.in_flight
    return {
        "ok": not problems and not lost, "dialect": dialect.name, "pairs": len(pairs),
        "seconds": round(span, 3), "rate": plan.rate, "round_trips": game.round_trips,
        "lost": lost,
        "duplicates": sum(u.receiver.duplicates for u in users),
        "round_trips_per_s": round(game.round_trips / span) if span > 0 else 0,
        **latency_ms(game.latencies, LATENCY_POINTS), "cpu_s": cpu_used(before, after),
        **per_unit(cpu_used(before, after), game.round_trips), "problems": problems,
    }


@dataclass(frozen=True)
class IdlePlan:
    addresses: Sequence[Address]
    users: int = 1000
    seconds: float = 12.0
    in_flight: int = 200


async def idle(dialect: Dialect, plan: IdlePlan, meter: Meter) -> Result:
    prefix = f"i{run_id()}x"
    async with trio.open_nursery() as nursery:
        crowd = Crowd(dialect, nursery)
        try:
            await crowd.log_in_all(_plan(prefix, plan.users, plan.addresses), plan.in_flight)
            if len(crowd.users) != plan.users:
                return {"ok": False, "problems": crowd.problems()}
            await crowd.settle_presence()
            before = reading(meter)
            await trio.sleep(plan.seconds)  # the measured time itself: nobody says anything
            used = cpu_used(before, reading(meter))
            problems = crowd.problems()
            return {"ok": not problems, "dialect": dialect.name, "users": plan.users,
                    "seconds": used["wall"], "cpu_s": used, "problems": problems}
        finally:
            await crowd.close_all()
            nursery.cancel_scope.cancel()
