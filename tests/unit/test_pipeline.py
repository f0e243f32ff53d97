"""The command pipeline batches what callers issue while a batch is in flight, and
hands each caller its own result or error. (Its batches run against a real Redis in
every integration test; here the batch runner is a plain function.)"""

from collections.abc import Sequence

import pytest
import trio
import trio.testing

from node.pipeline import Command, CommandPipeline


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[Command]] = []
        self.release = trio.Event()
        self.fail_whole = False

    async def execute(self, commands: list[Command]) -> Sequence[object]:
        self.batches.append(commands)
        await self.release.wait()
        if self.fail_whole:
            raise ConnectionError("redis went away")
        return [ValueError(c[1]) if c[0] == "BAD" else f"done {c[1]}" for c in commands]


async def test_commands_issued_while_a_batch_is_out_go_together(nursery: trio.Nursery) -> None:
    recorder = Recorder()
    pipeline = CommandPipeline(recorder.execute)
    await nursery.start(pipeline.run)
    results: dict[str, object] = {}

    async def call(name: str, verb: str = "GET") -> None:
        try:
            results[name] = await pipeline.call([verb, name])
        except ValueError as exc:
            results[name] = f"error {exc}"

    nursery.start_soon(call, "first")
    await trio.testing.wait_all_tasks_blocked()
    for name in ("a", "b", "c"):  # while "first" is in flight
        nursery.start_soon(call, name, "BAD" if name == "b" else "GET")
    await trio.testing.wait_all_tasks_blocked()
    recorder.release.set()
    with trio.fail_after(5):
        while len(results) < 4:
            await trio.testing.wait_all_tasks_blocked()
    first, second = recorder.batches  # (trio starts tasks in no particular order)
    assert first == [["GET", "first"]]
    assert sorted(second) == [["BAD", "b"], ["GET", "a"], ["GET", "c"]]
    assert results == {"first": "done first", "a": "done a", "b": "error b", "c": "done c"}


async def test_a_failed_batch_fails_every_caller_in_it(nursery: trio.Nursery) -> None:
    recorder = Recorder()
    recorder.fail_whole = True
    recorder.release.set()
    pipeline = CommandPipeline(recorder.execute)
    await nursery.start(pipeline.run)
    for name in ("x", "y"):
        with pytest.raises(ConnectionError):
            await pipeline.call(["GET", name])
