"""The run-record schema as an ordered list of small, named migrations.

Each is applied once and recorded in ``_migrations``, so a user's history survives
upgrades: add a new function to the end of :data:`MIGRATIONS`, never edit an old one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits first, and a migration must be one transaction.
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def m001_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            request TEXT NOT NULL,
            workspace TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            status TEXT NOT NULL,          -- running | completed | failed | interrupted
            report TEXT,
            error TEXT,
            started_at REAL NOT NULL,
            finished_at REAL
        );
        CREATE TABLE tasks (
            run_id TEXT NOT NULL REFERENCES runs(id),
            id TEXT NOT NULL,
            agent TEXT NOT NULL,
            description TEXT NOT NULL,
            depends_on TEXT NOT NULL,      -- JSON list of task ids
            status TEXT NOT NULL,  -- pending|running|ok|failed|skipped|interrupted
            result TEXT,
            error TEXT,
            turns INTEGER NOT NULL DEFAULT 0,
            started_at REAL,
            finished_at REAL,
            PRIMARY KEY (run_id, id)
        );
        CREATE TABLE model_calls (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            task_id TEXT,                  -- NULL for the lead
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            latency_ms REAL NOT NULL DEFAULT 0,
            stop_reason TEXT,
            error TEXT,
            started_at REAL NOT NULL
        );
        CREATE TABLE tool_calls (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            task_id TEXT,
            name TEXT NOT NULL,
            arguments TEXT NOT NULL,       -- JSON
            status TEXT NOT NULL,
            is_error INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            started_at REAL NOT NULL
        );
        CREATE INDEX model_calls_run ON model_calls(run_id, task_id);
        CREATE INDEX tool_calls_run ON tool_calls(run_id, task_id);
        """,
    )


def m002_budgets_resume_merge(db: sqlite3.Connection) -> None:
    """Limits that fired, merge conflicts, and what a resume needs: the lead's conversation,
    the run's settings and directory of copies, each task's recorded base."""
    _script(
        db,
        """
        ALTER TABLE runs ADD COLUMN lead_messages TEXT;   -- JSON: the lead's conversation
        ALTER TABLE runs ADD COLUMN config TEXT;          -- JSON: settings to resume with
        ALTER TABLE runs ADD COLUMN run_dir TEXT;         -- task copies and bases
        ALTER TABLE tasks ADD COLUMN base TEXT;           -- the copy the task started from
        CREATE TABLE limits (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            task_id TEXT,                  -- NULL for run-wide limits and the lead
            kind TEXT NOT NULL,            -- tokens | cost | turns | tool_calls | repeat
            detail TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE TABLE conflicts (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            task_id TEXT NOT NULL,
            path TEXT NOT NULL,            -- the file both changed (kept as first merged)
            other TEXT NOT NULL,           -- where this task's version was kept
            detail TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX limits_run ON limits(run_id);
        CREATE INDEX conflicts_run ON conflicts(run_id)
        """,
    )


def m003_owner_and_merge_journal(db: sqlite3.Connection) -> None:
    """Which process owns a running run (so a run whose process died shows as interrupted),
    and each task's merge journal (so a resume applies a finished task's merge exactly once)."""
    _script(
        db,
        """
        ALTER TABLE runs ADD COLUMN owner_pid INTEGER;    -- the process running it
        ALTER TABLE runs ADD COLUMN owner_started REAL;   -- that process's start (boot ticks)
        ALTER TABLE runs ADD COLUMN owner_host TEXT;
        ALTER TABLE runs ADD COLUMN heartbeat_at REAL;    -- last time that process was alive
        ALTER TABLE tasks ADD COLUMN work TEXT;           -- the task's copy, kept until merged
        ALTER TABLE tasks ADD COLUMN merge TEXT;          -- NULL | pending | done
        """,
    )


def m004_evals(db: sqlite3.Connection) -> None:
    """Evals (``codeteam eval``): one row per eval, one per scored problem. A problem's row
    is written once, when it is scored, so a resume never scores it again."""
    _script(
        db,
        """
        CREATE TABLE evals (
            id TEXT PRIMARY KEY,
            dataset TEXT NOT NULL,
            mode TEXT NOT NULL,            -- team | single
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            options TEXT NOT NULL,         -- JSON: problems chosen, budgets, what a resume needs
            total INTEGER NOT NULL,        -- problems chosen
            status TEXT NOT NULL,          -- running | completed | stopped | interrupted | failed
            error TEXT,
            started_at REAL NOT NULL,
            finished_at REAL,
            owner_pid INTEGER,
            owner_started REAL,
            owner_host TEXT,
            heartbeat_at REAL
        );
        CREATE TABLE eval_problems (
            eval_id TEXT NOT NULL REFERENCES evals(id),
            problem_id TEXT NOT NULL,
            position INTEGER NOT NULL,     -- order within the eval
            passed INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            wall_s REAL NOT NULL,
            model_calls INTEGER NOT NULL,
            tool_calls INTEGER NOT NULL,
            reason TEXT,                   -- why it failed, one line (NULL when passed)
            run_id TEXT,                   -- its team run: codeteam runs show RUN_ID
            scored_at REAL NOT NULL,
            PRIMARY KEY (eval_id, problem_id)
        );
        """,
    )


def m005_tool_results(db: sqlite3.Connection) -> None:
    """What a look back at a run needs beyond the calls' names: each tool call's result
    (its text and structured content), each task's changes as diffs, and the indexes that
    page through many runs newest first (``codeteam ui``)."""
    _script(
        db,
        """
        ALTER TABLE tool_calls ADD COLUMN result TEXT;      -- the text the model was given
        ALTER TABLE tool_calls ADD COLUMN structured TEXT;  -- JSON: the tool's structured result
        CREATE TABLE diffs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            task_id TEXT NOT NULL,
            path TEXT NOT NULL,            -- relative to the workspace
            diff TEXT NOT NULL,            -- unified diff of the task's copy against its base
            at REAL NOT NULL
        );
        CREATE INDEX diffs_run ON diffs(run_id, task_id);
        CREATE INDEX runs_started ON runs(started_at);
        CREATE INDEX runs_status_started ON runs(status, started_at)
        """,
    )


MIGRATIONS: list[Migration] = [
    m001_initial,
    m002_budgets_resume_merge,
    m003_owner_and_merge_journal,
    m004_evals,
    m005_tool_results,
]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied: list[str] = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        db.execute("BEGIN")
        try:
            migration(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
