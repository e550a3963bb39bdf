"""The scoring server: one ``codeteam serve`` of its own, rooted where the hidden tests go.

The agents' servers are rooted at their workspaces and this one at a directory they
never see. A problem's result is copied into a fresh directory here; the dataset adds
its hidden tests to that copy and runs them through this server's tools, in the
sandbox, after the agents have finished.
"""

from __future__ import annotations

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
