"""A run in progress in another process shows on open pages without a reload, within 1 s
of being recorded (the UI reads the records while ``codeteam run`` writes them)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path

from tests.team.conftest import role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.ui.conftest import Recorded, Tab, Ui, start_run, workspace_dir

#: Recording to showing: the issue's bound.
WITHIN_S = 1.0


def slow_script(req: ModelRequest) -> Response:
    """One task whose model replies take a while, so the page sees it running, then ok."""
    if role(req) == "lead":
        if req.turn == 0:
            return Reply([tool_use("assign_task", id="slow", agent="code", description="wait")])
        return Reply([text("done")])
    if req.turn == 0:
        return Reply([tool_use("write_file", path="slow.txt", content="x")], delay=1.5)
    return Reply([text("wrote slow.txt")], delay=1.5)


def recorded_at(db: Path, sql: str, *args: str) -> float | None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row = con.execute(sql, args).fetchone()
    return row[0] if row else None


def test_a_new_run_and_its_task_statuses_appear_live(ui: Ui, recorded: Recorded, tab: Tab) -> None:
    page = tab.page
    page.goto(ui.url + "/")
    page.locator("#live-state.on").wait_for()  # the event stream is open
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    root = workspace_dir()
    ws = root / "ws"
    ws.mkdir(mode=0o755)
    try:
        with FakeAnthropic(slow_script) as fake:
            proc = start_run(recorded.db, ws, fake, "a slow run", root / "runs")
            try:
                row = page.locator("tr[data-run]", has_text="a slow run")
                row.wait_for(timeout=30_000)
                seen = time.time()
                run_id = row.get_attribute("data-run")
                assert run_id is not None
                started = recorded_at(
                    recorded.db, "SELECT started_at FROM runs WHERE id = ?", run_id
                )
                assert started is not None
                print(f"run start recorded -> row on the page: {seen - started:.2f} s")
                assert seen - started < WITHIN_S
                tab.shot("live-runs")
                row.locator("a").click()
                page.wait_for_url(f"**/runs/{run_id}")
                page.locator("#live-state.on").wait_for()
                page.evaluate("window.__same_page = true")
                task = page.locator("#task-slow")
                task.wait_for(timeout=30_000)
                page.locator("#task-slow[data-status=running]").wait_for(timeout=30_000)
                page.locator("#graph a.node[data-status=running]").wait_for()
                page.locator("#task-slow[data-status=ok]").wait_for(timeout=30_000)
                shown = time.time()
                finished = recorded_at(
                    recorded.db,
                    "SELECT finished_at FROM tasks WHERE run_id = ? AND id = 'slow'",
                    run_id,
                )
                assert finished is not None
                print(f"task end recorded -> shown on the page: {shown - finished:.2f} s")
                assert shown - finished < WITHIN_S, f"{shown - finished:.2f} s"
                page.locator("#run-status", has_text="completed").wait_for(timeout=30_000)
                assert page.evaluate("window.__same_page") is True
                assert re.search(r"write_file", task.inner_text())
                tab.shot("live-run")
            finally:
                _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        shutil.rmtree(root, ignore_errors=True)
