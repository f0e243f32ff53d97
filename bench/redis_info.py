"""What a Redis/Valkey server says about its own work: CPU time, memory in use and, per
command, calls and microseconds (``INFO cpu memory commandstats``). Parsing is pure;
``read`` asks a server.

Its CPU time is the server's own ``getrusage`` (microseconds), finer than the 10 ms
ticks of /proc, which matters for a server that spends a few µs per message. Commands
a Lua script runs (the PUBLISH inside broadcast.lua) count as calls of their own, and
their time is inside the script's too.
"""

from dataclasses import dataclass, field

from devcluster.resp import call

# Our own INFO calls are not part of the workload.
NOT_COUNTED = frozenset({"info"})


@dataclass(frozen=True)
class RedisReading:
    cpu_s: float
    calls: dict[str, int] = field(default_factory=dict)  # command (lower case) -> calls
    usec: dict[str, int] = field(default_factory=dict)  # command -> µs spent in it
    memory: int = 0  # used_memory, bytes

    def since(self, before: "RedisReading") -> "RedisReading":
        """The work done between ``before`` and this reading (memory: the growth)."""
        return RedisReading(
            round(self.cpu_s - before.cpu_s, 6),
            _minus(self.calls, before.calls), _minus(self.usec, before.usec),
            self.memory - before.memory)


def _minus(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    found = {name: after[name] - before.get(name, 0) for name in after}
    return {name: count for name, count in found.items() if count}


def parse_info(text: str) -> RedisReading:
    """``used_cpu_sys`` + ``used_cpu_user``, ``used_memory``, and
    ``cmdstat_<name>:calls=..,usec=..``."""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    cpu = float(fields.get("used_cpu_sys", 0)) + float(fields.get("used_cpu_user", 0))
    calls, usec = {}, {}
    for key, value in fields.items():
        if not key.startswith("cmdstat_"):
            continue
        name = key.removeprefix("cmdstat_").lower()
        if name in NOT_COUNTED:
            continue
        stats = dict(part.split("=", 1) for part in value.strip().split(",") if "=" in part)
        calls[name], usec[name] = int(stats["calls"]), int(stats["usec"])
    return RedisReading(cpu, calls, usec, int(fields.get("used_memory", 0)))


def read(port: int, host: str = "127.0.0.1") -> RedisReading:
    text = call(port, "INFO", "cpu", "memory", "commandstats", host=host, timeout=5)
    if not isinstance(text, str):
        raise RuntimeError(f"INFO on port {port} answered {text!r}")
    return parse_info(text)


def total(readings: dict[str, RedisReading]) -> RedisReading:
    """Work summed over several servers (the shards of a cluster)."""
    calls: dict[str, int] = {}
    usec: dict[str, int] = {}
    for reading in readings.values():
        for name, count in reading.calls.items():
            calls[name] = calls.get(name, 0) + count
        for name, spent in reading.usec.items():
            usec[name] = usec.get(name, 0) + spent
    return RedisReading(round(sum(r.cpu_s for r in readings.values()), 6), calls, usec,
                        sum(r.memory for r in readings.values()))
