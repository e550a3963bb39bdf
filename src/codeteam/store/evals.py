"""Eval records: one row per eval, one per scored problem (see ``m004_evals``).

A problem's row is written once, complete, when it is scored: a crash leaves a problem
either scored or not, and a resume scores only the others. An eval whose process ended
without saying so (SIGKILL, a crash) reads as interrupted, as runs do.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from codeteam.store import Store, owner


@dataclass(frozen=True)
class ProblemRecord:
    problem_id: str
    position: int
    passed: bool
    input_tokens: int
    output_tokens: int
    cost_usd: float
    wall_s: float
    model_calls: int
    tool_calls: int
    reason: str | None
    run_id: str | None


class Evals:
    """The eval tables of a run-records database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # ------------------------------------------------------------------ writes

    def create(
        self,
        dataset: str,
        mode: str,
        provider: str,
        model: str,
        options: dict[str, Any],
        total: int,
    ) -> str:
        eval_id = "e" + time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.db.execute(
            "INSERT INTO evals (id, dataset, mode, provider, model, options, total, status, "
            "started_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
            (eval_id, dataset, mode, provider, model, json.dumps(options), total, time.time()),
        )
        self._own(eval_id)
        return eval_id

    def _own(self, eval_id: str) -> None:
        me = owner.current()
        self.db.execute(
            "UPDATE evals SET owner_pid = ?, owner_started = ?, owner_host = ?, "
            "heartbeat_at = ? WHERE id = ?",
            (me.pid, me.started, me.host, time.time(), eval_id),
        )

    def reopen(self, eval_id: str) -> None:
        self.db.execute(
            "UPDATE evals SET status = 'running', finished_at = NULL, error = NULL WHERE id = ?",
            (eval_id,),
        )
        self._own(eval_id)

    def heartbeat(self, eval_id: str) -> None:
        self.db.execute("UPDATE evals SET heartbeat_at = ? WHERE id = ?", (time.time(), eval_id))

    def finish(self, eval_id: str, status: str, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE evals SET status = ?, error = ?, finished_at = ? WHERE id = ?",
            (status, error, time.time(), eval_id),
        )

    def record(self, eval_id: str, p: ProblemRecord) -> None:
        """A scored problem; scoring it again is refused by the primary key."""
        self.db.execute(
            "INSERT INTO eval_problems (eval_id, problem_id, position, passed, input_tokens, "
            "output_tokens, cost_usd, wall_s, model_calls, tool_calls, reason, run_id, "
            "scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                eval_id,
                p.problem_id,
                p.position,
                int(p.passed),
                p.input_tokens,
                p.output_tokens,
                p.cost_usd,
                p.wall_s,
                p.model_calls,
                p.tool_calls,
                p.reason,
                p.run_id,
                time.time(),
            ),
        )

    # ------------------------------------------------------------------ reads

    def _settle_orphans(self) -> set[str]:
        """Record as interrupted the running evals whose process has ended, and return
        their ids (a read-only store only returns them: its reader shows them so)."""
        found: set[str] = set()
        for r in self.store.orphaned("evals"):
            found.add(r["id"])
            if self.store.readonly:
                continue
            self.db.execute(
                "UPDATE evals SET status = 'interrupted', finished_at = ?, error = ? "
                "WHERE id = ? AND status = 'running'",
                (
                    time.time(),
                    f"its process (pid {r['owner_pid']}) ended before the eval finished; "
                    f"finish it: codeteam eval --resume {r['id']}",
                    r["id"],
                ),
            )
        return found

    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM evals WHERE substr(id, 1, length(?)) = ? "
            "ORDER BY started_at DESC LIMIT ?",
            (prefix, prefix, limit),
        )
        return [r[0] for r in rows]

    def summaries(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first: each eval with its totals so far."""
        orphaned = self._settle_orphans()
        rows = self.db.execute(
            "SELECT e.id, e.dataset, e.mode, e.provider, e.model, e.status, e.total, "
            "e.started_at, e.finished_at, "
            "COUNT(p.problem_id) AS scored, COALESCE(SUM(p.passed), 0) AS passed, "
            "COALESCE(SUM(p.input_tokens), 0) AS input_tokens, "
            "COALESCE(SUM(p.output_tokens), 0) AS output_tokens, "
            "COALESCE(SUM(p.cost_usd), 0) AS cost_usd, COALESCE(SUM(p.wall_s), 0) AS wall_s "
            "FROM evals e LEFT JOIN eval_problems p ON p.eval_id = e.id "
            "GROUP BY e.id ORDER BY e.started_at DESC LIMIT ?",
            (limit,),
        )
        out = [dict(r) for r in rows]
        for r in out:
            if r["id"] in orphaned:
                r["status"] = "interrupted"
        return out

    def get(self, eval_id: str) -> dict[str, Any] | None:
        """One eval with its options and its scored problems (in eval order)."""
        orphaned = self._settle_orphans()
        row = self.db.execute("SELECT * FROM evals WHERE id = ?", (eval_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        if eval_id in orphaned:
            out["status"] = "interrupted"
        out["options"] = json.loads(out["options"])
        out["problems"] = [
            {**dict(r), "passed": bool(r["passed"])}
            for r in self.db.execute(
                "SELECT * FROM eval_problems WHERE eval_id = ? ORDER BY position", (eval_id,)
            )
        ]
        return out

    def run_totals(self, run_id: str) -> dict[str, int]:
        """What a run used: tokens by kind, model calls, tool calls (from its records)."""
        m = self.db.execute(
            "SELECT COUNT(*) AS model_calls, COALESCE(SUM(input_tokens), 0) AS input_tokens, "
            "COALESCE(SUM(output_tokens), 0) AS output_tokens, "
            "COALESCE(SUM(cache_creation_tokens), 0) AS cache_creation_tokens, "
            "COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens "
            "FROM model_calls WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        tools = self.db.execute(
            "SELECT COUNT(*) FROM tool_calls WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        return {**dict(m), "tool_calls": int(tools)}

    def scored(self, eval_id: str) -> dict[str, ProblemRecord]:
        """The problems of ``eval_id`` already scored, by id."""
        rows = self.db.execute("SELECT * FROM eval_problems WHERE eval_id = ?", (eval_id,))
        return {
            r["problem_id"]: ProblemRecord(
                r["problem_id"],
                r["position"],
                bool(r["passed"]),
                r["input_tokens"],
                r["output_tokens"],
                r["cost_usd"],
                r["wall_s"],
                r["model_calls"],
                r["tool_calls"],
                r["reason"],
                r["run_id"],
            )
            for r in rows
        }


def record_dict(p: ProblemRecord) -> dict[str, Any]:
    return asdict(p)
