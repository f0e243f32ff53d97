"""Figures and tables of a ``bench.scaling`` run. Pure: results in, numbers and Markdown
out.

A broadcast's unit is a delivery to a receiver (the sender's own copy is not counted,
as in ``bench.compare``), its message a broadcast; a direct message's unit is a round
trip, two messages (the ping and the pong). Idle users are counted per user and second;
a node's heartbeat re-asserts each of its users with 5 HGETs (lua/reassert.lua: the
claim token, then the four other entries; it writes only what is missing), so HGETs ÷ 5
is how many re-assertions the window saw.
"""

from collections.abc import Mapping
from typing import Any

from bench.report import markdown_table

COUNTED = ("evalsha", "publish", "spublish")
Found = Mapping[str, Any]  # one configuration: names, roles, and the workloads' results


def _us(seconds: float, count: int) -> float:
    return round(seconds / count * 1e6, 2) if count else 0.0


def figures(found: Found, workload: str) -> dict[str, Any]:
    """Per unit and per message: CPU µs of the nodes and of each Redis process, Redis
    commands (and µs inside each counted command per call), and the generator's share."""
    result = found[workload]
    if workload == "broadcast":
        units, messages = result["deliveries"], result["messages"]
    else:
        units, messages = result["round_trips"], 2 * result["round_trips"]
    cpu, calls, usec = result["cpu_s"], result["redis_calls"], result["redis_usec"]
    nodes = sum(cpu[name] for name in found["nodes"])
    redis = {name: cpu[name] for name in found["redis"]}
    return {
        "units": units, "messages": messages,
        "server_us": _us(nodes + sum(redis.values()), units),
        "nodes_us": _us(nodes, units),
        "redis_us": _us(sum(redis.values()), units),
        "redis_us_by_server": {name: _us(seconds, units) for name, seconds in redis.items()},
        "redis_us_per_message": _us(sum(redis.values()), messages),
        "commands_per_message": {name: round(calls.get(name, 0) / messages, 3)
                                 for name in COUNTED} | {
            "all": round(sum(calls.values()) / messages, 3) if messages else 0.0},
        "usec_per_call": {name: round(usec[name] / calls[name], 2)
                          for name in COUNTED if calls.get(name)},
        "generator_share": round(cpu["generator"] / cpu["wall"], 3) if cpu["wall"] else 0.0,
    }


def idle_figures(found: Found) -> dict[str, Any]:
    """Per connected user and second: CPU µs of the nodes and of each Redis process,
    Redis commands; and how many times each user was re-asserted in the window."""
    result = found["idle"]
    cpu, calls = result["cpu_s"], result["redis_calls"]
    user_seconds = result["users"] * cpu["wall"]
    nodes = sum(cpu[name] for name in found["nodes"])
    redis = {name: cpu[name] for name in found["redis"]}
    return {
        "user_seconds": round(user_seconds, 1),
        "nodes_us": _us(nodes, user_seconds), "redis_us": _us(sum(redis.values()), user_seconds),
        "redis_us_by_server": {name: _us(seconds, user_seconds) for name, seconds in redis.items()},
        "commands_per_user_s": round(sum(calls.values()) / user_seconds, 3),
        "reassertions_per_user": round(calls.get("hget", 0) / 5 / result["users"], 2),
        "redis_bytes_per_user": round(result["redis_memory_growth"] / result["users"]),
    }


def _by_server(figure: dict[str, Any]) -> str:
    split, total = figure["redis_us_by_server"], f"{figure['redis_us']:.2f}"
    if len(split) < 2:
        return total
    share = ", ".join(f"{name} {value:.2f}" for name, value in split.items())
    return f"{total} ({share})"


def _commands(figure: dict[str, Any]) -> str:
    per = figure["commands_per_message"]
    return " · ".join(f"{per[name]:.2f}" for name in (*COUNTED, "all"))


def _faults(result: Mapping[str, Any]) -> str:
    faults = (result.get("lost", 0), result.get("duplicates", 0), result.get("late", 0))
    return " / ".join(str(count) for count in faults) + ("" if result.get("ok") else " NOT OK")


BROADCAST_HEADER = [
    "configuration", "deliveries/s", "latency p50 / p99 ms", "server µs / delivery",
    "nodes µs / delivery",
    "Redis µs / delivery (per process)", "Redis µs / broadcast",
    "EVALSHA · PUBLISH · SPUBLISH · all commands (scripts' own included) / broadcast",
    "generator share of a core", "lost / dup / late"]
DIRECT_HEADER = [
    "configuration", "round trips/s", "round trip p50 / p99 ms", "server µs / round trip",
    "nodes µs / round trip",
    "Redis µs / round trip (per process)", "Redis µs / direct message",
    "EVALSHA · PUBLISH · SPUBLISH · all commands (scripts' own included) / direct message",
    "generator share of a core", "lost / dup / late"]


def rows(results: Mapping[str, Found], workload: str) -> list[list[str]]:
    rate = "deliveries_per_s" if workload == "broadcast" else "round_trips_per_s"
    found_rows = []
    for label, found in results.items():
        result, figure = found[workload], figures(found, workload)
        found_rows.append([
            label, f"{result[rate]:,}", f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f}",
            f"{figure['server_us']:.2f}",
            f"{figure['nodes_us']:.2f}", _by_server(figure),
            f"{figure['redis_us_per_message']:.1f}", _commands(figure),
            f"{figure['generator_share']:.0%}", _faults(result)])
    return found_rows


IDLE_HEADER = [
    "configuration", "users", "seconds", "nodes µs / user / s",
    "Redis µs / user / s (per process)", "Redis commands / user / s",
    "re-assertions per user in the window", "Redis bytes / user", "problems"]


def idle_rows(results: Mapping[str, Found]) -> list[list[str]]:
    found_rows = []
    for label, found in results.items():
        if "idle" not in found:
            continue
        result, figure = found["idle"], idle_figures(found)
        found_rows.append([
            label, f"{result['users']:,}", f"{result['seconds']:.1f}",
            f"{figure['nodes_us']:.2f}", _by_server(figure),
            f"{figure['commands_per_user_s']:.2f}", f"{figure['reassertions_per_user']:.1f}",
            f"{figure['redis_bytes_per_user']:,}",
            "none" if result.get("ok") else "; ".join(result.get("problems", []))[:200]])
    return found_rows


def role_lines(results: Mapping[str, Found]) -> list[str]:
    lines = []
    for label, found in results.items():
        found_roles = found.get("roles") or {}
        if found_roles:
            where = ", ".join(f"{what} on {name}" for what, name in found_roles.items())
            lines.append(f"- {label}: {where}")
    return lines


def markdown(results: Mapping[str, Found], versions: Mapping[str, str], command: str) -> str:
    parts = [f"```sh\n{command}\n```",
             "Broadcast:", markdown_table(BROADCAST_HEADER, rows(results, "broadcast")),
             "Direct messages:", markdown_table(DIRECT_HEADER, rows(results, "direct"))]
    if idle_rows(results):
        parts += ["Idle users:", markdown_table(IDLE_HEADER, idle_rows(results))]
    if role_lines(results):
        parts.append("Where the registry's slot and each node's channel live:\n\n"
                     + "\n".join(role_lines(results)))
    parts.append(markdown_table(["component", "version"],
                                [[name, value] for name, value in versions.items()]))
    return "\n\n".join(parts) + "\n"
