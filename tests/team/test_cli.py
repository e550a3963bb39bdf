"""``codeteam run`` / ``codeteam runs`` as a user runs them: real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from codeteam.store import Store
from tests.team.conftest import mini_server, role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    return {**base, **extra}


def codeteam(*args: str) -> list[str]:
    return [sys.executable, "-m", "codeteam", *args]


def script(req: ModelRequest) -> Response:
    if role(req) == "lead":
        if req.turn == 0:
            return Reply([tool_use("assign_task", id="w", agent="code", description="write")])
        return Reply([text("THE REPORT")])
    if req.turn == 0:
        return Reply([tool_use("write_file", path="out.txt", content="done")], delay=0.5)
    return Reply([text("wrote out.txt")])


def test_run_without_a_key_says_what_to_set_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        codeteam("run", "x", "--db", str(tmp_path / "db")),
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "ANTHROPIC_API_KEY" in done.stderr
    done = subprocess.run(
        codeteam("run", "x", "--provider", "openai"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "OPENAI_API_KEY" in done.stderr and done.stdout == ""


def test_json_run_streams_events_and_runs_show_the_record(tmp_path: Path) -> None:
    ws, db = tmp_path / "ws", tmp_path / "runs.db"
    with FakeAnthropic(script) as fake:
        done = subprocess.run(
            codeteam(
                "run",
                "write out",
                "--workspace",
                str(ws),
                "--db",
                str(db),
                "--json",
                "--mcp-server",
                mini_server(),
            ),
            env=env(
                ANTHROPIC_API_KEY="k",
                ANTHROPIC_BASE_URL=fake.url,
                CODETEAM_RUN_DIR=str(tmp_path / "runs"),
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert {"plan", "task_started", "model_call", "tool_call", "task_finished"} <= set(kinds)
    assert events[-1]["report"] == "THE REPORT" and (ws / "out.txt").read_text() == "done"
    run_id = events[0]["run_id"]
    listing = subprocess.run(
        codeteam("runs", "--db", str(db)),
        capture_output=True,
        text=True,
        timeout=60,
        env=env(COLUMNS="200"),
    )
    assert run_id in listing.stdout and "completed" in listing.stdout
    shown = subprocess.run(
        codeteam("runs", "--db", str(db), "show", run_id),
        capture_output=True,
        text=True,
        timeout=60,
        env=env(COLUMNS="200"),
    )
    assert shown.returncode == 0
    assert "- w [code] ok" in shown.stdout and "write_file" in shown.stdout
    assert "THE REPORT" in shown.stdout
    missing = subprocess.run(
        codeteam("runs", "--db", str(db), "show", "nope"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_live_table_run_prints_the_report(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with FakeAnthropic(script) as fake:
        done = subprocess.run(
            codeteam(
                "run",
                "write out",
                "--workspace",
                str(ws),
                "--db",
                str(tmp_path / "db"),
                "--mcp-server",
                mini_server(),
            ),
            env=env(
                ANTHROPIC_API_KEY="k",
                ANTHROPIC_BASE_URL=fake.url,
                COLUMNS="200",
                CODETEAM_RUN_DIR=str(tmp_path / "runs"),
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "THE REPORT" in done.stdout and "status" in done.stdout


def test_ctrl_c_records_the_run_as_interrupted(tmp_path: Path) -> None:
    def slow(req: ModelRequest) -> Response:
        if role(req) == "lead":
            return Reply([tool_use("assign_task", id="w", agent="code", description="x")])
        return Reply([text("never")], delay=30)

    ws, db = tmp_path / "ws", tmp_path / "runs.db"
    with FakeAnthropic(slow) as fake:
        proc = subprocess.Popen(
            codeteam(
                "run",
                "slow",
                "--workspace",
                str(ws),
                "--db",
                str(db),
                "--json",
                "--mcp-server",
                mini_server(),
            ),
            env=env(
                ANTHROPIC_API_KEY="k",
                ANTHROPIC_BASE_URL=fake.url,
                CODETEAM_RUN_DIR=str(tmp_path / "runs"),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line)["event"] == "task_started":
                break
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    store = Store(db)
    run = store.get_run(store.list_runs()[0]["id"])
    store.close()
    assert run is not None and run["status"] == "interrupted"
    assert [t["status"] for t in run["tasks"]] == ["interrupted"]
