"""Resume after SIGKILL: finished tasks come from the records and are never redone —
counted in the records and at the fake model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from codeteam.store import Store
from tests.team.conftest import mini_server, role, task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use

PLAN = [
    tool_use("assign_task", id="a", agent="code", description="write a.txt"),
    tool_use("assign_task", id="b", agent="code", description="write b.txt"),
    tool_use("assign_task", id="c", agent="code", description="write c.txt"),
    tool_use("assign_task", id="d", agent="test", description="check", depends_on=["c"]),
]


def script(slow_c: bool) -> Any:
    def reply(req: ModelRequest) -> Response:
        if role(req) == "lead":
            return Reply(PLAN) if req.turn == 0 else Reply([text("FINAL REPORT")])
        tid = task_id(req)
        if req.turn == 0:
            delay = 60.0 if (slow_c and tid == "c") else 0.0
            return Reply([tool_use("write_file", path=f"{tid}.txt", content=tid)], delay=delay)
        return Reply([text(f"wrote {tid}.txt")])

    return reply


def env(fake: FakeAnthropic, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    return {
        **base,
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": fake.url,
        "CODETEAM_RUN_DIR": str(tmp_path / "runs"),
    }


def counts(db: Path, run_id: str) -> dict[str, tuple[int, int]]:
    store = Store(db)
    run = store.get_run(run_id)
    store.close()
    assert run is not None
    out: dict[str, tuple[int, int]] = {}
    for t in ("a", "b", "c", "d"):
        models = sum(1 for m in run["model_calls"] if m["task_id"] == t)
        tools = sum(1 for m in run["tool_calls"] if m["task_id"] == t)
        out[t] = (models, tools)
    return out


def specialist_tasks(fake: FakeAnthropic) -> list[str]:
    return [
        task_id(ModelRequest(c.body)) for c in fake.calls if role(ModelRequest(c.body)) != "lead"
    ]


def test_a_run_killed_with_sigkill_resumes_without_repeating_finished_tasks(
    tmp_path: Path,
) -> None:
    ws, db = tmp_path / "ws", tmp_path / "runs.db"
    common = ["--db", str(db), "--json", "--mcp-server", mini_server()]
    with FakeAnthropic(script(slow_c=True)) as fake:
        proc = subprocess.Popen(
            [sys.executable, "-m", "codeteam", "run", "abc", "--workspace", str(ws), *common],
            env=env(fake, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        run_id, done = "", set()
        for line in proc.stdout:
            event = json.loads(line)
            run_id = run_id or event["run_id"]
            if event["event"] == "task_finished":
                done.add(event["task"])
            if done == {"a", "b"}:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    before = counts(db, run_id)
    assert before["a"] == (2, 1) and before["b"] == (2, 1) and before["d"] == (0, 0)
    # Its process is gone: listed as interrupted (resumable), not running forever.
    listing = subprocess.run(
        [sys.executable, "-m", "codeteam", "runs", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [r["status"] for r in json.loads(listing.stdout)] == ["interrupted"], listing.stderr

    with FakeAnthropic(script(slow_c=False)) as fake2:
        resumed = subprocess.run(
            [sys.executable, "-m", "codeteam", "run", "--resume", run_id, *common],
            env=env(fake2, tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert events[-1]["status"] == "completed" and "FINAL REPORT" in events[-1]["report"]
    assert {e["task"] for e in events if e["event"] == "task_resumed"} == {"a", "b"}
    # At the fake model: no call for a or b; the lead made only its final call (the plan
    # came from the records); c restarted, d ran.
    assert sorted(specialist_tasks(fake2)) == ["c", "c", "d", "d"]
    assert sum(1 for c in fake2.calls if role(ModelRequest(c.body)) == "lead") == 1
    # In the records: a's and b's calls unchanged.
    after = counts(db, run_id)
    assert after["a"] == before["a"] and after["b"] == before["b"]
    assert after["d"] == (2, 1)
    assert {p.name: p.read_text() for p in ws.iterdir()} == {
        "a.txt": "a",
        "b.txt": "b",
        "c.txt": "c",
        "d.txt": "d",
    }


def test_resuming_a_completed_or_unknown_run_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codeteam", "run", "--resume", "nope", "--db", str(tmp_path / "x")],
        env={**os.environ, "ANTHROPIC_API_KEY": "k"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "no run 'nope'" in done.stderr
