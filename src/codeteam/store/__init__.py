"""Run records in SQLite: runs, tasks, model calls, tool calls.

Autocommit and WAL: every write is in the database when the call returns, so Ctrl-C, a
crash or SIGKILL loses nothing already recorded (``synchronous=NORMAL``: only a power cut
may lose the last commits, and a commit costs microseconds instead of an fsync). Writes
are small and synchronous (well under a millisecond); the team calls them from its event
loop directly.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeteam.store import owner
from codeteam.store.migrations import migrate


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("codeteam")) / "runs.db"


def open_store(db: str | None) -> Store:
    """The records at ``db`` (a ``--db`` flag), or the user's default database."""
    return Store(Path(db) if db else default_db_path())


def resolve_id(what: str, given: str, ids: list[str], path: Path | str) -> str:
    """The ``what`` id (run, eval) that ``given`` names: the id itself or any unique beginning
    of it; ``ids`` are the recorded ids starting with it (a few more than five)."""
    from codeteam.config import ConfigError

    if given in ids or len(ids) == 1:
        return given if given in ids else ids[0]
    if not ids:
        raise ConfigError(f"no {what} {given!r} in {path}: see 'codeteam {what}s'")
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    raise ConfigError(f"{given!r} matches several {what}s ({shown}): give more of the id")


#: A task's end as recorded: status, result, error, turns.
TaskEnd = tuple[str, str | None, str | None, int]


@dataclass(frozen=True)
class ModelCall:
    model: str
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    latency_ms: float
    stop_reason: str | None
    error: str | None = None


#: A tool's structured result larger than this (as JSON) is not kept; its text still is.
STRUCTURED_CAP = 256 * 1024


class Store:
    """``readonly``: open an existing database for reading only (``codeteam ui``); it never
    writes, not even to settle orphaned runs (they are shown as interrupted instead)."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        if readonly:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout=5000")
        if not readonly:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            migrate(self.db)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ writes

    def create_run(self, request: str, workspace: str, provider: str, model: str) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.db.execute(
            "INSERT INTO runs (id, request, workspace, provider, model, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, 'running', ?)",
            (run_id, request, workspace, provider, model, time.time()),
        )
        self._own(run_id)
        return run_id

    def _own(self, run_id: str) -> None:
        """Record this process as the one running ``run_id``."""
        me = owner.current()
        self.db.execute(
            "UPDATE runs SET owner_pid = ?, owner_started = ?, owner_host = ?, heartbeat_at = ? "
            "WHERE id = ?",
            (me.pid, me.started, me.host, time.time(), run_id),
        )

    def heartbeat(self, run_id: str) -> None:
        self.db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))

    def orphaned(self, table: str) -> list[sqlite3.Row]:
        """The rows of ``table`` (runs or evals) recorded as running whose process has ended
        (SIGKILL, a crash, a power cut): they could not record it themselves."""
        assert table in ("runs", "evals")
        rows = self.db.execute(
            "SELECT id, owner_pid, owner_started, owner_host, heartbeat_at, started_at "  # noqa: S608 - one of two names
            f"FROM {table} WHERE status = 'running'"
        ).fetchall()
        return [
            r
            for r in rows
            if owner.gone(
                r["owner_pid"],
                r["owner_started"],
                r["owner_host"],
                r["heartbeat_at"] or r["started_at"],
            )
        ]

    def orphans(self) -> dict[str, str]:
        """Orphaned runs, each with the error that says what became of it."""
        found: dict[str, str] = {}
        for r in self.orphaned("runs"):
            who = f"pid {r['owner_pid']}" if r["owner_pid"] else "its process"
            found[r["id"]] = (
                f"the process running it ({who}) ended before the run finished; "
                f"resume it: codeteam run --resume {r['id']}"
            )
        return found

    def _settle_orphans(self) -> dict[str, str]:
        """Record orphaned runs as interrupted (read-only: only return them, so a reader
        shows them as interrupted)."""
        found = self.orphans()
        if not self.readonly:
            for run_id, error in found.items():
                self.finish_run(run_id, "interrupted", error=error, only_if_running=True)
        return found

    def finish_run(
        self,
        run_id: str,
        status: str,
        report: str | None = None,
        error: str | None = None,
        *,
        only_if_running: bool = False,
    ) -> None:
        done = self.db.execute(
            "UPDATE runs SET status = ?, report = ?, error = ?, finished_at = ? "
            "WHERE id = ? AND (status = 'running' OR NOT ?)",
            (status, report, error, time.time(), run_id, only_if_running),
        )
        if done.rowcount and status == "interrupted":
            self.db.execute(
                "UPDATE tasks SET status = 'interrupted', finished_at = ? "
                "WHERE run_id = ? AND status IN ('pending', 'running')",
                (time.time(), run_id),
            )

    def add_task(
        self, run_id: str, task_id: str, agent: str, description: str, depends_on: list[str]
    ) -> None:
        """Record a planned task; on resume an existing record is kept as it is."""
        self.db.execute(
            "INSERT OR IGNORE INTO tasks (run_id, id, agent, description, depends_on, status) "
            "VALUES (?, ?, ?, ?, ?, 'pending')",
            (run_id, task_id, agent, description, json.dumps(depends_on)),
        )

    def set_run_state(
        self,
        run_id: str,
        *,
        config: dict[str, Any] | None = None,
        run_dir: str | None = None,
        lead_messages: list[dict[str, Any]] | None = None,
    ) -> None:
        """What a resume needs, written as soon as it is known."""
        for column, value in (
            ("config", config),
            ("run_dir", run_dir),
            ("lead_messages", lead_messages),
        ):
            if value is not None:
                encoded = value if isinstance(value, str) else json.dumps(value)
                self.db.execute(
                    f"UPDATE runs SET {column} = ? WHERE id = ?",  # noqa: S608 - fixed names
                    (encoded, run_id),
                )

    def reopen_run(self, run_id: str) -> None:
        self.db.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL WHERE id = ?",
            (run_id,),
        )
        self._own(run_id)

    def set_task_base(self, run_id: str, task_id: str, base: str) -> None:
        self.db.execute(
            "UPDATE tasks SET base = ? WHERE run_id = ? AND id = ?", (base, run_id, task_id)
        )

    def merge_pending(self, run_id: str, task_id: str, work: str, outcome: TaskEnd) -> None:
        """A task's outcome, recorded with its merge still to apply (one write: a resume
        finds either a running task or a finished one whose merge it must complete)."""
        self.db.execute(
            "UPDATE tasks SET status = ?, result = ?, error = ?, turns = ?, finished_at = ?, "
            "work = ?, merge = 'pending' WHERE run_id = ? AND id = ?",
            (*outcome, time.time(), work, run_id, task_id),
        )

    def merge_done(self, run_id: str, task_id: str, result: str | None) -> None:
        self.db.execute(
            "UPDATE tasks SET merge = 'done', result = ? WHERE run_id = ? AND id = ?",
            (result, run_id, task_id),
        )

    def clear_merge(self, run_id: str, task_id: str) -> None:
        """Before a merge is applied again after a crash: it records its diffs and
        conflicts anew."""
        for table in ("conflicts", "diffs"):
            self.db.execute(
                f"DELETE FROM {table} WHERE run_id = ? AND task_id = ?",  # noqa: S608 - fixed
                (run_id, task_id),
            )

    def record_diff(self, run_id: str, task_id: str, path: str, diff: str) -> None:
        self.db.execute(
            "INSERT INTO diffs (run_id, task_id, path, diff, at) VALUES (?, ?, ?, ?, ?)",
            (run_id, task_id, path, diff, time.time()),
        )

    def record_limit(self, run_id: str, task_id: str | None, kind: str, detail: str) -> None:
        self.db.execute(
            "INSERT INTO limits (run_id, task_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
            (run_id, task_id, kind, detail, time.time()),
        )

    def record_conflict(
        self, run_id: str, task_id: str, path: str, other: str, detail: str
    ) -> None:
        self.db.execute(
            "INSERT INTO conflicts (run_id, task_id, path, other, detail, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, task_id, path, other, detail, time.time()),
        )

    def start_task(self, run_id: str, task_id: str) -> None:
        self.db.execute(
            "UPDATE tasks SET status = 'running', started_at = ? WHERE run_id = ? AND id = ?",
            (time.time(), run_id, task_id),
        )

    def finish_task(
        self,
        run_id: str,
        task_id: str,
        status: str,
        *,
        result: str | None = None,
        error: str | None = None,
        turns: int = 0,
    ) -> None:
        self.db.execute(
            "UPDATE tasks SET status = ?, result = ?, error = ?, turns = ?, finished_at = ? "
            "WHERE run_id = ? AND id = ?",
            (status, result, error, turns, time.time(), run_id, task_id),
        )

    def record_model_call(
        self, run_id: str, task_id: str | None, call: ModelCall, started_at: float
    ) -> None:
        self.db.execute(
            "INSERT INTO model_calls (run_id, task_id, model, input_tokens, output_tokens, "
            "cache_creation_tokens, cache_read_tokens, latency_ms, stop_reason, error, "
            "started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                task_id,
                call.model,
                call.input_tokens,
                call.output_tokens,
                call.cache_creation_tokens,
                call.cache_read_tokens,
                call.latency_ms,
                call.stop_reason,
                call.error,
                started_at,
            ),
        )

    def record_tool_call(
        self,
        run_id: str,
        task_id: str | None,
        name: str,
        arguments: Any,
        *,
        status: str,
        is_error: bool,
        duration_ms: float,
        started_at: float,
        result: str | None = None,
        structured: dict[str, Any] | None = None,
    ) -> None:
        kept = json.dumps(structured, default=str) if structured is not None else None
        if kept is not None and len(kept) > STRUCTURED_CAP:
            kept = None  # the text (capped for the model) still says what happened
        self.db.execute(
            "INSERT INTO tool_calls (run_id, task_id, name, arguments, status, is_error, "
            "duration_ms, started_at, result, structured) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                task_id,
                name,
                json.dumps(arguments, default=str),
                status,
                int(is_error),
                duration_ms,
                started_at,
                result,
                kept,
            ),
        )

    # ------------------------------------------------------------------ reads

    def list_runs(
        self, limit: int = 50, offset: int = 0, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Runs newest first, ``limit`` from ``offset``; only those with ``status`` if given."""
        orphaned = self._settle_orphans()
        return self._runs(orphaned, _status_is(status, orphaned), limit, offset)

    def runs_page(
        self, limit: int, offset: int, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """:meth:`list_runs`, and how many runs have ``status`` in all (orphans found once
        for both)."""
        orphaned = self._settle_orphans()
        condition = _status_is(status, orphaned)
        where, args = condition
        row = self.db.execute(f"SELECT COUNT(*) FROM runs r WHERE {where}", args).fetchone()  # noqa: S608 - marks only
        return self._runs(orphaned, condition, limit, offset), int(row[0])

    def _runs(
        self,
        orphaned: Mapping[str, str],
        condition: tuple[str, list[str]],
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        where, args = condition
        rows = self.db.execute(
            "SELECT r.id, r.status, r.started_at, r.finished_at, r.model, r.request, "  # noqa: S608 - where: marks only
            "(SELECT COUNT(*) FROM tasks t WHERE t.run_id = r.id) AS tasks, "
            "(SELECT COALESCE(SUM(input_tokens + output_tokens), 0) FROM model_calls m "
            f" WHERE m.run_id = r.id) AS tokens FROM runs r WHERE {where} "
            "ORDER BY r.started_at DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        runs = [dict(r) for r in rows]
        for r in runs:
            if r["id"] in orphaned:
                r["status"] = "interrupted"
        return runs

    def run_ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids of the runs whose id starts with ``prefix``, newest first, at most ``limit``
        (an exact id is its own only match: ids all have the same length)."""
        rows = self.db.execute(
            "SELECT id FROM runs WHERE substr(id, 1, length(?)) = ? "
            "ORDER BY started_at DESC LIMIT ?",
            (prefix, prefix, limit),
        )
        return [r[0] for r in rows]

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        orphaned = self._settle_orphans()
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        run = dict(row)
        if run_id in orphaned:
            run["status"], run["error"] = "interrupted", orphaned[run_id]
        run["tasks"] = [
            {**dict(t), "depends_on": json.loads(t["depends_on"])}
            for t in self.db.execute(
                "SELECT * FROM tasks WHERE run_id = ? ORDER BY rowid", (run_id,)
            )
        ]
        run["model_calls"] = [
            dict(m)
            for m in self.db.execute(
                "SELECT * FROM model_calls WHERE run_id = ? ORDER BY id", (run_id,)
            )
        ]
        for table in ("limits", "conflicts", "diffs"):
            run[table] = [
                dict(r)
                for r in self.db.execute(
                    f"SELECT * FROM {table} WHERE run_id = ? ORDER BY id",  # noqa: S608
                    (run_id,),
                )
            ]
        run["tool_calls"] = [
            {
                **dict(c),
                "arguments": json.loads(c["arguments"]),
                "structured": json.loads(c["structured"]) if c["structured"] else None,
            }
            for c in self.db.execute(
                "SELECT * FROM tool_calls WHERE run_id = ? ORDER BY id", (run_id,)
            )
        ]
        return run


def _status_is(status: str | None, orphaned: Mapping[str, str]) -> tuple[str, list[str]]:
    """A condition on ``runs r``: its status as every reader shows it is ``status`` (a run
    recorded as running whose process has ended reads interrupted, also where a read-only
    reader cannot record it so)."""
    if status is None:
        return "1", []
    if not orphaned:
        return "r.status = ?", [status]
    marks = ",".join("?" * len(orphaned))
    seen = f"CASE WHEN r.id IN ({marks}) THEN 'interrupted' ELSE r.status END"
    return f"{seen} = ?", [*orphaned, status]
