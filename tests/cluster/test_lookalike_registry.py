"""The registry's promise, as a property over random logins and logouts against a real
Redis: two names with the same identity or the same skeleton are never both online,
and a name is refused only when a name online is in its way."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devcluster.redis_server import RedisServer
from node.claim import Claim
from node.cluster import open_cluster
from node.config import parse_redis_url
from node.keys import Keys
from node.names import fold_name, name_problem, skeleton

# Names that collide in many ways: case, width, Cyrillic twins, 1/l/I, rn/m, accents.
POOL = ["alice", "Alice", "ALICE", "\uff41lice", "aIice", "a1ice", "alic\u00e8",
        "\u0430\u0441\u0435", "ace", "Ace", "acé", "admin", "adrnin", "Adm1n", "bob", "b0b",
        "bob0", "bobO", "m", "rn",
        "Zoe", "Zoë", "\u0410\u043b\u0438\u0441\u0430", "straße", "STRASSE"]
assert all(name_problem(name) is None for name in POOL)

steps = st.lists(st.tuples(st.booleans(), st.sampled_from(POOL)), min_size=1, max_size=30)


def _clash(a: str, b: str) -> bool:
    return fold_name(a) == fold_name(b) or skeleton(a) == skeleton(b)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
async def test_lookalikes_are_never_online_together(redis_server: RedisServer,
                                                    plan: list[tuple[bool, str]]) -> None:
    keys = Keys(f"h{uuid.uuid4().hex[:10]}")
    target = parse_redis_url(redis_server.url)
    online: dict[str, Claim] = {}
    async with open_cluster(target, keys, "prop-node", 2.0) as (cluster, _):
        await cluster.heartbeat(15.0, 1.0, running=False)  # as a node does at start
        for login, name in plan:
            if not login:  # log out whoever holds a name that clashes with this one
                for held in [n for n in online if _clash(n, name)]:
                    assert await cluster.release(online.pop(held), presence_limit=1000)
                continue
            claim = Claim.of(name, uuid.uuid4().hex)
            outcome = await cluster.claim(claim, presence_limit=1000)
            in_the_way = [n for n in online if _clash(n, name)]
            assert outcome.won == (not in_the_way), (name, sorted(online))
            if outcome.won:
                online[name] = claim
            else:
                assert outcome.holder in in_the_way
            # The invariant, on what Redis says is online.
            registered = await cluster.list_users()
            assert sorted(registered) == sorted(online)
            for index, a in enumerate(registered):
                for b in registered[index + 1:]:
                    assert not _clash(a, b), (a, b)

