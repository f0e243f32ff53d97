"""The browser pages' files (shipped in the ``client`` package's ``web/`` folder),
loaded once and served from memory at ``/`` (the chat: ``/chat.js``, ``/chat.css``) and
``/status`` (the status page: ``/status.js``, ``/status.css``)."""

from functools import cache
from importlib import resources

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# The pages only ever talk to the host they came from; nothing inline, no third parties.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; connect-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


@cache
def page_files() -> dict[str, tuple[str, bytes]]:
    """URL path -> (content type, body)."""
    folder = resources.files("client").joinpath("web")
    files: dict[str, tuple[str, bytes]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if suffix in _TYPES:
            files[f"/{entry.name}"] = (_TYPES[suffix], entry.read_bytes())
    files["/"] = files["/index.html"]
    files["/status"] = files["/status.html"]
    return files
