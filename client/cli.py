"""``python -m client HOST [PORT]`` / ``chat-client``: the console chat client."""

import argparse
import signal
import sys
from contextlib import AbstractContextManager, nullcontext

import trio

from client.link import Target
from client.render import Shown, Style
from client.runner import Client, Options, Output


def parse_args(argv: list[str] | None = None) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(
        prog="chat-client", description="Chat from a terminal, over TCP or WebSocket.")
    parser.add_argument("host", nargs="?", default="localhost", help="node host (localhost)")
    parser.add_argument("port", nargs="?", type=int, default=10000, help="node TCP port (10000)")
    parser.add_argument("--ws", metavar="URL", help="connect over WebSocket instead, "
                        "e.g. ws://localhost:8080/ws")
    parser.add_argument("--raw", action="store_true", help="print protocol lines as they are")
    parser.add_argument("--reconnect", action="store_true",
                        help="on a lost connection, retry with backoff and log in again")
    parser.add_argument("--script", action="store_true",
                        help="read commands from stdin even if it is a terminal")
    args = parser.parse_args(argv)
    if args.ws and not args.ws.startswith(("ws://", "wss://")):
        parser.error("--ws takes a ws:// or wss:// URL")
    target = Target(host=args.host, port=args.port, ws_url=args.ws)
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and not args.script
    options = Options(target=target, raw=args.raw, reconnect=args.reconnect,
                      fail_on_refused_login=not interactive)
    return options, interactive


async def _main(options: Options, interactive: bool) -> int:
    output: Output
    context: AbstractContextManager[object]
    if interactive:
        from client import console  # the terminal library is only needed here

        output = console.TerminalOutput()
        feed = console.feed_terminal
        context = console.terminal_session()
    else:
        from client import script

        output = script.PlainOutput()
        feed = script.feed_stdin
        context = nullcontext()
    client = Client(options, output)
    send, receive = trio.open_memory_channel[str](16)
    with context:
        if interactive:
            output.notice(_hello(options))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed, send)
            if not interactive:  # in a terminal prompt_toolkit turns Ctrl-C into end of input
                nursery.start_soon(_end_input_on_sigint, send)
            code = await client.run(receive)
            nursery.cancel_scope.cancel()
    return code


async def _end_input_on_sigint(send: trio.MemorySendChannel[str]) -> None:
    """Ctrl-C ends the input like Ctrl-D does: log out, then exit."""
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            send.close()
            return


def _hello(options: Options) -> Shown:
    return Shown(f"* connecting to {options.target}; type /help for commands", Style.SYSTEM)


def main(argv: list[str] | None = None) -> None:
    options, interactive = parse_args(argv)
    try:
        code = trio.run(_main, options, interactive)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
