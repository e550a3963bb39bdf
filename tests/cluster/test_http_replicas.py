"""Three ``codeteam serve --transport http`` replicas behind a real HAProxy running
``deploy/haproxy.cfg``: the official SDK client in both protocol revisions, 1000 concurrent
clients without an error, and a replica killed mid-load (2026-07-28 clients see nothing;
2025-11-25 sessions on it get 404 and initialize again)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.cluster.raycluster import free_port

CONFIG = Path(__file__).parents[2] / "deploy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy", path="/usr/sbin:/usr/bin:/sbin:/bin")
CODE = "import sys; print(int(sys.stdin.read()) + 1)"


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


@dataclass
class Replicas:
    url: str
    servers: list[subprocess.Popen[bytes]]
    haproxy: subprocess.Popen[bytes]

    def stop(self) -> None:
        for proc in [self.haproxy, *self.servers]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [self.haproxy, *self.servers]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def replicas() -> Iterator[Replicas]:
    if HAPROXY is None or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is missing: scripts/install.sh --dev installs it")
        pytest.skip("needs root and haproxy (apt-get install haproxy)")
    base = Path(tempfile.mkdtemp(prefix="codeteam-replicas-", dir="/var/tmp"))
    base.chmod(0o755)
    (base / "ws").mkdir(mode=0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    ports = [free_port() for _ in range(3)]
    servers = []
    for port in ports:
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "codeteam", "serve", "--transport", "http", "--port",
             str(port), "--root", str(base / "ws"),
             # answers are one JSON body, never an SSE stream a killed replica cuts mid-way
             "--sse-after", "600"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        ))
    for port, proc in zip(ports, servers, strict=True):
        _wait_listening(port, proc, "replica")
    # deploy/haproxy.cfg as shipped, with this test's ports
    lb_port = free_port()
    config = CONFIG.read_text().replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{lb_port}")
    config = re.sub(r"127\.0\.0\.1:808([1-3])", lambda m: f"127.0.0.1:{ports[int(m[1]) - 1]}",
                    config)
    (base / "haproxy.cfg").write_text(config)
    haproxy = subprocess.Popen([HAPROXY, "-W", "-db", "-f", str(base / "haproxy.cfg")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_listening(lb_port, haproxy, "haproxy")
    running = Replicas(f"http://127.0.0.1:{lb_port}/mcp", servers, haproxy)
    yield running
    running.stop()
    shutil.rmtree(base, ignore_errors=True)


class Statuses:
    """The HTTP statuses a client's requests got (an httpx2 response hook)."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    async def __call__(self, response: httpx2.Response) -> None:
        self.seen.append(response.status_code)


def client(url: str, mode: str, statuses: Statuses | None = None) -> Client:
    hooks: Any = {"response": [statuses]} if statuses else {}
    http = httpx2.AsyncClient(event_hooks=hooks, timeout=httpx2.Timeout(120))
    return Client(streamable_http_client(url, http_client=http), mode=mode)


async def _plus_one(c: Client, n: int) -> int:
    result = await c.call_tool("execute_code", {"language": "python", "code": CODE,
                                                "stdin": str(n)})
    assert not result.is_error, result.content
    return int(result.structured_content["stdout"])


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 / 2025-11-25
async def test_the_sdk_client_in_both_revisions_through_the_balancer(
    replicas: Replicas, mode: str
) -> None:
    # legacy: every call of a session must reach the replica that holds it (affinity);
    # without it two calls in three would reach a replica that never saw the session
    async with client(replicas.url, mode) as c:
        assert [await _plus_one(c, n) for n in range(9)] == list(range(1, 10))
        listed = await c.list_tools()
        assert "execute_code" in {t.name for t in listed.tools}


async def test_a_thousand_concurrent_clients_without_an_error(replicas: Replicas) -> None:
    async def one(n: int) -> str:
        async with client(replicas.url, "auto") as c:
            result = await c.call_tool("list_toolchains", {})
            assert not result.is_error
            return str(result.structured_content)

    results = await asyncio.gather(*(one(n) for n in range(1000)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} errors, e.g. {errors[0]!r}"
    assert len(set(results)) == 1  # every replica lists the same toolchains


async def _until(done: Any, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "the load did not progress"
        await asyncio.sleep(0.05)


async def test_a_replica_killed_mid_load(replicas: Replicas) -> None:
    """Runs last in this module: it kills a replica."""
    async with contextlib.AsyncExitStack() as stack:
        legacy = []
        for _ in range(12):  # round-robin: four sessions on each replica
            statuses = Statuses()
            c = await stack.enter_async_context(client(replicas.url, "legacy", statuses))
            assert await _plus_one(c, 0) == 1
            legacy.append((c, statuses))
        stop = asyncio.Event()
        modern_done: list[int] = []

        async def modern_loop(worker: int) -> None:
            async with client(replicas.url, "auto") as c:
                n = worker * 1000
                while not stop.is_set():
                    assert await _plus_one(c, n) == n + 1
                    modern_done.append(n)
                    n += 1

        loops = [asyncio.ensure_future(modern_loop(w)) for w in range(24)]
        await _until(lambda: len(modern_done) >= 48)  # every client is calling by now
        replicas.servers[1].send_signal(signal.SIGKILL)
        killed_at = len(modern_done)
        await _until(lambda: len(modern_done) >= killed_at + 96)
        stop.set()
        await asyncio.gather(*loops)  # a 2026-07-28 client saw no error (it would raise here)

        lost = 0
        for c, statuses in legacy:
            try:
                assert await _plus_one(c, 1) == 2
            except Exception as exc:  # the session lived on the killed replica
                assert "Session not found" in str(exc), exc
                assert statuses.seen[-1] == 404
                lost += 1
                async with client(replicas.url, "legacy") as again:  # initialize again
                    assert await _plus_one(again, 1) == 2
        assert lost == 4, f"{lost} of 12 sessions lost: expected the 4 on the killed replica"
