"""What ``bench.compare`` shows while it runs: each workload with its elapsed time and
the CPU share of every process (from the same /proc readings as the results), then
the tables. Rich on a terminal; plain lines on stderr otherwise.

The display is redrawn from the trio thread twice a second (no refresh thread), so
its cost is part of the generator's measured CPU time, and small."""

import sys
from collections.abc import Awaitable, Callable

import trio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from bench.report import COMPARISON_HEADER, CPU_HEADER, Results, comparison_rows, cpu_rows
from client.loadgen_workloads import Meter, Result, reading

TICK = 0.5


class Display:
    def __init__(self) -> None:
        self.console = Console(stderr=True)

    def note(self, text: str) -> None:
        self.console.log(text)

    async def watch(self, label: str, meter: Meter,
                    run: Callable[[Meter], Awaitable[Result]]) -> Result:
        if not self.console.is_terminal:
            self.note(f"{label} …")
            return await run(meter)
        with Live(console=self.console, auto_refresh=False, transient=True) as view:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._tick, label, meter, view)
                result = await run(meter)
                nursery.cancel_scope.cancel()
        return result

    async def _tick(self, label: str, meter: Meter, view: Live) -> None:
        began = last = reading(meter)
        while True:
            await trio.sleep(TICK)  # the display's pace, not a synchronisation
            now = reading(meter)
            wall = now["wall"] - last["wall"]
            shares = "  ".join(f"{name} {(now[name] - last[name]) / wall:4.0%}"
                               for name in now if name != "wall")
            view.update(f"[bold]{label}[/]  {now['wall'] - began['wall']:5.1f} s  "
                        f"CPU: {shares}", refresh=True)
            last = now

    def done(self, label: str, result: Result) -> None:
        verdict = "[green]ok[/]" if result.get("ok") else "[red]PROBLEMS[/]"
        figures = {key: result[key] for key in (
            "deliveries_per_s", "round_trips_per_s", "logged_in", "seconds", "server_us",
            "generator_us", "lost", "p99_ms", "rss_per_user_kib") if key in result}
        self.console.log(f"{label}: {verdict} {figures}")
        problems = result.get("problems")
        for problem in problems[:5] if isinstance(problems, list) else []:
            self.console.log(f"  [red]{problem}[/]")

    def tables(self, results: Results) -> None:
        out = Console() if sys.stdout.isatty() else Console(file=sys.stdout, width=200)
        for header, rows in ((COMPARISON_HEADER, comparison_rows(results)),
                             (CPU_HEADER, cpu_rows(results))):
            table = Table(*header)
            for row in rows:
                table.add_row(*row)
            out.print(table)
