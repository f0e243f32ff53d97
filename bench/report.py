"""Tables of a ``bench.compare`` run: ours next to the peer with the ratio ours ÷ peer,
where the CPU went, and the versions; as Markdown (for docs/benchmarks.md) and as rows
for the terminal."""

from collections.abc import Callable

Results = dict[str, dict[str, dict[str, object]]]  # system -> workload -> result
Row = list[str]
OURS, PEER = ("ours/TCP", "ours/WS"), "peer"


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _fmt(value: object) -> str:
    number = _num(value)
    if number is None:
        return "—" if value is None else str(value)
    if number >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}" if number < 10 else f"{number:.1f}"


def _ratio(ours: object, peer: object) -> str:
    a, b = _num(ours), _num(peer)
    return f"{a / b:.2f}" if a is not None and b else "—"


def _get(results: Results, system: str, workload: str, key: str) -> object:
    return results.get(system, {}).get(workload, {}).get(key)


def _share(results: Results, system: str, workload: str, per: str) -> object:
    """Generator CPU per unit, with its share of one core over the measured wall time."""
    result = results.get(system, {}).get(workload, {})
    cpu = result.get("cpu_s")
    if not isinstance(cpu, dict) or result.get(per) is None:
        return None
    return f"{_fmt(result[per])} ({cpu['generator'] / cpu['wall']:.0%})" if cpu["wall"] else None


def _faults(results: Results, system: str, workload: str) -> object:
    result = results.get(system, {}).get(workload)
    if not result or "lost" not in result:
        return None
    return f"{result['lost']} / {result.get('duplicates', 0)} / {result.get('late', 0)}"


def _storm_time(results: Results, system: str) -> object:
    storm = results.get(system, {}).get("storm")
    if not storm or "finished" not in storm:
        return None
    if storm["finished"]:
        return storm["seconds"]
    return f"did not finish: {storm['logged_in']} logged in after {_fmt(storm['seconds'])} s"


def _probe(results: Results, system: str) -> object:
    probe = results.get(system, {}).get("storm", {}).get("probe")
    if not isinstance(probe, dict):
        return None
    if probe.get("error"):
        return str(probe["error"])
    parts = [f"login {_ms(probe['login_s'])}"]
    if probe.get("whoami_s") is not None:
        parts.append(f"whoami {_ms(probe['whoami_s'])}")
    return ", ".join(parts)


def _ms(seconds: object) -> str:
    number = _num(seconds)
    return "—" if number is None else f"{number * 1000:.1f} ms"


def _latency(results: Results, system: str, workload: str) -> object:
    result = results.get(system, {}).get(workload, {})
    if "p50_ms" not in result:
        return None
    return " / ".join(_fmt(result[key]) for key in ("p50_ms", "p99_ms", "max_ms"))


Figure = tuple[str, str, Callable[[Results, str], object], bool]


def _key(workload: str, key: str) -> Callable[[Results, str], object]:
    return lambda results, system: _get(results, system, workload, key)


FIGURES: list[Figure] = [
    # (workload, figure, value, ratio shown)
    ("broadcast", "deliveries/s", _key("broadcast", "deliveries_per_s"), True),
    ("broadcast", "server CPU µs per delivery", _key("broadcast", "server_us"), True),
    ("broadcast", "lost / duplicated / late", lambda r, s: _faults(r, s, "broadcast"), False),
    ("broadcast", "latency p50 / p99 / max ms", lambda r, s: _latency(r, s, "broadcast"),
     False),
    ("broadcast", "generator CPU µs per delivery (share of a core)",
     lambda r, s: _share(r, s, "broadcast", "generator_us"), False),
    ("direct", "round trips/s", _key("direct", "round_trips_per_s"), True),
    ("direct", "server CPU µs per round trip", _key("direct", "server_us"), True),
    ("direct", "round trip p50 / p99 / max ms", lambda r, s: _latency(r, s, "direct"), False),
    ("direct", "lost / duplicated", lambda r, s: _faults(r, s, "direct"), False),
    ("direct", "generator CPU µs per round trip (share of a core)",
     lambda r, s: _share(r, s, "direct", "generator_us"), False),
    ("login storm", "seconds for all logins", _storm_time, True),
    ("login storm", "node RSS KiB per user, idle", _key("storm", "rss_per_user_kib"), True),
    ("login storm", "node CPU s during the storm",
     lambda r, s: _storm_cpu(r, s), True),
    ("login storm", "a fresh client afterwards", _probe, False),
    ("half load", "broadcasts/s sent (half the broadcast maximum)", _key("latency", "rate"),
     True),
    ("half load", "latency p50 / p99 / max ms", lambda r, s: _latency(r, s, "latency"),
     False),
    ("half load", "lost / duplicated / late", lambda r, s: _faults(r, s, "latency"), False),
]


def _storm_cpu(results: Results, system: str) -> object:
    cpu = results.get(system, {}).get("storm", {}).get("cpu_s")
    if not isinstance(cpu, dict):
        return None
    return round(next(v for k, v in cpu.items() if k not in ("generator", "wall", "redis")), 2)


def comparison_rows(results: Results) -> list[Row]:
    rows = []
    for workload, figure, value, with_ratio in FIGURES:
        cells = {system: value(results, system) for system in (*OURS, PEER)}
        ratios = [_ratio(cells[s], cells[PEER]) if with_ratio else "" for s in OURS]
        rows.append([workload, figure, *(_fmt(cells[s]) for s in (*OURS, PEER)), *ratios])
    return rows


COMPARISON_HEADER = ["workload", "figure", "ours/TCP", "ours/WS", "peer",
                     "TCP ÷ peer", "WS ÷ peer"]
CPU_HEADER = ["system", "workload", "wall s", "server processes: CPU s (share of wall)",
              "generator CPU s (share)"]


def cpu_rows(results: Results) -> list[Row]:
    rows = []
    for system, workloads in results.items():
        for workload, result in workloads.items():
            cpu = result.get("cpu_s")
            if not isinstance(cpu, dict) or not cpu.get("wall"):
                continue
            wall = cpu["wall"]
            servers = ", ".join(f"{name} {seconds:.2f} ({seconds / wall:.0%})"
                                for name, seconds in cpu.items()
                                if name not in ("generator", "wall"))
            rows.append([system, workload, f"{wall:.2f}", servers,
                         f"{cpu['generator']:.2f} ({cpu['generator'] / wall:.0%})"])
    return rows


def markdown_table(header: Row, rows: list[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


def markdown(results: Results, versions: dict[str, str], command: str) -> str:
    version_rows = [[name, value] for name, value in versions.items()]
    return "\n\n".join([
        f"```sh\n{command}\n```",
        markdown_table(COMPARISON_HEADER, comparison_rows(results)),
        "Where the CPU went (each workload's measured window):",
        markdown_table(CPU_HEADER, cpu_rows(results)),
        markdown_table(["component", "version"], version_rows),
    ]) + "\n"
