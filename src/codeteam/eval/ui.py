"""What ``codeteam eval`` and ``codeteam evals`` show: a progress bar while an eval runs,
then tables read back from the records."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from codeteam.team.budget import usd


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _rate(passed: int, n: int) -> str:
    return f"{passed / n:.1%}" if n else "-"


class EvalProgress:
    """A sink for the harness's events drawing done/total, pass rate, USD so far and ETA."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("pass {task.fields[rate]}"),
            TextColumn("{task.fields[usd]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task: TaskID | None = None
        self.scored = self.passed = 0
        self.cost = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "eval_started":
            self.scored, self.passed = event["scored"], event["passed"]
            self.cost = float(event["cost_usd"])
            self._task = self.progress.add_task(
                f"{event['dataset']} ({event['mode']})",
                total=event["total"],
                completed=self.scored,
                rate=_rate(self.passed, self.scored),
                usd=usd(self.cost),
            )
        elif kind == "problem_scored" and self._task is not None:
            self.scored += 1
            self.passed += bool(event["passed"])
            self.cost += float(event["cost_usd"])
            self.progress.update(
                self._task,
                advance=1,
                rate=_rate(self.passed, self.scored),
                usd=usd(self.cost),
            )


def evals_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """``codeteam evals``, and the per-mode summary printed at the end of an eval."""
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    for name in ("dataset", "mode", "model", "status", "scored", "pass@1", "tokens in/out"):
        table.add_column(name)
    table.add_column("USD", justify="right")
    table.add_column("time", justify="right")
    table.add_column("started")
    for r in rows:
        table.add_row(
            r["id"],
            r["dataset"],
            r["mode"],
            r["model"],
            r["status"],
            f"{r['scored']}/{r['total']}",
            f"{_rate(r['passed'], r['total'])} ({r['passed']})",
            f"{r['input_tokens']:,}/{r['output_tokens']:,}",
            usd(r["cost_usd"]),
            f"{r['wall_s']:.1f} s",
            _when(r["started_at"]),
        )
    return table


def show_eval(console: Console, ev: dict[str, Any]) -> None:
    problems = ev["problems"]
    passed = sum(p["passed"] for p in problems)
    console.print(
        f"eval {ev['id']}: {ev['dataset']} ({ev['mode']}), {ev['provider']} {ev['model']}, "
        f"{ev['status']}; pass@1 {_rate(passed, ev['total'])} ({passed}/{ev['total']}, "
        f"{len(problems)} scored), {usd(sum(p['cost_usd'] for p in problems))}",
        markup=False,
        soft_wrap=True,
    )
    if ev.get("error"):
        console.print(ev["error"], style="red", markup=False, soft_wrap=True)
    table = Table(title_justify="left")
    for name in ("problem", "passed", "tokens in/out", "USD", "time", "model/tool calls"):
        table.add_column(name)
    table.add_column("run", no_wrap=True)
    table.add_column("reason")
    for p in problems:
        table.add_row(
            p["problem_id"],
            "yes" if p["passed"] else "no",
            f"{p['input_tokens']:,}/{p['output_tokens']:,}",
            usd(p["cost_usd"]),
            f"{p['wall_s']:.1f} s",
            f"{p['model_calls']}/{p['tool_calls']}",
            p["run_id"] or "-",
            p["reason"] or "",
        )
    console.print(table)
    console.print("[dim]a problem's run: codeteam runs show RUN[/]")


def compare_evals(console: Console, a: dict[str, Any], b: dict[str, Any]) -> None:
    """Two evals side by side, and the problems one solved and the other did not."""
    table = Table(title="compare", title_justify="left")
    table.add_column("")
    for ev in (a, b):
        table.add_column(f"{ev['id']}\n{ev['mode']} {ev['model']}", no_wrap=True)
    stats = [_stats(ev) for ev in (a, b)]
    for label in ("dataset", "problems", "pass@1", "tokens in/out", "USD", "time"):
        table.add_row(label, *(s[label] for s in stats))
    console.print(table)
    for first, second in ((a, b), (b, a)):
        only = solved_only(first, second)
        console.print(
            f"solved by {first['id']} ({first['mode']}) only: {', '.join(only) or 'none'}",
            markup=False,
            soft_wrap=True,
        )


def solved_only(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Problems ``first`` passed that ``second`` scored and did not pass."""
    lost = {p["problem_id"] for p in second["problems"] if not p["passed"]}
    return [p["problem_id"] for p in first["problems"] if p["passed"] and p["problem_id"] in lost]


def _stats(ev: dict[str, Any]) -> dict[str, str]:
    ps = ev["problems"]
    passed = sum(p["passed"] for p in ps)
    return {
        "dataset": ev["dataset"],
        "problems": f"{len(ps)}/{ev['total']} scored",
        "pass@1": f"{_rate(passed, ev['total'])} ({passed})",
        "tokens in/out": f"{sum(p['input_tokens'] for p in ps):,}/"
        f"{sum(p['output_tokens'] for p in ps):,}",
        "USD": usd(sum(p["cost_usd"] for p in ps)),
        "time": f"{sum(p['wall_s'] for p in ps):.1f} s",
    }
