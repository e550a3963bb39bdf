"""The image built by scripts/build-image.sh and run by the README's ``docker run`` line.

Both are made once per module (an image build is minutes on a cold machine, seconds warm).
The tests skip only where no Docker engine answers and CI is not set; in CI they fail, so
a CI that lost its engine cannot pass silently.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

REPO = Path(__file__).resolve().parents[2]
PROJECTS = REPO / "tests" / "tools" / "projects"
IMAGE = "codeteam:latest"
#: Files of a host user (not root): what the workspace of a real user holds.
HOST_UID = 1000
CANARY = "codeteam-container-canary-5d1f0c"
BUILD_TIMEOUT_S = 2400


def docker_or_skip() -> str:
    """The docker client, when an engine answers; else skip (fail in CI)."""
    docker = shutil.which("docker")
    why = "no docker client on PATH"
    if docker is not None:
        done = subprocess.run([docker, "info"], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return docker
        why = (done.stderr.strip().splitlines() or ["docker info failed"])[-1]
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"no Docker engine answers ({why}): .ci/run must start one (scripts/docker-engine.sh)"
        )
    pytest.skip(f"no Docker engine answers ({why})")


def readme_docker_run() -> list[str]:
    """The README's ``docker run`` command, split as a shell would (continuations joined)."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"^docker run (?:.*\\\n)*.*$", text, re.MULTILINE)
    assert match, "README.md has no 'docker run' command line"
    return shlex.split(match.group(0).replace("\\\n", " "))


def substitute(argv: list[str], old: str, new: str) -> list[str]:
    assert old in argv, f"the README's docker run line no longer has {old!r}: {argv}"
    return [new if a == old else a for a in argv]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_workspace(base: Path) -> Path:
    """A workspace as a host user has it: their files (0644, dirs 0755, as git leaves them)."""
    ws = base / "workspace"
    for name in ("pyproj", "goproj"):
        shutil.copytree(PROJECTS / name, ws / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [ws, *ws.rglob("*")]:
        os.chown(path, HOST_UID, HOST_UID)
        path.chmod(0o755 if path.is_dir() else 0o644)
    return ws


@dataclass
class Container:
    docker: str
    name: str
    port: int
    token: str
    workspace: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def logs(self) -> str:
        done = subprocess.run(
            [self.docker, "logs", self.name], capture_output=True, text=True, check=False
        )
        return done.stdout + done.stderr

    def inspect(self, template: str) -> str:
        return subprocess.run(
            [self.docker, "inspect", "--format", template, self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.docker, "exec", self.name, *argv], capture_output=True, text=True, check=False
        )

    def remove(self) -> None:
        subprocess.run([self.docker, "rm", "-f", self.name], capture_output=True, check=False)


def start_container(docker: str, base: Path) -> Container:
    """:func:`run_container`, then wait until the server answers."""
    c = run_container(docker, base)
    try:
        wait_answering(c)
    except BaseException:
        print(c.logs())
        c.remove()
        raise
    return c


def run_container(docker: str, base: Path) -> Container:
    """``docker run`` exactly as the README says, with a free port, a fresh name, a
    workspace under ``base`` and a secret in the container's environment."""
    c = Container(
        docker,
        f"codeteam-test-{uuid.uuid4().hex[:8]}",
        free_port(),
        secrets.token_urlsafe(24),
        host_workspace(base),
    )
    argv = readme_docker_run()
    argv = substitute(argv, "docker", docker)
    argv = substitute(argv, "codeteam", c.name)  # --name codeteam
    argv = substitute(argv, "127.0.0.1:8080:8080", f"127.0.0.1:{c.port}:8080")
    argv = substitute(argv, "$PWD/workspace:/workspace", f"{c.workspace}:/workspace")
    argv = substitute(
        argv, "codeteam-go-cache:/var/tmp/codeteam", "codeteam-test-go-cache:/var/tmp/codeteam"
    )
    assert argv[-1] == IMAGE, f"the README's docker run line should end with {IMAGE}: {argv}"
    argv[-1:] = ["-e", f"CODETEAM_TEST_SECRET={CANARY}", IMAGE]
    env = {**os.environ, "CODETEAM_TOKEN": c.token}
    subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    return c


def wait_answering(c: Container, deadline_s: float = 120.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if c.inspect("{{.State.Running}}") != "true":
            raise AssertionError(f"the container exited: {c.logs()}")
        try:
            r = httpx2.get(c.url, timeout=2)
            if r.status_code == 401:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the container did not answer within {deadline_s} s: {c.logs()}")


@asynccontextmanager
async def mcp_client(url: str, token: str) -> AsyncIterator[Client]:
    """The official SDK's client over Streamable HTTP, with a bearer token."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=600)
    )
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


@pytest.fixture(scope="module")
def docker() -> str:
    return docker_or_skip()


@pytest.fixture(scope="module")
def image(docker: str) -> str:
    """codeteam:latest, built by scripts/build-image.sh from this checkout."""
    start = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/build-image.sh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, (
        f"scripts/build-image.sh failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    print(
        f"image built in {time.monotonic() - start:.0f} s: {done.stdout.strip().splitlines()[-1]}"
    )
    return IMAGE


@pytest.fixture(scope="module")
def container(
    docker: str, image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Container]:
    c = start_container(docker, tmp_path_factory.mktemp("container"))
    yield c
    c.remove()
