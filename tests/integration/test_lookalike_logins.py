"""Impersonation attempts against a real node: while alice and Admin are online, every
look-alike or invisible spelling of their names is refused, over both transports,
and names in any single script still log in."""

import pytest

from tests.support.nodes import NodeRunner

KINDS = ["tcp", "ws"]


@pytest.mark.parametrize("kind", KINDS)
async def test_lookalikes_of_online_names_are_refused(nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start()
    holders = [await nodes.connect(node, kind) for _ in range(2)]
    for holder, name in zip(holders, ("alice", "Admin"), strict=True):
        await holder.login(name)
    attacker = await nodes.connect(node, kind)
    refused = {
        "\u0430lice": "error bad_name",  # Cyrillic а: mixes scripts
        "alic\u0435": "error bad_name",  # Cyrillic е
        "alice\u034f": "error bad_name",  # invisible combining grapheme joiner
        "alice\ufe0f": "error bad_name",  # invisible variation selector
        "\u0391dmin": "error bad_name",  # Greek Α
        "\u0410dmin": "error bad_name",  # Cyrillic А
        "\u3164": "error bad_name",  # renders as nothing
        "\u115f": "error bad_name",
        "alice\u0300": "error name_taken",  # alicè: looks like alice
        "\uff41\uff4c\uff49\uff43\uff45": "error name_taken",  # fullwidth: the same name
        "aIice": "error name_taken",  # capital I for l
        "Adrnin": "error name_taken",  # rn for m
        "ALICE": "error name_taken",
    }
    for name, expected in refused.items():
        reply = await attacker.request(f"login {name}")
        assert reply.startswith(expected), (name, reply)
    reply = await attacker.request("login aIice")
    assert reply == "error name_taken the name aIice is taken: it looks like alice, who is " \
                    "online; pick another"
    assert await attacker.request("whoami") == "error not_logged_in log in first: login <name>"
    assert (await attacker.request("userlist")).startswith("error not_logged_in")
    others = await nodes.connect(node, kind)
    assert await others.login("\u0410\u043b\u0438\u0441\u0430") == [
        "Admin", "alice", "\u0410\u043b\u0438\u0441\u0430"]


@pytest.mark.parametrize("kind", KINDS)
async def test_single_script_names_log_in_and_chat(nodes: NodeRunner, kind: str) -> None:
    node = await nodes.start()
    names = ["\u0410\u043b\u0438\u0441\u0430", "\u592a\u90ce", "Zo\u00eb",
             "\u0395\u03bb\u03ad\u03bd\u03b7"]
    clients = [await nodes.connect(node, kind) for _ in names]
    for client, name in zip(clients, names, strict=True):
        await client.login(name)
    assert await clients[0].request(f"msg {names[1]} \u3053\u3093\u306b\u3061\u306f") == \
        f"ok msg {names[1]}"
    assert await clients[1].expect(f"msg {names[0]} \u3053\u3093\u306b\u3061\u306f")


async def test_a_lookalike_name_is_free_again_once_its_holder_leaves(nodes: NodeRunner) -> None:
    node = await nodes.start()
    holder = await nodes.connect(node)
    await holder.login("Zoe")
    newcomer = await nodes.connect(node, "ws")
    assert (await newcomer.request("login Zo\u00eb")).startswith("error name_taken")
    assert await holder.request("logout") == "ok logout"
    await holder.closed()
    assert await newcomer.login("Zo\u00eb") == ["Zo\u00eb"]
