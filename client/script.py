"""Scripted mode (stdin is not a terminal): commands from stdin, plain lines to stdout."""

import os
import sys

import trio

from client.lines import split_lines
from client.render import Shown


class PlainOutput:
    """Rendered lines without colour; ``--raw`` prints the protocol lines."""

    def show(self, shown: Shown) -> None:
        print(shown.text, flush=True)

    def raw(self, line: str) -> None:
        print(line, flush=True)

    def notice(self, shown: Shown) -> None:
        print(shown.text, file=sys.stderr, flush=True)


async def feed_stdin(send: trio.MemorySendChannel[str]) -> None:
    """Send each stdin line to ``send``; close it at end of input."""
    async with send, trio.lowlevel.FdStream(os.dup(sys.stdin.fileno())) as stdin:
        pending = b""
        while data := await stdin.receive_some(65536):
            lines, pending = split_lines(pending, data)
            for line in lines:
                await send.send(line.decode("utf-8", errors="replace"))
        if pending:
            await send.send(pending.decode("utf-8", errors="replace"))
