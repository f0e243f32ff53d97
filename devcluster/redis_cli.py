"""``python -m devcluster.redis_cli ARGS``: redis-cli (or valkey-cli) aimed at the local
cluster's Redis; what ``python3 dev.py redis-cli ARGS`` runs.

Unless ARGS choose a server themselves (``-h``, ``-p``, ``-u`` or ``-s``), it dials the
Redis a running devcluster started (see ``state_file``; with ``-c``, following
redirects, when that is a Valkey Cluster), else the one in ``REDIS_URL``, else
redis-cli's own default, 127.0.0.1:6379.
"""

import os
import sys
from collections.abc import Sequence

from devcluster import state_file
from devcluster.redis_server import find_cli_binary, redis_url_from_env

SERVER_OPTIONS = frozenset({"-h", "-p", "-u", "-s"})


def server_arguments(args: Sequence[str]) -> list[str]:
    """The options to put before ``args`` to reach the cluster's Redis."""
    if SERVER_OPTIONS.intersection(args):
        return []
    recorded = state_file.recorded_redis()
    if recorded is not None:
        return ["-u", recorded.url, *(["-c"] if recorded.cluster else [])]
    url = redis_url_from_env()
    return ["-u", url] if url else []


def main() -> None:
    args = sys.argv[1:]
    binary = find_cli_binary()
    os.execv(binary, [binary, *server_arguments(args), *args])


if __name__ == "__main__":
    main()
