"""How the node's log lines look on stderr: ``text`` for people (the default), or
``json`` for log collectors: one JSON object per line with ``time`` (UTC, ISO 8601),
``level``, ``node``, ``logger``, ``event`` (the message), ``user`` where the call gave
one (``extra={"user": name}``) and ``exception`` with its traceback."""

import json
import logging
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")


def text_format(node_id: str) -> str:
    return f"%(asctime)s %(levelname)s [{node_id}] %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def __init__(self, node_id: str) -> None:
        super().__init__()
        self._node_id = node_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "node": self._node_id,
            "logger": record.name,
            "event": record.getMessage(),
        }
        user = getattr(record, "user", None)
        if user is not None:
            entry["user"] = user
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # ASCII escapes: a line stays valid JSON whatever encoding stderr has.
        return json.dumps(entry)


def configure_logging(level: str, log_format: str, node_id: str) -> None:
    """Send the process's log to stderr in ``log_format`` (one of LOG_FORMATS)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLines(node_id))
    else:
        handler.setFormatter(logging.Formatter(text_format(node_id)))
    logging.basicConfig(level=level, handlers=[handler])
