"""Commands from every connection of a node, sent to Redis together.

One call through the Redis client costs about 200 µs of CPU on this machine kind,
whatever the command; a batch of 50 costs about as much as five calls. So a command
issued while a batch is in flight waits for the next one, which carries everything
queued by then: under load batches grow by themselves, and a lone command goes out at
once. The batch itself is run by ``execute`` (``cluster.py``, the one place that talks
to the Redis client); a result that is an exception is raised to its caller alone.
"""

from collections.abc import Awaitable, Callable, Sequence

import trio

Command = list[str]
Execute = Callable[[list[Command]], Awaitable[Sequence[object]]]


class _Pending:
    __slots__ = ("command", "done", "result", "error")

    def __init__(self, command: Command) -> None:
        self.command = command
        self.done = trio.Event()
        self.result: object = None
        self.error: BaseException | None = None


class CommandPipeline:
    def __init__(self, execute: Execute, max_batch: int = 512) -> None:
        self._execute = execute
        self._max_batch = max_batch
        self._queue: list[_Pending] = []
        self._wake = trio.Event()

    async def call(self, command: Command) -> object:
        """Send ``command`` in the next batch; its result (or its error, raised)."""
        [pending] = await self._send([command])
        if pending.error is not None:
            raise pending.error
        return pending.result

    async def call_many(self, commands: list[Command]) -> list[object]:
        """Send ``commands`` together, in order, in the next batch; a result (or an
        exception object) for each."""
        return [pending.error or pending.result for pending in await self._send(commands)]

    async def _send(self, commands: list[Command]) -> list[_Pending]:
        pendings = [_Pending(command) for command in commands]
        self._queue.extend(pendings)
        self._wake.set()
        for pending in pendings:
            await pending.done.wait()
        return pendings

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self._queue:
                # call_many's commands may straddle two batches: still in order.
                batch = self._queue[:self._max_batch]
                del self._queue[:self._max_batch]
                await self._run_batch(batch)

    async def _run_batch(self, batch: list[_Pending]) -> None:
        try:
            results = await self._execute([pending.command for pending in batch])
        except Exception as exc:  # the whole batch failed: every caller hears it
            for pending in batch:
                pending.error = exc
                pending.done.set()
            return
        for pending, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                pending.error = result
            else:
                pending.result = result
            pending.done.set()
