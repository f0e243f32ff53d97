"""What the user typed -> the protocol line to send (or help to show). Pure.

Plain text is a broadcast; protocol commands can be typed as they are
(``msg bob hi``) or with a slash (``/msg bob hi``); ``/quit`` logs out.
"""

from dataclasses import dataclass

PROTOCOL_COMMANDS = ("login", "msg", "msgall", "logout", "whoami", "userlist", "debug")

HELP = """\
Commands (a leading / is optional):
  login NAME          pick your name
  msg NAME TEXT       direct message to NAME, on any node
  msgall TEXT         message everyone (plain text does the same)
  userlist [NAME]     who is online; a long list comes in pages: NAME
                      (the last one shown) asks for the next
  whoami              your name
  logout, /quit       leave (Ctrl-D too)
  /help               this help
Anything else you type is sent to everyone."""


@dataclass(frozen=True)
class Send:
    line: str


@dataclass(frozen=True)
class ShowHelp:
    text: str = HELP


@dataclass(frozen=True)
class Quit:
    pass


Action = Send | ShowHelp | Quit | None


def interpret(typed: str) -> Action:
    """Map one typed line to an action; None for a blank line."""
    text = typed.rstrip("\r\n")
    if not text.strip():
        return None
    word, _, rest = text.lstrip().partition(" ")
    bare = word[1:].lower() if word.startswith("/") else word.lower()
    if bare in ("help", "?") and (word.startswith("/") or not rest):
        return ShowHelp()
    if word.startswith("/") and bare in ("quit", "exit"):
        return Quit()
    if bare in PROTOCOL_COMMANDS and (word.startswith("/") or word.lower() == bare):
        return Send(f"{bare} {rest}" if rest else bare)
    if word.startswith("/"):
        return ShowHelp(f"unknown command {word}; type /help")
    return Send(f"msgall {text}")
