"""What the eval pages show (``codeteam eval`` records): the list, one eval problem by
problem, and two compared. Read only."""

from __future__ import annotations

from typing import Any

from codeteam.eval.ui import _stats, solved_only
from codeteam.store import Store
from codeteam.store.evals import Evals
from codeteam.ui.views import BadRequest, NotFound

#: Evals listed on ``/evals`` (newest first).
LIMIT = 200


def _rate(passed: int, total: int) -> float | None:
    return passed / total if total else None


def evals_page(store: Store) -> dict[str, Any]:
    evals = Evals(store).summaries(LIMIT)
    for e in evals:
        e["rate"] = _rate(e["passed"], e["total"])
    return {"evals": evals}


def _get(store: Store, eval_id: str) -> dict[str, Any]:
    ev = Evals(store).get(eval_id)
    if ev is None:
        raise NotFound(f"no eval {eval_id[:80]!r} in these records: see the list of evals")
    ps = ev["problems"]
    ev["passed"] = sum(p["passed"] for p in ps)
    ev["rate"] = _rate(ev["passed"], ev["total"])
    ev["cost_usd"] = sum(p["cost_usd"] for p in ps)
    ev["wall_s"] = sum(p["wall_s"] for p in ps)
    ev["tokens"] = sum(p["input_tokens"] + p["output_tokens"] for p in ps)
    return ev


def eval_page(store: Store, eval_id: str) -> dict[str, Any]:
    return {"ev": _get(store, eval_id)}


def compare_page(store: Store, query: dict[str, str]) -> dict[str, Any]:
    a_id, b_id = query.get("a", ""), query.get("b", "")
    if not a_id or not b_id:
        raise BadRequest("say which two evals to compare: /evals/compare?a=ID&b=ID")
    a, b = _get(store, a_id), _get(store, b_id)
    by_id = {p["problem_id"]: p for p in b["problems"]}
    rows = [{"id": p["problem_id"], "a": p, "b": by_id.get(p["problem_id"])} for p in a["problems"]]
    seen = {p["problem_id"] for p in a["problems"]}
    rows += [{"id": k, "a": None, "b": p} for k, p in by_id.items() if k not in seen]
    stats = [_stats(a), _stats(b)]
    labels = list(stats[0])
    return {
        "a": a,
        "b": b,
        "stats": [(label, stats[0][label], stats[1][label]) for label in labels],
        "only_a": solved_only(a, b),
        "only_b": solved_only(b, a),
        "rows": rows,
    }


def evals_stamp(store: Store) -> tuple[Any, ...]:
    row = store.db.execute(
        "SELECT COUNT(*), MAX(started_at), MAX(finished_at), "
        "(SELECT COUNT(*) FROM eval_problems) FROM evals"
    ).fetchone()
    return tuple(row)


def eval_stamp(store: Store, eval_id: str) -> tuple[Any, ...]:
    row = store.db.execute(
        "SELECT status, finished_at, "
        "(SELECT COUNT(*) FROM eval_problems WHERE eval_id = e.id) FROM evals e WHERE id = ?",
        (eval_id,),
    ).fetchone()
    return tuple(row) if row else ()
