"""The login storm, then idle: many users log in to one node as fast as this process
drives them (a bounded number in flight), stay connected and silent; then the node's
memory per user, and whether it still answers a fresh client promptly.

A storm that does not finish within its timeout is a result, not an error: it reports
how many got in. Idle users read and discard what our node sends (it asks nothing of
them); socket.io users keep answering the Engine.IO heartbeat, or the peer would drop
them.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import trio

from client.loadgen import latency_ms
from client.loadgen_users import Crowd, User, log_in
from client.loadgen_wire import Address, Dialect, OurLines, WireError
from client.loadgen_workloads import Meter, Result, cpu_used, reading, run_id


@dataclass(frozen=True)
class StormPlan:
    address: Address
    users: int = 10_000
    in_flight: int = 200
    timeout: float = 120.0  # for the whole storm
    quiet: float = 1.0  # idle: nothing received by any user for this long...
    quiet_bound: float = 30.0  # ...waited for at most this long
    probe_timeout: float = 10.0


async def login_storm(dialect: Dialect, plan: StormPlan, meter: Meter,
                      rss_kib: Callable[[], int]) -> Result:
    prefix = f"s{run_id()}x"
    people = [(f"{prefix}{i}", plan.address) for i in range(plan.users)]
    rss_before = rss_kib()
    async with trio.open_nursery() as nursery:
        crowd = Crowd(dialect, nursery, timeout=plan.timeout)
        try:
            before = reading(meter)
            with trio.move_on_after(plan.timeout) as storm:
                await crowd.log_in_all(people, plan.in_flight, on_login=_go_idle)
            after = reading(meter)
            idle_s = await _until_quiet(crowd.users, plan)
            rss_after = rss_kib()
            probe = await _probe(dialect, plan, nursery, prefix)
        finally:
            await crowd.close_all()
            nursery.cancel_scope.cancel()
    used = cpu_used(before, after)
    logged_in = len(crowd.users)
    finished = not storm.cancelled_caught and logged_in == plan.users
    return {
        # A storm that did not finish is a result; lost connections or refusals are not.
        "ok": not crowd.problems(), "dialect": dialect.name,
        "users": plan.users, "in_flight": plan.in_flight, "logged_in": logged_in,
        "finished": finished, "seconds": round(used["wall"], 3),
        "logins_per_s": round(logged_in / used["wall"], 1) if used["wall"] else 0,
        **latency_ms(crowd.login_seconds, (0.5, 0.99, 1.0)), "cpu_s": used,
        "idle_wait_s": round(idle_s, 3), "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_per_user_kib": round((rss_after - rss_before) / logged_in, 2) if logged_in else None,
        "probe": probe, "problems": crowd.problems(),
    }


def _go_idle(user: User) -> None:
    if isinstance(user.dialect, OurLines):
        user.receiver.draining = True


async def _until_quiet(users: list[User], plan: StormPlan) -> float:
    """Until no user has received anything for ``plan.quiet`` s (bounded)."""
    began = time.perf_counter()
    seen, quiet_since = -1, began
    with trio.move_on_after(plan.quiet_bound):
        while time.perf_counter() - quiet_since < plan.quiet:
            total = sum(user.receiver.bytes for user in users)
            if total != seen:
                seen, quiet_since = total, time.perf_counter()
            await trio.sleep(plan.quiet / 4)  # polling byte counters, under the bound
    return time.perf_counter() - began


async def _probe(dialect: Dialect, plan: StormPlan, nursery: trio.Nursery,
                 prefix: str) -> dict[str, object]:
    """A fresh client: seconds to log in, and (ours) to have ``whoami`` answered."""
    began = time.perf_counter()
    answer: dict[str, object] = {"login_s": None, "whoami_s": None, "error": ""}
    try:
        user = await log_in(dialect, plan.address, f"{prefix}fresh", nursery,
                            plan.probe_timeout)
    except (WireError, trio.TooSlowError, OSError) as exc:
        answer["error"] = str(exc) or f"no login within {plan.probe_timeout} s"
        return answer
    answer["login_s"] = round(time.perf_counter() - began, 4)
    try:
        if isinstance(dialect, OurLines):
            began = time.perf_counter()
            user.next_reply = trio.Event()
            await user.link.send(dialect.encode("whoami"))
            with trio.fail_after(plan.probe_timeout):
                await user.next_reply.wait()
            answer["whoami_s"] = round(time.perf_counter() - began, 4)
    except trio.TooSlowError:
        answer["error"] = f"no whoami answer within {plan.probe_timeout} s"
    finally:
        await user.close()
    return answer
