"""The run store: migrations applied once, WAL, records readable after reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from codeteam.store import ModelCall, Store
from codeteam.store.migrations import MIGRATIONS, migrate


def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    Store(tmp_path / "r.db").close()
    db = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    assert [r[0] for r in db.execute("SELECT name FROM _migrations")] == [
        m.__name__ for m in MIGRATIONS
    ]
    assert migrate(db) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_records_survive_reopening_and_interrupt_marks_open_tasks(tmp_path: Path) -> None:
    s = Store(tmp_path / "r.db")
    run = s.create_run("req", "/ws", "anthropic", "m")
    s.add_task(run, "a", "code", "do a", [])
    s.add_task(run, "b", "test", "do b", ["a"])
    s.start_task(run, "a")
    s.record_model_call(run, "a", ModelCall("m", 10, 5, 1, 2, 12.5, "tool_use"), 1.0)
    s.record_tool_call(
        run,
        "a",
        "write_file",
        {"path": "x"},
        status="ok",
        is_error=False,
        duration_ms=3.0,
        started_at=2.0,
    )
    s.finish_run(run, "interrupted", error="Ctrl-C")
    s.close()
    shown = Store(tmp_path / "r.db").get_run(run)
    assert shown is not None and shown["status"] == "interrupted"
    assert [(t["id"], t["status"], t["depends_on"]) for t in shown["tasks"]] == [
        ("a", "interrupted", []),
        ("b", "interrupted", ["a"]),
    ]
    assert shown["model_calls"][0]["cache_read_tokens"] == 2
    assert shown["tool_calls"][0]["arguments"] == {"path": "x"}
