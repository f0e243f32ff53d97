"""The pure ring imports no I/O: no trio, no Redis client, no clock, socket or logging."""

import ast
from pathlib import Path

import pytest

NODE = Path(__file__).resolve().parents[2] / "node"
PURE = ["names", "protocol", "linebuffer", "session", "envelope", "batcher", "keys", "config",
        "ratelimit", "throttle", "origins", "ws_handshake", "claim", "status"]
FORBIDDEN_LIBRARIES = {"trio", "glide", "socket", "time", "logging", "os", "hypercorn"}
IO_MODULES = {
    "cluster", "connection", "relay", "servers", "web", "app", "cli", "outbox",
    "transport_tcp", "announcer", "liveness", "local_users", "services",
}


def imported_modules(source: str) -> set[str]:
    """Every module a file of package ``node`` imports, as absolute dotted names."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "node" if node.level else ""
            if node.module:
                base = f"{base}.{node.module}" if base else node.module
            found.add(base)
            # `from node import protocol` imports the module node.protocol.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io(module: str) -> None:
    imports = imported_modules((NODE / f"{module}.py").read_text(encoding="utf-8"))
    libraries = {name.split(".")[0] for name in imports}
    assert libraries.isdisjoint(FORBIDDEN_LIBRARIES)
    node_modules = {name.split(".")[1] for name in imports if name.startswith("node.")}
    # An allow-list: a pure module imports only pure modules, so a new edge module
    # cannot slip in unnoticed.
    assert node_modules <= set(PURE), node_modules - set(PURE)


@pytest.mark.parametrize("source, expected", [
    ("import trio", {"trio"}),
    ("import os.path", {"os.path"}),
    ("from glide import GlideClient", {"glide", "glide.GlideClient"}),
    ("from node import cluster", {"node", "node.cluster"}),
    ("from . import relay", {"node", "node.relay"}),
    ("from .outbox import Outbox", {"node.outbox", "node.outbox.Outbox"}),
])
def test_import_scanner_sees_every_form(source: str, expected: set[str]) -> None:
    # Imports nested in a function count too: they run just the same.
    assert imported_modules(f"def f():\n    {source}\n") == expected


@pytest.mark.parametrize("module", ["relay", "connection", "cluster"])
def test_the_check_bites_on_edge_modules(module: str) -> None:
    imports = imported_modules((NODE / f"{module}.py").read_text(encoding="utf-8"))
    libraries = {name.split(".")[0] for name in imports}
    node_modules = {name.split(".")[1] for name in imports if name.startswith("node.")}
    assert not libraries.isdisjoint(FORBIDDEN_LIBRARIES) or not node_modules.isdisjoint(IO_MODULES)


CLIENT = NODE.parent / "client"
CLIENT_PURE = ["render", "commands", "lines"]
CLIENT_IO = {"link", "runner", "console", "script", "cli"}


@pytest.mark.parametrize("module", CLIENT_PURE)
def test_client_pure_module_imports_no_io(module: str) -> None:
    imports = imported_modules((CLIENT / f"{module}.py").read_text(encoding="utf-8"))
    libraries = {name.split(".")[0] for name in imports}
    assert libraries.isdisjoint(FORBIDDEN_LIBRARIES | {"prompt_toolkit", "trio_websocket"})
    client_modules = {name.split(".")[1] for name in imports if name.startswith("client.")}
    assert client_modules.isdisjoint(CLIENT_IO)
