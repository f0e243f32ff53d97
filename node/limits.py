"""The process's open-files limit, which bounds how many clients a node can hold."""

import resource

MAX_OPEN_FILES = 1 << 20


def open_files_limit() -> int | None:
    """The soft RLIMIT_NOFILE; None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_open_files_limit() -> int | None:
    """Raise the soft limit to the hard one (as Go's runtime does at start): systemd and
    many shells start services with 1024 soft and a far higher hard limit. Returns the
    new limit, or None if nothing changed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return None
    return target
