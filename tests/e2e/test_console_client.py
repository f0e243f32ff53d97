"""The console client, driven as a person or a script would: as a process, against
a real two-node cluster. The interactive mode runs in a real terminal (tmux)."""

import functools
import os
import shutil
import signal
import subprocess
import sys
import uuid

import pytest
import trio
from glide import GlideClient

from client.lines import split_lines
from devcluster.redis_server import RedisServer
from node.keys import Keys
from tests.support.clients import TcpClient, starts
from tests.support.nodes import NodeRunner
from tests.support.processes import NodeProcess, start_node_process

CLIENT = [sys.executable, "-m", "client"]


class ClientProcess:
    """``python -m client`` with a pipe for stdin and its output collected line by line."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = trio.Event()

    async def collect(self, stream: trio.abc.ReceiveStream, into: list[str]) -> None:
        pending = b""
        while data := await stream.receive_some(65536):
            lines, pending = split_lines(pending, data)
            into.extend(line.decode() for line in lines)
            self._changed.set()
            self._changed = trio.Event()

    async def wait_for(self, line: str, into: list[str] | None = None,
                       timeout: float = 10) -> None:
        into = self.stdout if into is None else into
        with trio.fail_after(timeout):
            while line not in into:
                await self._changed.wait()

    async def type(self, text: str) -> None:
        await self.process.stdin.send_all(text.encode())

    async def finish(self, timeout: float = 10) -> int:
        await self.process.stdin.aclose()
        with trio.fail_after(timeout):
            return await self.process.wait()


async def start_client(nursery: trio.Nursery, *args: str) -> ClientProcess:
    process: trio.Process = await nursery.start(functools.partial(
        trio.run_process, [*CLIENT, *args], check=False, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    client = ClientProcess(process)
    nursery.start_soon(client.collect, process.stdout, client.stdout)
    nursery.start_soon(client.collect, process.stderr, client.stderr)
    return client


@pytest.mark.parametrize("transport", ["tcp", "ws"])
async def test_scripted_client_chats_across_nodes(nodes: NodeRunner, nursery: trio.Nursery,
                                                  transport: str) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    bob = await TcpClient.connect(node_b.tcp_port)
    await bob.login("bob")
    where = (["--ws", f"ws://127.0.0.1:{node_a.http_port}/ws"] if transport == "ws"
             else ["127.0.0.1", str(node_a.tcp_port)])
    alice = await start_client(nursery, *where)
    await alice.type("login alice\n")
    await alice.wait_for("* logged in as alice")
    await alice.wait_for("* online: alice, bob")
    await bob.expect("join alice")

    assert await bob.request("msg alice hi alice, from node b") == "ok msg alice"
    await alice.wait_for("[bob → you] hi alice, from node b")
    await alice.type("msg bob  hello   bob\nplain text goes to everyone\nuserlist\nnope\n")
    await alice.wait_for("[you → bob] hello   bob")
    assert await bob.expect(starts("msg ")) == "msg alice hello   bob"
    await alice.wait_for("[alice] plain text goes to everyone")
    assert await bob.expect(starts("msgall ")) == "msgall alice plain text goes to everyone"
    await alice.wait_for("* online: alice, bob")
    await alice.wait_for("[alice] nope")
    await bob.send("msgall bye")
    await alice.wait_for("[bob] bye")

    assert await alice.finish() == 0  # stdin ended: it logs out and exits
    assert alice.stdout[-1] == "* logged out"
    await bob.expect("leave alice")


async def test_scripted_raw_mode_prints_protocol_lines(nodes: NodeRunner,
                                                       nursery: trio.Nursery) -> None:
    node = await nodes.start()
    client = await start_client(nursery, "--raw", "127.0.0.1", str(node.tcp_port))
    await client.type("whoami\nlogin raw_user\nmsg raw_user hi\nfrobnicate\n")
    assert await client.finish() == 0
    assert client.stdout[0] == "error not_logged_in log in first: login <name>"
    assert client.stdout[1:3] == ["ok login raw_user", "users raw_user"]
    # Replies come in command order; events interleave with them anywhere.
    rest = client.stdout[3:]
    assert sorted(rest) == sorted(["ok msg raw_user", "msg raw_user hi", "ok msgall",
                                   "msgall raw_user frobnicate", "ok logout"])
    replies = [line for line in rest if line.startswith("ok ")]
    assert replies == ["ok msg raw_user", "ok msgall", "ok logout"]


async def test_past_the_presence_limit_the_client_shows_a_count_and_pages_the_list(
        nodes: NodeRunner, nursery: trio.Nursery) -> None:
    node = await nodes.start(presence_limit=2)
    others = [await TcpClient.connect(node.tcp_port) for _ in range(2)]
    await others[0].login("ann")
    await others[1].login("bob")
    client = await start_client(nursery, "127.0.0.1", str(node.tcp_port))
    await client.type("login carol\n")
    # The third user online: a count instead of `users`, and no list to show.
    await client.wait_for("* 3 users online (too many to list; /userlist to page through "
                          "them)")
    await client.type("userlist\n")
    await client.wait_for("* online: ann, bob … and 1 more (/userlist bob for the next page)")
    await client.type("/userlist bob\n")
    await client.wait_for("* online after bob: carol")
    assert await client.finish() == 0
    assert client.stdout == [
        "* logged in as carol",
        "* 3 users online (too many to list; /userlist to page through them)",
        "* online: ann, bob … and 1 more (/userlist bob for the next page)",
        "* online after bob: carol",
        "* logged out",
    ]


@pytest.mark.parametrize("refused_name", ["taken", "no@way"], ids=["name_taken", "bad_name"])
async def test_scripted_client_exits_1_when_a_login_was_refused(
        nodes: NodeRunner, nursery: trio.Nursery, refused_name: str) -> None:
    node = await nodes.start()
    squatter = await TcpClient.connect(node.tcp_port)
    await squatter.login("taken")
    client = await start_client(nursery, "127.0.0.1", str(node.tcp_port))
    await client.type(f"login {refused_name}\nlogin second_try\nwhoami\n")
    assert await client.finish() == 1
    [refusal] = [line for line in client.stdout if line.startswith("! ")]
    assert refused_name in refusal
    # The rest of the script ran as before.
    assert "* you are second_try" in client.stdout
    assert client.stdout[-1] == "* logged out"


async def test_ctrl_c_logs_out_and_exits_cleanly(nodes: NodeRunner,
                                                nursery: trio.Nursery) -> None:
    node = await nodes.start()
    watcher = await TcpClient.connect(node.tcp_port)
    await watcher.login("watcher")
    client = await start_client(nursery, "127.0.0.1", str(node.tcp_port))
    await client.type("login quitter\n")
    await client.wait_for("* logged in as quitter")
    client.process.send_signal(signal.SIGINT)
    with trio.fail_after(10):
        assert await client.process.wait() == 0
    assert client.stdout[-1] == "* logged out"
    await watcher.expect("leave quitter")


async def test_lost_connection_is_reported_with_a_nonzero_exit(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess]) -> None:
    node = await start_node_process(nursery, redis_server.url, key_prefix, "doomed-node")
    node_processes.append(node)
    client = await start_client(nursery, "127.0.0.1", str(node.tcp_port))
    await client.type("login doomed\n")
    await client.wait_for("* logged in as doomed")
    node.signal(signal.SIGKILL)  # gone without a word
    await client.wait_for("! connection lost: the server closed the connection", client.stderr)
    with trio.fail_after(10):
        assert await client.process.wait() == 1


SHUTDOWN = "! disconnected by the server: the server is shutting down"


@pytest.mark.parametrize("raw", [False, True], ids=["rendered", "raw"])
async def test_a_stopping_node_says_why_and_the_client_exits_1(
        nodes: NodeRunner, nursery: trio.Nursery, raw: bool) -> None:
    node = await nodes.start()
    client = await start_client(nursery, *(["--raw"] if raw else []),
                                "127.0.0.1", str(node.tcp_port))
    await client.type("login doomed\n")
    await client.wait_for("ok login doomed" if raw else "* logged in as doomed")
    await node.stop()
    await client.wait_for(SHUTDOWN, client.stderr)  # instead of "! connection lost"
    with trio.fail_after(10):
        assert await client.process.wait() == 1
    assert client.stderr == [SHUTDOWN]
    if raw:
        assert client.stdout[-1] == "bye shutdown"
    else:
        assert SHUTDOWN not in client.stdout


async def test_after_bye_name_taken_the_client_does_not_take_the_name_back(
        nodes: NodeRunner, nursery: trio.Nursery, redis: GlideClient) -> None:
    node = await nodes.start(heartbeat_interval=0.1, heartbeat_ttl=1.0)
    client = await start_client(nursery, "--reconnect", "127.0.0.1", str(node.tcp_port))
    await client.type("login carol\n")
    await client.wait_for("* logged in as carol")
    keys = Keys(nodes.key_prefix)
    # While the registry was gone (a network split), another node's session took the name.
    await redis.delete([keys.users, keys.names, keys.claims])
    await redis.hset(keys.names, {"carol": "Carol"})
    await redis.hset(keys.claims, {"carol": "another-session"})
    await redis.hset(keys.users, {"Carol": "elsewhere"})
    taken = "! disconnected by the server: someone else is now logged in with your name"
    await client.wait_for(taken, client.stderr)
    with trio.fail_after(10):  # it ends by itself, its input still open, --reconnect or not
        assert await client.process.wait() == 1
    assert client.stderr == [taken]  # no "reconnecting", no second login
    assert await redis.hget(keys.users, "Carol") == b"elsewhere"


async def test_reconnect_logs_in_again_with_the_same_name(nodes: NodeRunner,
                                                          nursery: trio.Nursery) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    watcher = await TcpClient.connect(node_b.tcp_port)
    await watcher.login("watcher")
    client = await start_client(nursery, "--reconnect", "127.0.0.1", str(node_a.tcp_port))
    await client.type("login phoenix\n")
    await watcher.expect("join phoenix")
    port = node_a.tcp_port
    await node_a.stop()
    await watcher.expect("leave phoenix")
    await client.wait_for(SHUTDOWN, client.stderr)
    await nodes.start(tcp_port=port)  # the node comes back on the same address
    await watcher.expect("join phoenix", timeout=15)
    await client.wait_for("* reconnected; logging in again as phoenix", client.stderr)
    await client.type("msgall back again\n")
    assert await watcher.expect(starts("msgall ")) == "msgall phoenix back again"
    assert await client.finish() == 0


class Tmux:
    """A private tmux server: a real terminal to type into and read the screen of."""

    def __init__(self) -> None:
        self.socket = f"chat-test-{uuid.uuid4().hex[:8]}"

    async def run(self, *args: str) -> str:
        result = await trio.run_process(["tmux", "-L", self.socket, *args],
                                        capture_stdout=True, capture_stderr=True)
        return result.stdout.decode()

    async def screen(self) -> list[str]:
        return [line.rstrip() for line in (await self.run("capture-pane", "-p", "-t", "chat"))
                .splitlines() if line.strip()]

    async def wait_for_screen(self, check, timeout: float = 10) -> list[str]:  # type: ignore[no-untyped-def]
        lines: list[str] = []
        with trio.move_on_after(timeout):
            while not check(lines := await self.screen()):
                await trio.sleep(0.05)  # polling the terminal's screen, with a deadline
        assert check(lines), f"screen was: {lines}"
        return lines

    async def keys(self, *keys: str) -> None:
        await self.run("send-keys", "-t", "chat", *keys)


@pytest.mark.skipif(shutil.which("tmux") is None,
                    reason="LOUD SKIP: tmux is not installed (python3 dev.py test installs it)")
async def test_interactive_incoming_message_does_not_clobber_the_typed_line(
        nodes: NodeRunner) -> None:
    node = await nodes.start()
    tmux = Tmux()
    command = " ".join([*CLIENT, "127.0.0.1", str(node.tcp_port)])
    env = f"cd {os.getcwd()} && "
    await tmux.run("new-session", "-d", "-s", "chat", "-x", "90", "-y", "20",
                   f"{env}{command}; echo CLIENT-EXIT=$?; sleep 60")
    try:
        await tmux.wait_for_screen(lambda s: any(line.startswith(">") for line in s))
        await tmux.keys("login typist", "Enter")
        await tmux.wait_for_screen(lambda s: "* online: typist" in s)
        await tmux.keys("I am half way through a sent")  # no Enter: still being typed
        other = await TcpClient.connect(node.tcp_port)
        await other.login("chatty")
        await other.send("msgall interrupting you!")
        await other.send("msg typist psst")
        screen = await tmux.wait_for_screen(lambda s: "[chatty → you] psst" in s)
        assert "* chatty joined" in screen
        assert "[chatty] interrupting you!" in screen
        # The half-typed line is intact, alone on the last line, below the messages.
        assert screen[-1] == "> I am half way through a sent"
        await tmux.keys("ence", "Enter")
        await other.expect("msgall typist I am half way through a sentence")
        await tmux.wait_for_screen(lambda s: s[-2:] == ["[typist] I am half way through a "
                                                        "sentence", ">"])
        # History: the arrow key brings back the last line.
        await tmux.keys("Up")
        await tmux.wait_for_screen(lambda s: s[-1] == "> I am half way through a sentence")
        await tmux.keys("C-u", "C-d")  # clear the line, then Ctrl-D: log out and exit
        await other.expect("leave typist")
        await tmux.wait_for_screen(lambda s: "CLIENT-EXIT=0" in s)
    finally:
        await tmux.run("kill-server")
