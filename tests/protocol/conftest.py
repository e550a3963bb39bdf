"""Fixtures for the wire-layer tests (the helpers they use are in ``helpers.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from helpers import HttpServer, start_http


@pytest.fixture
async def http_server() -> AsyncIterator[HttpServer]:
    srv, server, task = await start_http(keepalive_s=0.2)
    yield srv
    srv.app.begin_shutdown()
    server.should_exit = True
    await asyncio.wait_for(task, 10)


@pytest.fixture
def tmp_pid_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "child.pid"
