#!/usr/bin/env python3
"""Developer commands that work on a fresh machine with only Python (stdlib only).

  python3 dev.py cluster   make .venv, install, run Redis + 3 nodes until Ctrl-C
  python3 dev.py test      make .venv, install test tools, lint (ruff, mypy), run every test
  python3 dev.py lint      ruff and mypy only
  python3 dev.py bench     make .venv, install, compare our cluster with the Node.js
                           socket.io peer (python -m bench.compare; needs node and npm)
  python3 dev.py redis-cli ARGS...   redis-cli (or valkey-cli) from PATH or from .venv,
                                     aimed at the running cluster's Redis

Extra arguments go to the program underneath (devcluster, or pytest).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


# The extras whose installation brings everything ``extra`` needs: the test extra
# includes the server one, so a .venv made for the tests runs the cluster as it is.
INCLUDED_BY = {"server": ("server", "test"), "bench": ("bench", "test")}


def ensure_venv(extra: str) -> None:
    """Create .venv and install the project with ``extra``, unless already done."""
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".dev-stamp-{extra}"
    done = [VENV / f".dev-stamp-{name}" for name in INCLUDED_BY.get(extra, (extra,))]
    if any(path.exists() and path.read_text() == digest for path in done):
        return
    ensure_icu_build_tools()
    print(f"installing the project with [{extra}] into {VENV}", flush=True)
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f".[{extra}]"])
    stamp.write_text(digest)


# pip builds PyICU (the name checks) against the system's ICU: it needs the headers,
# pkg-config to find them, and a C++ compiler. Debian package names.
ICU_BUILD_PACKAGES = ["libicu-dev", "pkg-config", "g++"]


def ensure_icu_build_tools() -> None:
    found = shutil.which("pkg-config") and shutil.which("g++") and subprocess.run(
        ["pkg-config", "--exists", "icu-i18n"]).returncode == 0
    if not found:
        apt_install(ICU_BUILD_PACKAGES, "installing PyICU will fail")


# Programs the tests drive for real, by Debian package name: a browser for the web
# page's tests, a load balancer for the deploy tests, a terminal for the console client,
# Prometheus to scrape live nodes' /metrics.
SYSTEM_PACKAGES = {"chromium": "chromium", "haproxy": "haproxy", "tmux": "tmux",
                   "prometheus": "prometheus"}


def include_sbin_on_path() -> None:
    """Debian installs daemons such as haproxy in sbin, which a non-login PATH may lack."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    extra = [d for d in ("/usr/local/sbin", "/usr/sbin", "/sbin") if d not in parts]
    os.environ["PATH"] = os.pathsep.join([*parts, *extra])


def ensure_system_packages() -> None:
    """apt-get install the programs the tests drive, where they are missing."""
    missing = [pkg for program, pkg in SYSTEM_PACKAGES.items() if not shutil.which(program)]
    if missing:
        apt_install(missing, "the tests that need them will be SKIPPED")


def apt_install(packages: list[str], otherwise: str) -> None:
    """apt-get install ``packages`` where we can (root on Debian/Ubuntu); else warn."""
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"WARNING: cannot install {' '.join(packages)} (needs root and apt-get); "
              f"{otherwise}", flush=True)
        return
    print(f"installing system packages: {' '.join(packages)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", *packages]):
        if subprocess.run(command, env=env).returncode != 0:
            print(f"WARNING: `{' '.join(command)}` failed; {otherwise}", flush=True)
            return


def run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def replace_with(command: list[str]) -> None:
    """Run ``command`` in place of this process, so Ctrl-C and exit codes pass through."""
    os.chdir(ROOT)
    os.execv(command[0], command)


def lint() -> None:
    run([str(PYTHON), "-m", "ruff", "check", "node", "client", "devcluster", "bench", "tests",
         "dev.py"])
    run([str(PYTHON), "-m", "mypy", "node", "client", "devcluster"])


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("cluster", "test", "lint", "redis-cli", "bench"):
        sys.exit(__doc__)
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "cluster":
        ensure_venv("server")
        replace_with([str(PYTHON), "-m", "devcluster", *rest])
    if command == "redis-cli":
        ensure_venv("server")
        replace_with([str(PYTHON), "-m", "devcluster.redis_cli", *rest])
    if command == "bench":
        ensure_venv("bench")
        replace_with([str(PYTHON), "-m", "bench.compare", *rest])
    ensure_venv("test")
    lint()
    if command == "test":
        include_sbin_on_path()
        ensure_system_packages()
        replace_with([str(PYTHON), "-m", "pytest", *rest])


if __name__ == "__main__":
    main()
