"""What each page shows, assembled from the run records (no HTML here: the templates say
how it looks). Every function only reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from codeteam.llm import Usage
from codeteam.store import Store
from codeteam.team.budget import DEFAULT_PRICES, Price, price_for

#: Runs per page of ``/``.
PAGE_SIZE = 50
#: The statuses ``/`` can filter by (a run's ``status`` column).
RUN_STATUSES = ("running", "completed", "partial", "failed", "stopped", "interrupted")


class NotFound(Exception):
    """The page names a record that does not exist."""


class BadRequest(Exception):
    """The page's query is malformed; the message says what to send instead."""


@dataclass(frozen=True)
class RunsQuery:
    page: int = 1
    status: str | None = None

    @classmethod
    def parse(cls, query: dict[str, str]) -> RunsQuery:
        raw = query.get("page", "1")
        if not raw.isdigit() or int(raw) < 1:
            raise BadRequest(f"page={raw[:40]!r} is not a page number: use page=1, 2, ...")
        status = query.get("status") or None
        if status is not None and status not in RUN_STATUSES:
            raise BadRequest(
                f"status={status[:40]!r} is not a run status: use one of {', '.join(RUN_STATUSES)}"
            )
        return cls(int(raw), status)


def _prices(config: str | None) -> dict[str, Price]:
    """The prices the run was started with (its recorded settings), else the defaults."""
    if config:
        try:
            raw = json.loads(config).get("prices") or {}
            return {k: Price(**v) for k, v in raw.items()} or DEFAULT_PRICES
        except (ValueError, TypeError, AttributeError):
            pass
    return DEFAULT_PRICES


def _cost(rows: list[Any], prices: dict[str, Price]) -> float | None:
    """USD of per-model token sums; None when a model has no known price."""
    total = 0.0
    for r in rows:
        price = price_for(r["model"], prices)
        if price is None:
            return None
        total += price.cost(Usage(r["i"], r["o"], r["cw"], r["cr"]))
    return total


def _usage(store: Store, key: str, where: str, args: list[str]) -> dict[Any, list[Any]]:
    """Token sums per model, grouped by ``key`` (``run_id`` or ``task_id``)."""
    out: dict[Any, list[Any]] = {}
    for row in store.db.execute(
        f"SELECT {key} AS k, model, SUM(input_tokens) AS i, SUM(output_tokens) AS o, "  # noqa: S608
        "SUM(cache_creation_tokens) AS cw, SUM(cache_read_tokens) AS cr FROM model_calls "
        f"WHERE {where} GROUP BY {key}, model",
        args,
    ):
        out.setdefault(row["k"], []).append(row)
    return out


def runs_page(store: Store, q: RunsQuery) -> dict[str, Any]:
    runs, total = store.runs_page(PAGE_SIZE, (q.page - 1) * PAGE_SIZE, q.status)
    ids = [r["id"] for r in runs]
    marks = ",".join("?" * len(ids))
    usage: dict[str, list[Any]] = {}
    configs: dict[str, str | None] = {}
    if ids:
        usage = _usage(store, "run_id", f"run_id IN ({marks})", ids)
        configs = {
            row[0]: row[1]
            for row in store.db.execute(
                f"SELECT id, config FROM runs WHERE id IN ({marks})",  # noqa: S608
                ids,
            )
        }
    for r in runs:
        r["usd"] = _cost(usage.get(r["id"], []), _prices(configs.get(r["id"])))
        r["duration_s"] = (r["finished_at"] or 0) - r["started_at"] if r["finished_at"] else None
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "db": str(store.path),
        "runs": runs,
        "total": total,
        "page": q.page,
        "pages": pages,
        "status": q.status,
        "statuses": RUN_STATUSES,
    }


def _plan(lead_messages: str | None) -> list[dict[str, Any]]:
    """The lead's turns as recorded: its words and the tasks it assigned, in order."""
    if not lead_messages:
        return []
    try:
        messages = json.loads(lead_messages)
    except ValueError:
        return []
    turns: list[dict[str, Any]] = []
    for m in messages if isinstance(messages, list) else []:
        if not isinstance(m, dict) or m.get("role") != "assistant":
            continue
        content = m.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts, assigned = [], []
        for b in blocks if isinstance(blocks, list) else []:
            if not isinstance(b, dict):
                continue
            if b.get("type") == "text" and b.get("text"):
                texts.append(str(b["text"]))
            elif b.get("type") == "tool_use" and isinstance(b.get("input"), dict):
                assigned.append(b["input"])
        if texts or assigned:
            turns.append({"texts": texts, "assigned": assigned})
    return turns


def _turns(calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Calls in time order grouped into turns: a model call, then the tool calls it asked
    for (tool calls before any model call form a turn of their own)."""
    turns: list[dict[str, Any]] = []
    for kind, c in sorted(calls, key=lambda kc: (kc[1]["started_at"], kc[1]["id"])):
        if kind == "model" or not turns:
            turns.append({"model": c if kind == "model" else None, "tools": []})
        if kind == "tool":
            turns[-1]["tools"].append(c)
    return turns


def run_page(store: Store, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:
        raise NotFound(f"no run {run_id[:80]!r} in these records: see the list of runs")
    prices = _prices(run.get("config"))
    usage = _usage(store, "task_id", "run_id = ?", [run_id])
    by_task: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    for c in run["model_calls"]:
        by_task.setdefault(c["task_id"], []).append(("model", c))
    for c in run["tool_calls"]:
        by_task.setdefault(c["task_id"], []).append(("tool", c))
    tasks = []
    for t in run["tasks"]:
        rows = usage.get(t["id"], [])
        tasks.append(
            {
                **t,
                "turn_list": _turns(by_task.get(t["id"], [])),
                "diffs": [d for d in run["diffs"] if d["task_id"] == t["id"]],
                "conflicts": [c for c in run["conflicts"] if c["task_id"] == t["id"]],
                "limits": [x for x in run["limits"] if x["task_id"] == t["id"]],
                "tokens": sum(r["i"] + r["o"] for r in rows),
                "usd": _cost(rows, prices),
            }
        )
    known = {t["id"] for t in run["tasks"]}
    graph = {
        "nodes": [{"id": t["id"], "agent": t["agent"], "status": t["status"]} for t in tasks],
        "edges": [[d, t["id"]] for t in tasks for d in t["depends_on"] if d in known],
    }
    all_rows = [r for rows in usage.values() for r in rows]
    return {
        "run": run,
        "tasks": tasks,
        "graph": graph,
        "plan": _plan(run.get("lead_messages")),
        "lead_turns": _turns(by_task.get(None, [])),
        "run_limits": [x for x in run["limits"] if x["task_id"] is None],
        "tokens": sum(r["i"] + r["o"] for r in all_rows),
        "usd": _cost(all_rows, prices),
        "duration_s": (run["finished_at"] - run["started_at"]) if run["finished_at"] else None,
    }


def runs_stamp(store: Store) -> tuple[Any, ...]:
    """Changes whenever ``/`` would show something else (new runs, ends, tasks, tokens)."""
    row = store.db.execute(
        "SELECT COUNT(*), MAX(started_at), MAX(finished_at), "
        "(SELECT MAX(id) FROM model_calls), (SELECT MAX(rowid) FROM tasks) FROM runs"
    ).fetchone()
    return (*tuple(row), tuple(sorted(store.orphans())))


def run_stamp(store: Store, run_id: str) -> tuple[Any, ...]:
    """Changes whenever the run's page would show something else."""
    row = store.db.execute(
        "SELECT status, finished_at, length(report), length(lead_messages), "
        "(SELECT group_concat(id || ':' || status || ':' || COALESCE(merge, ''), ',') "
        " FROM tasks WHERE run_id = r.id), "
        "(SELECT MAX(id) FROM model_calls WHERE run_id = r.id), "
        "(SELECT MAX(id) FROM tool_calls WHERE run_id = r.id), "
        "(SELECT MAX(id) FROM limits WHERE run_id = r.id), "
        "(SELECT MAX(id) FROM conflicts WHERE run_id = r.id), "
        "(SELECT MAX(id) FROM diffs WHERE run_id = r.id) "
        "FROM runs r WHERE id = ?",
        (run_id,),
    ).fetchone()
    return (*(tuple(row) if row else ()), run_id in store.orphans())
