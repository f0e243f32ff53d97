"""The record of the Redis a running ``python -m devcluster`` started, so that
``python3 dev.py redis-cli`` dials that one (in cluster mode, ``-c``, when it started
a Valkey Cluster). Stdlib only.

One small JSON file: ``.devcluster`` in the repository root (ignored by git), or the
path in ``DEVCLUSTER_STATE_FILE`` (the tests use their own, so they never touch the
record of a cluster a developer is running). devcluster writes it once its Redis
answers and removes it when it stops; a record whose Redis process is gone (say,
devcluster was killed with SIGKILL) is ignored.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def path() -> Path:
    return Path(os.environ.get("DEVCLUSTER_STATE_FILE") or ROOT / ".devcluster")


@dataclass(frozen=True)
class RecordedRedis:
    url: str  # of the Redis; of one of its primaries for a cluster
    cluster: bool


def record(redis_url: str, redis_pid: int, *, cluster: bool = False) -> None:
    """Write the record in one step, so a reader never sees half of it. For a cluster,
    ``redis_pid`` is that of the server at ``redis_url``."""
    target = path()
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps({"redis_url": redis_url, "redis_pid": redis_pid,
                                   "cluster": cluster, "devcluster_pid": os.getpid()}) + "\n")
    partial.replace(target)


def forget() -> None:
    """Remove the record, if it is this process's (another devcluster may have
    written its own since)."""
    if _read().get("devcluster_pid") == os.getpid():
        path().unlink(missing_ok=True)


def recorded_redis() -> RecordedRedis | None:
    """The Redis a running devcluster started; None if there is none."""
    state = _read()
    url, pid = state.get("redis_url"), state.get("redis_pid")
    if isinstance(url, str) and isinstance(pid, int) and _running(pid):
        return RecordedRedis(url, state.get("cluster") is True)
    return None


def _read() -> dict[str, object]:
    try:
        state = json.loads(path().read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True
