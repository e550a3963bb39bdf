"""The scoring server: one ``codeteam serve`` of its own, rooted where the hidden tests go.

The agents' servers are rooted at their workspaces and this one at a directory they
never see. A problem's result is copied into a fresh directory here after the agents have
finished; the dataset runs its hidden tests against that copy through this server's tools,
in the sandbox (adding test files to the copy, or sending a program that holds them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from codeteam.eval.problems import ToolCaller
from codeteam.team.mcp import McpTools, connect
from codeteam.team.workspace import snapshot


class ScoringError(Exception):
    """A scoring tool refused the call (no result to judge)."""


def caller(tools: McpTools) -> ToolCaller:
    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        out = await tools.call(name, arguments)
        if out.structured is None:  # failing tests are a result; a refused call is not
            raise ScoringError(f"{name}: {out.text.strip().splitlines()[0][:200]}")
        return out.structured

    return call


class BackgroundScorer:
    """The scoring server, started in the background so the first problems are being
    solved while it starts: :meth:`call` waits for it. A server that cannot start makes
    every call raise the :class:`ConfigError` that says why."""

    def __init__(self, root: Path, parallel: int) -> None:
        self._root, self._parallel = root, parallel
        self._ready: asyncio.Future[ToolCaller] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> BackgroundScorer:
        self._task = asyncio.create_task(self._serve())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _serve(self) -> None:
        try:
            async with scoring_server(self._root, self._parallel) as call:
                self._ready.set_result(call)
                await self._stop.wait()
        except Exception as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                raise

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        call = await asyncio.shield(self._ready)
        return await call(name, arguments)


@asynccontextmanager
async def scoring_server(root: Path, parallel: int) -> AsyncIterator[ToolCaller]:
    """A session with a scoring server rooted at ``root``, running up to ``parallel``
    hidden-test runs at once."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    defaults = {
        "CODETEAM_MAX_CONCURRENCY": str(max(2, parallel)),
        "CODETEAM_POOL_SIZE": "0",  # pytest runs need no pre-started interpreters
    }
    async with connect(None, root, defaults=defaults) as tools:
        yield caller(tools)


def scoring_copy(result: Path, root: Path, name: str) -> Path:
    """A fresh copy of the agents' ``result`` under the scoring ``root``."""
    target = root / name
    snapshot(result, target)
    return target
