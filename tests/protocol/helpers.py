"""Helpers of the wire-layer tests: the command and environment of a server subprocess,
an in-process HTTP server (uvicorn on a free port) serving the fake catalog in
``fake_tools.py``, and waiting on child processes. Fixtures are in ``conftest.py``."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fake_tools
import uvicorn

from codeteam.config import load_settings
from codeteam.protocol.dispatcher import Dispatcher
from codeteam.protocol.http import McpApp

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def server_env(catalog: str | None = "fake_tools:catalog", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETEAM_")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if catalog:
        env["CODETEAM_CATALOG"] = catalog
    env.update(extra)
    return env


SERVE = [PYTHON, "-m", "codeteam", "serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HttpServer:
    base: str
    app: McpApp

    @property
    def mcp(self) -> str:
        return self.base + "/mcp"

    @property
    def sse(self) -> str:
        return self.base + "/sse"


async def start_http(**overrides: Any) -> tuple[HttpServer, uvicorn.Server, asyncio.Task[None]]:
    port = free_port()
    settings = load_settings({"transport": "http", "port": port, **overrides})
    app = McpApp(Dispatcher(settings, fake_tools.catalog()), settings, 8 << 20)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return HttpServer(f"http://127.0.0.1:{port}", app), server, task


def _no_signals() -> Any:
    import contextlib

    return contextlib.nullcontext()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    return True


async def wait_for_file(path: Path, timeout: float = 10) -> str:
    for _ in range(int(timeout / 0.02)):
        if path.exists():
            return path.read_text()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")
