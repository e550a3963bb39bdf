"""Statuses say what happened: a task whose last tests failed is not ``ok``, a run whose
tasks failed is not ``completed``, and a run whose process died reads ``interrupted``."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from codeteam.config import ConfigError
from codeteam.store import Store
from codeteam.store.migrations import MIGRATIONS
from codeteam.team.events import Plan, PlannedTask, TaskFinished, TaskResumed, TaskStarted
from codeteam.team.runner import resume_config
from codeteam.team.ui import TaskBoard
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_team_run import assign, run, task_id, team

PASSING = "def test_ok():\n    assert True\n"
FAILING = "def test_no():\n    assert False\n"


def scripted_checks(req: ModelRequest) -> Response:
    """``broken`` ends on a failing run_tests; ``fixed`` fails first, then passes."""
    tid, turn = task_id(req), req.turn
    steps = {
        "broken": [FAILING],
        "fixed": [FAILING, PASSING],
    }[tid]
    if turn < len(steps):
        return Reply(
            [
                tool_use("write_file", path=f"test_{tid}.py", content=steps[turn]),
                tool_use("run_tests", path=f"test_{tid}.py"),
            ]
        )
    return Reply([text(f"{tid}: all good")])  # what the model claims does not decide


async def test_a_task_whose_last_run_tests_failed_is_tests_failed_and_the_run_partial(
    store: Store, tmp_path: Path
) -> None:
    plan = [assign("broken", "test"), assign("fixed", "test")]
    with FakeAnthropic(team(plan, scripted_checks)) as fake:
        result = await run(fake, store, tmp_path / "ws")
    broken = result.tasks["broken"]
    assert broken.status == "tests_failed" and "last run_tests failed" in str(broken.error)
    assert result.tasks["fixed"].status == "ok"  # only the last run counts
    assert result.status == "partial"
    assert "broken: tests_failed" in result.report
    recorded = store.get_run(result.run_id)
    assert recorded is not None and recorded["status"] == "partial"
    assert {t["id"]: t["status"] for t in recorded["tasks"]} == {
        "broken": "tests_failed",
        "fixed": "ok",
    }
    # The lead was told too.
    final = [c for c in fake.calls if "lead engineer" in str(c.body.get("system"))][-1]
    results = final.body["messages"][-1]["content"]
    assert [r["is_error"] for r in results] == [True, False]


async def test_a_run_whose_every_task_hit_the_turn_limit_is_failed_not_completed(
    store: Store, tmp_path: Path
) -> None:
    def busy(req: ModelRequest) -> Response:
        return Reply([tool_use("list_files")])

    with FakeAnthropic(team([assign("x"), assign("y")], busy)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_turns=1)
    assert {k: v.status for k, v in result.tasks.items()} == {"x": "failed", "y": "failed"}
    assert result.status == "failed" and "2 of 2 task(s) did not succeed" in str(result.error)
    recorded = store.get_run(result.run_id)
    assert recorded is not None and recorded["status"] == "failed"


def test_a_running_run_whose_process_is_gone_reads_interrupted_and_can_be_resumed(
    store: Store,
) -> None:
    alive = store.create_run("live", "/ws", "anthropic", "m")  # owned by this process
    dead = store.create_run("dead", "/ws", "anthropic", "m")
    store.add_task(dead, "a", "code", "do a", [])
    store.start_task(dead, "a")
    gone = subprocess.Popen(["true"])
    gone.wait()
    store.db.execute("UPDATE runs SET owner_pid = ? WHERE id = ?", (gone.pid, dead))
    listed = {r["id"]: r["status"] for r in store.list_runs()}
    assert listed == {alive: "running", dead: "interrupted"}
    shown = store.get_run(dead)
    assert shown is not None and "resume it" in shown["error"]
    assert [t["status"] for t in shown["tasks"]] == ["interrupted"]
    store.set_run_state(dead, config={})
    assert resume_config(store, dead).request == "dead"
    with pytest.raises(ConfigError, match="still running"):
        resume_config(store, alive)


def test_a_reused_pid_does_not_keep_a_dead_run_running(store: Store) -> None:
    run_id = store.create_run("r", "/ws", "anthropic", "m")
    # Our own pid, but a different process start: the owner that had this pid is gone.
    store.db.execute("UPDATE runs SET owner_started = owner_started - 1 WHERE id = ?", (run_id,))
    assert store.list_runs()[0]["status"] == "interrupted"


def test_a_database_at_the_previous_schema_is_migrated_and_keeps_its_runs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    for m in MIGRATIONS[:2]:  # the schema before m003
        m(db)
        db.execute("INSERT INTO _migrations VALUES (?, 0)", (m.__name__,))
    for rid, status in (("old-done", "completed"), ("old-killed", "running")):
        db.execute(
            "INSERT INTO runs (id, request, workspace, provider, model, status, started_at) "
            "VALUES (?, 'req', '/ws', 'anthropic', 'm', ?, 1.0)",
            (rid, status),
        )
    db.execute(
        "INSERT INTO tasks (run_id, id, agent, description, depends_on, status, base) "
        "VALUES ('old-done', 'a', 'code', 'do a', '[]', 'ok', '/x/bases/g0')"
    )
    db.close()
    store = Store(path)
    try:
        names = [r[0] for r in store.db.execute("SELECT name FROM _migrations")]
        assert names == [m.__name__ for m in MIGRATIONS]
        assert {r["id"]: r["status"] for r in store.list_runs()} == {
            "old-done": "completed",
            "old-killed": "interrupted",  # no owner recorded and long silent
        }
        done = store.get_run("old-done")
        assert done is not None and done["tasks"][0]["base"] == "/x/bases/g0"
        assert done["tasks"][0]["merge"] is None
    finally:
        store.close()


def test_the_live_table_shows_a_failed_verdict_and_a_resumed_task_as_recorded() -> None:
    from rich.console import Console

    board = TaskBoard()
    board(Plan([PlannedTask("t", "test", [], "test it")]))
    board(Plan([PlannedTask("r", "code", [], "write it")]))
    board(TaskResumed("r", "code", "failed"))
    board(TaskStarted("t", "test"))
    board(TaskFinished("t", "tests_failed", "its last run_tests failed: 1 failed", ""))
    console = Console(width=200, record=True)
    console.print(board)
    shown = console.export_text()
    assert "tests_failed" in shown and "its last run_tests failed" in shown
    assert {r.status for r in board.rows.values()} == {"tests_failed", "failed"}
