"""``codeteam run --mcp-server``: a server the user started (URL), a command line with and
without ``{root}``, and a URL where nothing listens. Real CLI, real ``codeteam serve``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.team.conftest import role, task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use


def two_writers(req: ModelRequest) -> Response:
    """The lead plans two independent tasks; each writes its own file, slowly."""
    if role(req) == "lead":
        if req.turn == 0:
            return Reply(
                [
                    tool_use("assign_task", id="a", agent="code", description="write a.txt"),
                    tool_use("assign_task", id="b", agent="code", description="write b.txt"),
                ]
            )
        return Reply([text("both written")])
    tid = task_id(req)
    if req.turn == 0:
        return Reply([tool_use("write_file", path=f"{tid}.txt", content=tid)], delay=0.5)
    return Reply([text(f"wrote {tid}.txt")], delay=0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``codeteam serve --transport http`` rooted at a workspace: (MCP URL, workspace)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "codeteam", "serve", "--transport", "http"),
            *("--port", str(port), "--root", str(ws)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "codeteam serve --transport http did not listen"
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/mcp", ws
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def run(tmp: Path, ws: Path, server: str, fake: FakeAnthropic) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env |= {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": fake.url,
        "CODETEAM_RUN_DIR": str(tmp / "runs"),
    }
    return subprocess.run(
        [
            *(sys.executable, "-m", "codeteam", "run", "write two files", "--json"),
            *("--workspace", str(ws), "--db", str(tmp / "runs.db"), "--max-parallel", "2"),
            *("--mcp-server", server),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def spans(fake: FakeAnthropic) -> dict[str, tuple[float, float]]:
    """Per task: first model call started, last one finished (the fake's own clock)."""
    out: dict[str, tuple[float, float]] = {}
    for r in fake.calls:
        req = ModelRequest(r.body)
        if role(req) != "lead":
            tid = task_id(req)
            lo, hi = out.get(tid, (r.started, r.finished))
            out[tid] = (min(lo, r.started), max(hi, r.finished))
    return out


def overlapped(s: dict[str, tuple[float, float]]) -> bool:
    (a0, a1), (b0, b1) = s["a"], s["b"]
    return a0 < b1 and b0 < a1


def events(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_url_of_a_running_server_runs_tasks_in_place_one_at_a_time(
    tmp_path: Path, http_server: tuple[str, Path]
) -> None:
    url, ws = http_server
    fake = FakeAnthropic(two_writers)
    with fake:
        done = run(tmp_path, ws, url, fake)
    assert done.returncode == 0, done.stderr
    got = events(done)
    notices = [e["message"] for e in got if e["event"] == "notice"]
    assert len(notices) == 1 and "tasks run in place, one at a time" in notices[0]
    assert (ws / "a.txt").read_text() == "a" and (ws / "b.txt").read_text() == "b"
    assert not overlapped(spans(fake))
    assert got[-1]["report"] == "both written"


def test_command_with_root_placeholder_runs_tasks_on_copies_in_parallel(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    command = f"{sys.executable} -m codeteam serve --root {{root}}"
    fake = FakeAnthropic(two_writers)
    with fake:
        done = run(tmp_path, ws, command, fake)
    assert done.returncode == 0, done.stderr
    assert not [e for e in events(done) if e["event"] == "notice"]
    assert (ws / "a.txt").read_text() == "a" and (ws / "b.txt").read_text() == "b"
    assert overlapped(spans(fake))


def test_command_without_root_placeholder_runs_in_place_one_at_a_time(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    command = f"{sys.executable} -m codeteam serve --root {ws}"
    fake = FakeAnthropic(two_writers)
    with fake:
        done = run(tmp_path, ws, command, fake)
    assert done.returncode == 0, done.stderr
    notices = [e["message"] for e in events(done) if e["event"] == "notice"]
    assert len(notices) == 1 and "one at a time" in notices[0]
    assert (ws / "a.txt").read_text() == "a" and (ws / "b.txt").read_text() == "b"
    assert not overlapped(spans(fake))


@pytest.mark.parametrize("json_mode", [True, False])
def test_url_where_nothing_listens_is_a_one_line_error(tmp_path: Path, json_mode: bool) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    fake = FakeAnthropic(two_writers)
    with fake:
        done = subprocess.run(
            [
                *(
                    sys.executable,
                    "-m",
                    "codeteam",
                    "run",
                    "x",
                    "--workspace",
                    str(tmp_path / "ws"),
                ),
                *("--db", str(tmp_path / "runs.db"), "--mcp-server", url),
                *(["--json"] if json_mode else []),
            ],
            env=env | {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": fake.url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert fake.calls == []  # no model call is spent on a run that cannot work
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"cannot reach the MCP server {url}" in done.stderr and "--mcp-server" in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "codeteam", "runs", "--db", str(tmp_path / "runs.db"), "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    (recorded,) = json.loads(listed.stdout)
    assert recorded["status"] == "failed"


def test_command_that_does_not_exist_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "codeteam", "run", "x", "--workspace", str(tmp_path / "ws")),
            *("--db", str(tmp_path / "runs.db"), "--json"),
            *("--mcp-server", "/no/such/server {root}"),
        ],
        env=env | {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot start MCP server '/no/such/server'" in done.stderr
