"""Interactive mode: the only module that knows the terminal.

prompt_toolkit draws the input line and keeps its history (arrow keys);
``patch_stdout`` makes everything printed appear above the input line, so an
incoming message never garbles what the user is typing. prompt_toolkit runs on
asyncio, so its prompt runs in a worker thread (``trio.to_thread``) and hands
each typed line to the trio side through a channel.
"""

from contextlib import AbstractContextManager

import trio
from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.shortcuts import print_formatted_text
from prompt_toolkit.styles import Style as PromptStyle

from client.render import Shown

STYLES = PromptStyle.from_dict({
    "broadcast": "",
    "direct": "ansicyan bold",
    "system": "ansibrightblack",
    "error": "ansired bold",
    "prompt": "ansigreen bold",
})


class TerminalOutput:
    def show(self, shown: Shown) -> None:
        print_formatted_text(FormattedText([(f"class:{shown.style.value}", shown.text)]),
                             style=STYLES)

    def raw(self, line: str) -> None:
        print_formatted_text(line)

    def notice(self, shown: Shown) -> None:
        self.show(shown)


def _prompt_lines(session: PromptSession[str], send: trio.MemorySendChannel[str],
                  token: trio.lowlevel.TrioToken) -> None:
    """Runs in a worker thread: prompt until Ctrl-D / Ctrl-C, pass each line on."""
    while True:
        try:
            text = session.prompt([("class:prompt", "> ")], style=STYLES)
        except (EOFError, KeyboardInterrupt):
            trio.from_thread.run(send.aclose, trio_token=token)
            return
        try:
            trio.from_thread.run(send.send, text, trio_token=token)
        except (trio.ClosedResourceError, trio.BrokenResourceError, trio.RunFinishedError):
            return


async def feed_terminal(send: trio.MemorySendChannel[str]) -> None:
    session: PromptSession[str] = PromptSession(history=InMemoryHistory())
    token = trio.lowlevel.current_trio_token()
    await trio.to_thread.run_sync(_prompt_lines, session, send, token, abandon_on_cancel=True)


def terminal_session() -> AbstractContextManager[None]:
    """The context in which printing goes above the prompt."""
    return patch_stdout(raw=True)
