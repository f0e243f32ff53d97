"""``python -m client.loadgen``: many line clients against a local cluster; one JSON line out.

Three phases, each under a deadline: connect and log in every user (round robin over
the nodes, a bounded number at a time); wait until every user has heard of every other
one (`users` + `join`), so join traffic has drained; then send the measured messages and
wait until every copy has arrived. Every client reads its socket all the time, so a
node sees this process as a slow consumer only if this process runs out of CPU.

Send times travel in the message text as ``time.perf_counter()`` values, which works
because senders and receivers live in this one process. Only loopback addresses are
accepted: this is for load-testing your own cluster.
"""

import argparse
import ipaddress
import json
import math
import random
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import trio

from client.lines import split_lines

MAX_LINE = 1 << 20
# Presence counts as settled once no `users`/`join` line has arrived for this long, even
# if some user was never told of another (the "missed join" race in architecture.md).
PRESENCE_QUIET = 1.0
Address = tuple[str, int]
Summary = dict[str, object]


@dataclass(frozen=True)
class LoadConfig:
    nodes: tuple[Address, ...]
    users: int
    messages: int = 100
    mode: str = "broadcast"  # or "direct"
    rate: float = 0.0  # measured messages per second over all senders; 0: closed loop
    senders: int = 4
    connect_limit: int = 64  # connections being set up at once
    request_timeout: float = 10.0  # one connect; one reply; one `users` line
    phase_timeout: float = 60.0  # all logins; all sends
    settle_timeout: float = 10.0  # presence; deliveries after the last send
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def prefix(self) -> str:
        return f"lg{self.run_id}-"


class LoadFailed(Exception):
    """A user could not connect or log in, a reply was missing or wrong, or a deadline passed."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of values sorted ascending; 0.0 when there are none."""
    if not ordered:
        return 0.0
    rank = math.ceil(fraction * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def latency_ms(values: Sequence[float], points: Sequence[float]) -> dict[str, float]:
    """``{"p50_ms": ..., "max_ms": ...}`` for the seconds in ``values`` (1.0 is "max")."""
    ordered = sorted(values)
    return {("max" if q == 1.0 else f"p{q * 100:g}") + "_ms":
            round(percentile(ordered, q) * 1000, 3) for q in points}


def split_evenly(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if part < total % parts else 0) for part in range(parts)]


class Book:
    """Arrivals of the measured messages: each (receiver, message) is expected exactly once.

    Broadcast numbers count per sender, so order per sender is checked as well; direct
    numbers are global, and each message has one intended receiver (``targets``).
    """

    def __init__(self, config: LoadConfig) -> None:
        self.broadcast = config.mode == "broadcast"
        self.kind = b"msgall" if self.broadcast else b"msg"
        self.prefix = config.prefix.encode()
        self.per_sender = split_evenly(config.messages, config.senders)
        self.expected = config.messages * (config.users if self.broadcast else 1)
        self._seen = ([[bytearray(n) for n in self.per_sender] for _ in range(config.users)]
                      if self.broadcast else [[bytearray(config.messages)]])
        self._highest = [[-1] * config.senders for _ in range(config.users)]
        self.targets = [-1] * config.messages
        self.received = self.duplicates = self.reordered = self.unexpected = 0
        self.send_errors = 0
        self.latencies: list[float] = []
        self.last_arrival = 0.0
        self.done = trio.Event()

    def arrived(self, receiver: int, line: bytes, now: float) -> None:
        parts = line.split(b" ")
        try:
            if len(parts) != 4 or parts[0] != self.kind or not parts[1].startswith(self.prefix):
                raise ValueError(line)
            sender, number = int(parts[1][len(self.prefix):]), int(parts[2])
            sent_at = float(parts[3])
            seen = self._slot(receiver, sender, number)
        except (ValueError, IndexError):
            self.unexpected += 1
            return
        if seen[number]:
            self.duplicates += 1
            return
        seen[number] = 1
        if self.broadcast:
            highest = self._highest[receiver]
            if number < highest[sender]:
                self.reordered += 1
            highest[sender] = max(number, highest[sender])
        self.received += 1
        self.latencies.append(now - sent_at)
        self.last_arrival = now
        if self.received >= self.expected:
            self.done.set()

    def _slot(self, receiver: int, sender: int, number: int) -> bytearray:
        """The seen-flags holding ``number``; IndexError/ValueError if it is not ours."""
        if self.broadcast:
            return self._seen[receiver][sender]
        if self.targets[number] != receiver:
            raise ValueError(f"message {number} reached user {receiver}")
        return self._seen[0][0]


class LoadClient:
    """One user's connection: a reader task that always drains the socket, and one
    command at a time (so one reply slot is enough)."""

    def __init__(self, index: int, stream: trio.SocketStream, run: "LoadRun") -> None:
        self.index = index
        self.stream = stream
        self._run = run
        self._buffer = b""
        self._reply_in, self._replies = trio.open_memory_channel[str](1)
        self.listed = trio.Event()
        self._known = bytearray(run.config.users)
        self.known = 0

    async def request(self, line: str, timeout: float) -> str:
        try:
            with trio.fail_after(timeout):
                await self.stream.send_all(line.encode() + b"\n")
                return await self._replies.receive()
        except trio.TooSlowError:
            raise LoadFailed(f"user {self.index}: no reply to {line[:40]!r} "
                             f"within {timeout} s") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.EndOfChannel):
            raise LoadFailed(f"user {self.index}: connection lost") from None

    async def read_forever(self) -> None:
        try:
            while data := await self.stream.receive_some(65536):
                self._take(data, time.perf_counter())
            self._run.fail(f"user {self.index}: the node closed the connection")
        except (trio.BrokenResourceError, trio.ClosedResourceError, LoadFailed) as exc:
            self._run.fail(f"user {self.index}: {str(exc) or type(exc).__name__}")
        self._run.lost += 1
        self._reply_in.close()

    def _take(self, data: bytes, now: float) -> None:
        lines, self._buffer = split_lines(self._buffer, data)
        if len(self._buffer) > MAX_LINE:
            raise LoadFailed("the node sent an over-long line")
        for line in lines:
            if line.startswith((b"msgall ", b"msg ")):
                self._run.book.arrived(self.index, line, now)
            elif line.startswith((b"users ", b"join ")):
                self._run.last_presence = now
                self._learn(line)
            elif line.startswith((b"ok ", b"error ")):
                try:
                    self._reply_in.send_nowait(line.decode())
                except trio.WouldBlock:
                    raise LoadFailed(f"a reply nobody asked for: {line[:80]!r}") from None

    def _learn(self, line: bytes) -> None:
        prefix, users = self._run.prefix, self._run.config.users
        for name in line.split(b" ")[1:]:
            suffix = name[len(prefix):]
            if name.startswith(prefix) and suffix.isdigit():
                index = int(suffix)
                if index < users and not self._known[index]:
                    self._known[index] = 1
                    self.known += 1
                    if self.known == users:
                        self._run.presence_complete()
        if line.startswith(b"users "):
            self.listed.set()


class LoadRun:
    """The state of one run: its clients, what they saw, and the phases."""

    def __init__(self, config: LoadConfig, readers: trio.Nursery) -> None:
        self.config = config
        self.prefix = config.prefix.encode()
        self.book = Book(config)
        self.readers = readers
        self.clients: list[LoadClient] = []
        self.failures: list[str] = []
        self.lost = 0
        self.login_latencies: list[float] = []
        self.login_seconds = 0.0
        self.presence_seconds = 0.0
        self.last_presence = 0.0
        self.everyone_known = trio.Event()
        self._complete_views = 0
        self.send_seconds = 0.0
        self.started = self.ended = 0.0

    def fail(self, reason: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(reason)

    def presence_complete(self) -> None:
        self._complete_views += 1
        if self._complete_views == self.config.users:
            self.everyone_known.set()

    async def log_in_all(self) -> None:
        config = self.config
        limiter = trio.CapacityLimiter(config.connect_limit)
        began = time.perf_counter()
        with trio.move_on_after(config.phase_timeout) as scope:
            async with trio.open_nursery() as logins:
                for index in range(config.users):
                    logins.start_soon(self._log_in_one, index, limiter)
        self.login_seconds = time.perf_counter() - began
        if scope.cancelled_caught:
            self.fail(f"logins did not finish within {config.phase_timeout} s")
        if self.failures:
            raise LoadFailed(f"{len(self.failures)}+ logins failed")

    async def _log_in_one(self, index: int, limiter: trio.CapacityLimiter) -> None:
        config = self.config
        host, port = config.nodes[index % len(config.nodes)]
        name = f"{config.prefix}{index}"
        async with limiter:
            began = time.perf_counter()
            try:
                with trio.fail_after(config.request_timeout):
                    stream = await trio.open_tcp_stream(host, port)
                client = LoadClient(index, stream, self)
                self.clients.append(client)
                self.readers.start_soon(client.read_forever)
                reply = await client.request(f"login {name}", config.request_timeout)
                if reply != f"ok login {name}":
                    raise LoadFailed(f"{name}: {reply}")
                with trio.fail_after(config.request_timeout):
                    await client.listed.wait()
            except (OSError, trio.TooSlowError, LoadFailed) as exc:
                self.fail(f"{name} via {host}:{port}: {str(exc) or type(exc).__name__}")
                return
            self.login_latencies.append(time.perf_counter() - began)

    async def wait_for_presence(self) -> None:
        """Until everyone has heard of everyone, or presence lines stopped coming."""
        began = time.perf_counter()
        with trio.move_on_after(self.config.settle_timeout):
            while time.perf_counter() - self.last_presence < PRESENCE_QUIET:
                with trio.move_on_after(PRESENCE_QUIET / 4):
                    await self.everyone_known.wait()
                    break
        self.presence_seconds = time.perf_counter() - began

    async def send_measured(self) -> None:
        config = self.config
        senders = sorted(self.clients, key=lambda c: c.index)[:config.senders]
        rng = random.Random(config.run_id)
        self.started = time.perf_counter()
        with trio.move_on_after(config.phase_timeout) as scope:
            async with trio.open_nursery() as nursery:
                for slot, client in enumerate(senders):
                    nursery.start_soon(self._send_from, slot, client, rng)
        self.send_seconds = time.perf_counter() - self.started
        if scope.cancelled_caught:
            self.fail(f"sending did not finish within {config.phase_timeout} s")
        with trio.move_on_after(config.settle_timeout):
            await self.book.done.wait()
        self.ended = time.perf_counter()

    async def _send_from(self, slot: int, client: LoadClient, rng: random.Random) -> None:
        config, book = self.config, self.book
        interval = config.senders / config.rate if config.rate > 0 else 0.0
        start = trio.current_time() + (slot / config.rate if config.rate > 0 else 0.0)
        numbers = (range(book.per_sender[slot]) if book.broadcast
                   else range(slot, config.messages, config.senders))
        for count, number in enumerate(numbers):
            if interval:
                await trio.sleep_until(start + count * interval)
            try:
                reply = await client.request(self._message(client, number, rng),
                                             config.request_timeout)
            except LoadFailed as exc:
                self.fail(str(exc))
                return
            if not reply.startswith("ok "):
                book.send_errors += 1
                self.fail(f"user {client.index}: {reply}")

    def _message(self, client: LoadClient, number: int, rng: random.Random) -> str:
        stamp = f"{number} {time.perf_counter():.6f}"
        if self.book.broadcast:
            return f"msgall {stamp}"
        target = rng.randrange(self.config.users - 1)
        target += target >= client.index  # anyone but the sender
        self.book.targets[number] = target
        return f"msg {self.config.prefix}{target} {stamp}"

    async def close_all(self) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            for client in self.clients:
                await client.stream.aclose()


def presence(run: LoadRun) -> dict[str, object]:
    """How long presence took to settle, and who was never told of how many others."""
    missing = [run.config.users - client.known for client in run.clients]
    return {"seconds": round(run.presence_seconds, 3), "complete": not any(missing),
            "incomplete_users": sum(1 for m in missing if m), "missing_names": sum(missing)}


def summarize(run: LoadRun) -> Summary:
    config, book = run.config, run.book
    logins = len(run.login_latencies)
    span = (book.last_arrival - run.started) if book.received else 0.0
    delivery = {
        "expected": book.expected, "received": book.received,
        "losses": book.expected - book.received, "duplicates": book.duplicates,
        "reordered": book.reordered, "unexpected": book.unexpected,
        # Copies still coming in when the deadline passed: late (queued), maybe not lost.
        "still_arriving": bool(book.received) and run.ended - book.last_arrival < 0.5
        and book.received < book.expected,
        "send_errors": book.send_errors, "send_seconds": round(run.send_seconds, 3),
        "sent_per_s": round(config.messages / run.send_seconds, 1) if run.send_seconds else 0,
        "deliveries_per_s": round(book.received / span, 1) if span else 0,
        **latency_ms(book.latencies, (0.5, 0.95, 0.99, 1.0)),
    }
    login = {"count": logins, "seconds": round(run.login_seconds, 3),
             "per_s": round(logins / run.login_seconds, 1) if run.login_seconds else 0,
             **latency_ms(run.login_latencies, (0.5, 0.99, 1.0))}
    ok = not run.failures and delivery["losses"] == 0 and not (
        book.duplicates or book.reordered or book.unexpected or book.send_errors)
    return {"ok": ok, "mode": config.mode, "users": config.users, "nodes": len(config.nodes),
            "messages": config.messages, "senders": config.senders, "rate": config.rate,
            "login": login, "presence": presence(run), "delivery": delivery,
            "connections_lost": run.lost, "failures": run.failures}


async def run_load(config: LoadConfig,
                   after_login: Callable[[], Awaitable[None]] | None = None) -> Summary:
    """Run one scenario; ``after_login`` runs once everyone is in and presence settled."""
    async with trio.open_nursery() as readers:
        run = LoadRun(config, readers)
        try:
            await run.log_in_all()
            await run.wait_for_presence()
            if after_login is not None:
                await after_login()
            await run.send_measured()
        except LoadFailed as exc:
            run.fail(str(exc))
        finally:
            readers.cancel_scope.cancel()
            await run.close_all()
    return summarize(run)


def describe(summary: Summary) -> str:
    """A short human summary of ``summarize``'s output."""
    login, delivery, seen = summary["login"], summary["delivery"], summary["presence"]
    assert isinstance(login, dict) and isinstance(delivery, dict) and isinstance(seen, dict)
    return (f"{summary['mode']} {summary['users']} users over {summary['nodes']} nodes: "
            f"{'OK' if summary['ok'] else 'FAILED'}\n"
            f"  login {login['per_s']}/s, p50 {login['p50_ms']} ms, p99 {login['p99_ms']} ms;"
            f" presence settled in {seen['seconds']} s, {seen['incomplete_users']} users "
            f"never told of {seen['missing_names']} names in all\n"
            f"  {delivery['received']}/{delivery['expected']} delivered "
            f"({delivery['deliveries_per_s']}/s), latency p50 {delivery['p50_ms']} ms, "
            f"p99 {delivery['p99_ms']} ms, max {delivery['max_ms']} ms; losses "
            f"{delivery['losses']}, duplicates {delivery['duplicates']}, reordered "
            f"{delivery['reordered']}\n  failures: {summary['failures'] or 'none'}")


def parse_nodes(text: str) -> tuple[Address, ...]:
    """``HOST:PORT[,HOST:PORT...]`` with loopback hosts only."""
    nodes = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        address = "127.0.0.1" if host == "localhost" else host.strip("[]")
        try:
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"{host} is not a loopback address")
            nodes.append((address, int(port)))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{item!r}: {exc}") from None
    return tuple(nodes)


def parse_args(argv: list[str] | None = None) -> LoadConfig:
    parser = argparse.ArgumentParser(prog="python -m client.loadgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=parse_nodes, required=True,
                        help="HOST:PORT[,HOST:PORT...] TCP ports of the nodes (loopback only)")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--messages", type=int, default=100, help="measured messages (100)")
    parser.add_argument("--mode", choices=["broadcast", "direct"], default="broadcast")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="messages/s over all senders; 0 (default): each sender waits "
                             "for its reply, then sends the next")
    parser.add_argument("--senders", type=int, help="users sending (4, at most --users)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="for all logins, and for all sends (60 s)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="for presence, and for deliveries after the last send (10 s)")
    args = parser.parse_args(argv)
    args.senders = args.senders or min(4, args.users)
    if args.users < 2 or args.messages < 1 or not 1 <= args.senders <= args.users:
        parser.error("need --users >= 2, --messages >= 1 and 1 <= --senders <= --users")
    return LoadConfig(nodes=args.nodes, users=args.users, messages=args.messages,
                      mode=args.mode, rate=args.rate, senders=args.senders,
                      phase_timeout=args.timeout, settle_timeout=args.settle)


def main(argv: list[str] | None = None) -> None:
    summary = trio.run(run_load, parse_args(argv))
    print(json.dumps(summary), flush=True)
    print(describe(summary), file=sys.stderr)
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
