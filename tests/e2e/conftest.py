"""A real ``codeteam serve`` in a subprocess, reached by the official SDK client over every
transport and protocol era."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

PYTHON = sys.executable
CANARY = "sk-ant-canary-7f3e9b1d4c"

TRANSPORTS = ["stdio", "http", "sse"]
ERAS = ["legacy", "auto"]  # 2025-11-25 initialize / 2026-07-28 server/discover


def require_sandbox() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is missing: CI must install it (scripts/install.sh)")
        pytest.skip("bubblewrap is not installed")
    if os.geteuid() != 0:
        pytest.skip("the sandbox tests run as root (per-slot uids)")


def server_env() -> dict[str, str]:
    """The server's environment holds secrets; none of them may reach sandboxed code."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ANTHROPIC_API_KEY": CANARY,
        "CODETEAM_TEST_SECRET": CANARY,
        "HOME": os.environ.get("HOME", "/root"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(ws, 0o755)
    return ws


class HttpServer:
    def __init__(self, workspace: Path, *extra: str, pass_fds: tuple[int, ...] = ()) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "codeteam", "serve", "--transport", "http", "--port", str(self.port),
             "--root", str(workspace), *extra],
            env=server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=pass_fds,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not listen")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def http_server(workspace: Path) -> Iterator[HttpServer]:
    server = HttpServer(workspace)
    yield server
    server.stop()


@asynccontextmanager
async def connect(
    transport: str,
    era: str,
    workspace: Path,
    http: HttpServer | None = None,
    server_args: tuple[str, ...] = (),
    **kw: Any,
) -> AsyncIterator[Client]:
    if transport == "stdio":
        target: Any = StdioServerParameters(
            command=PYTHON,
            args=["-m", "codeteam", "serve", "--root", str(workspace), *server_args],
            env=server_env(), cwd=str(workspace),
        )
    elif transport == "http":
        assert http is not None
        target = f"http://127.0.0.1:{http.port}/mcp"
    else:
        assert http is not None
        target = sse_client(f"http://127.0.0.1:{http.port}/sse")
        era = "legacy"  # the 2024-11-05 transport has only the handshake era
    async with Client(target, mode=era, **kw) as client:
        yield client
