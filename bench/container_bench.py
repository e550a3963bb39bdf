"""The container (issue 12): image size, build time warm and cold, ``docker run`` to the
first ``tools/list`` answer, ``docker stop``, and ``execute_code`` latency inside the
container against the same call to a server on the host, in the same run.

    python bench/run.py --only container    (needs a Docker engine; builds codeteam:latest,
                                             once with no layer cache unless --quick)

The container is started with the README's ``docker run`` line (as tests/container do).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Alternating rounds of execute_code in the container and on the host.
ROUNDS = 3
Row = Callable[[str, str, str, str, str], None]


def _build(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["bash", "scripts/build-image.sh", *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def _first_tools_list(url: str, token: str, deadline_s: float = 120.0) -> None:
    """Poll with a stateless tools/list until it is answered."""
    import httpx2

    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
    }
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/list",
    }
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            r = httpx2.post(url, content=json.dumps(body), headers=headers, timeout=2)
            if r.status_code == 200 and "result" in r.json():
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no tools/list answer from {url} within {deadline_s} s")


async def _execute_times(url: str, token: str, runs: int) -> list[float]:
    """Back-to-back trivial execute_code calls over one SDK session (3 warm-up calls)."""
    from tests.container.conftest import mcp_client

    times = []
    async with mcp_client(url, token) as client:
        for i in range(runs + 3):
            t0 = time.perf_counter()
            r = await client.call_tool(
                "execute_code", {"language": "python", "code": "print('hi')"}
            )
            if i >= 3:
                times.append(time.perf_counter() - t0)
            assert r.structured_content and r.structured_content["status"] == "ok", r
    return times


def _host_server(work: str, token: str) -> tuple[subprocess.Popen[bytes], str]:
    from tests.container.conftest import free_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codeteam",
            "serve",
            "--transport",
            "http",
            "--port",
            str(port),
            "--root",
            work,
        ],
        env={**os.environ, "CODETEAM_TOKEN": token},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    _first_tools_list(url, token)
    return proc, url


def bench_container(row: Row, runs: int, cold: bool = True) -> None:
    sys.path.insert(0, str(REPO))
    from tests.container.conftest import IMAGE, docker_or_skip, run_container

    try:
        docker = docker_or_skip()
    except BaseException as exc:  # pytest's skip outside pytest: say why and move on
        print(f"container: skipped ({exc})", flush=True)
        return
    print("container: image build, start, stop, execute_code inside vs outside", flush=True)
    if cold:
        cold_s = _build("--no-cache")
        row(
            "image build, cold (no layer cache; base and wheel downloads cached)",
            f"{cold_s:.0f} s",
            "",
            "",
            "",
        )
    warm_s = _build()
    size = int(
        subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Size}}", IMAGE],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    row("image build, warm (unchanged checkout)", f"{warm_s:.1f} s", "", "", "")
    row("image size", f"{size / 1e6:.0f} MB", "", "", "as small as Python + Go allow")
    with tempfile.TemporaryDirectory(prefix="codeteam-bench-container-") as base:
        os.chmod(base, 0o755)
        token = secrets.token_urlsafe(16)
        proc, url = _host_server(base, token)
        t0 = time.perf_counter()
        c = run_container(docker, Path(base))
        try:
            _first_tools_list(c.url, c.token)
            started = time.perf_counter() - t0
            # Alternate rounds: the machine's other load shifts over minutes, not per call.
            inside: list[float] = []
            outside: list[float] = []
            for _ in range(ROUNDS):
                inside.append(statistics.median(asyncio.run(_execute_times(c.url, c.token, runs))))
                outside.append(statistics.median(asyncio.run(_execute_times(url, token, runs))))
            t0 = time.perf_counter()
            subprocess.run([docker, "stop", c.name], check=True, capture_output=True)
            stopped = time.perf_counter() - t0
        finally:
            c.remove()
            proc.terminate()
            proc.wait(10)
    row("docker run to first tools/list answer", f"{started * 1000:.0f} ms", "", "", "")
    row("docker stop (idle server)", f"{stopped * 1000:.0f} ms", "", "", "<= 10 s")
    ins, out = statistics.median(inside), statistics.median(outside)
    row(
        "execute_code trivial Python over HTTP, back to back: in the container vs on the host",
        f"{ins * 1000:.1f} ms (rounds {_range(inside)})",
        f"{out * 1000:.1f} ms (rounds {_range(outside)}; the same server on the host)",
        f"{ins / out:.2f}x",
        "",
    )


def _range(values: list[float]) -> str:
    return f"{min(values) * 1000:.1f}-{max(values) * 1000:.1f}"
