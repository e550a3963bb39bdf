"""Eval records in a real SQLite file: written once per problem, and an eval whose
process died without saying so reads as interrupted."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from codeteam.store import Store
from codeteam.store.evals import Evals, ProblemRecord


def _record(pid: str, passed: bool) -> ProblemRecord:
    return ProblemRecord(pid, 0, passed, 100, 20, 0.001, 1.5, 2, 1, None if passed else "x", "r1")


def test_a_problem_is_scored_once_and_read_back_whole(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.db")
    evals = Evals(store)
    eval_id = evals.create("humaneval", "single", "anthropic", "m", {"problem_ids": ["a"]}, 2)
    evals.record(eval_id, _record("a", True))
    with pytest.raises(sqlite3.IntegrityError):
        evals.record(eval_id, _record("a", False))
    assert evals.scored(eval_id) == {"a": _record("a", True)}
    (row,) = evals.summaries()
    assert (row["scored"], row["passed"], row["total"], row["status"]) == (1, 1, 2, "running")
    store.close()


def test_an_eval_whose_process_died_reads_interrupted_with_how_to_resume(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.db")
    evals = Evals(store)
    eval_id = evals.create("humaneval", "team", "anthropic", "m", {}, 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    store.db.execute("UPDATE evals SET owner_pid = ? WHERE id = ?", (int(dead.stdout), eval_id))
    ev = evals.get(eval_id)
    assert ev is not None and ev["status"] == "interrupted"
    assert f"codeteam eval --resume {eval_id}" in ev["error"]
    store.close()
