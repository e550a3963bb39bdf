"""What a person sees of a run: a live task table, or a JSONL event stream for tools."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

_STYLE = {
    "pending": "dim",
    "running": "yellow",
    "ok": "green",
    "failed": "red",
    "skipped": "magenta",
    "tests_failed": "red",
    "build_failed": "red",
    "interrupted": "yellow",
}


@dataclass
class _Row:
    agent: str
    depends_on: list[str]
    status: str = "pending"
    started: float | None = None
    finished: float | None = None
    tokens: int = 0
    tools: int = 0
    note: str = ""


class TaskBoard:
    """Folds run events into a table; rich's Live redraws it from :meth:`__rich__`."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self.lead_tokens = 0
        self.header = "planning..."

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        task = event.get("task")
        if kind == "run_started":
            self.header = f"run {event['run_id']}  {event['model']}  {event['workspace']}"
        elif kind == "plan":
            for t in event["tasks"]:
                self.rows[t["id"]] = _Row(t["agent"], t["depends_on"])
        elif kind == "plan_rejected":
            self.header += f"  (plan rejected: {'; '.join(event['errors'])[:120]})"
        elif kind == "task_resumed" and task in self.rows:
            row = self.rows[task]
            row.status, row.note = event.get("status", "ok"), "from the records (resumed)"
        elif kind in ("limit", "conflict") and task in self.rows:
            self.rows[task].note = f"{kind}: {event.get('detail') or event.get('path')}"[:80]
        elif kind in ("limit", "notice"):
            self.header += f"  ({event.get('detail') or event.get('message')})"
        elif kind == "task_started" and task in self.rows:
            self.rows[task].status, self.rows[task].started = "running", time.time()
        elif kind == "task_finished" and task in self.rows:
            row = self.rows[task]
            row.status, row.finished = event["status"], time.time()
            row.note = (event.get("error") or "")[:80]
        elif kind == "model_call":
            tokens = event["input_tokens"] + event["output_tokens"]
            if task is None:
                self.lead_tokens += tokens
            elif task in self.rows:
                self.rows[task].tokens += tokens
        elif kind == "tool_call" and task in self.rows:
            self.rows[task].tools += 1

    def __rich__(self) -> RenderableType:
        table = Table(title=Text(self.header), title_justify="left", expand=False)
        for col in ("task", "agent", "after", "status", "elapsed", "tokens", "tools", "note"):
            table.add_column(
                col, justify="right" if col in ("elapsed", "tokens", "tools") else "left"
            )
        now = time.time()
        for tid, r in self.rows.items():
            elapsed = ""
            if r.started is not None:
                elapsed = f"{(r.finished or now) - r.started:.1f}s"
            table.add_row(
                tid,
                r.agent,
                ",".join(r.depends_on),
                Text(r.status, style=_STYLE.get(r.status, "")),
                elapsed,
                str(r.tokens),
                str(r.tools),
                r.note,
            )
        total = self.lead_tokens + sum(r.tokens for r in self.rows.values())
        return Group(table, Text(f"lead tokens {self.lead_tokens}, total tokens {total}", "dim"))


class JsonLines:
    """One JSON object per event, flushed at once so a reader sees progress live."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps({"ts": round(time.time(), 3), **event}) + "\n")
        self.out.flush()


def show_run(console: Console, run: dict[str, Any]) -> None:
    """``codeteam runs show ID``: header, task tree, then every model and tool call."""
    console.print(f"[bold]run {run['id']}[/] {run['status']}  {run['model']}  {run['workspace']}")
    console.print(f"request: {run['request']}", markup=False)
    if run.get("error"):
        console.print(run["error"], style="red", markup=False)
    tasks = {t["id"]: t for t in run["tasks"]}
    children: dict[str | None, list[str]] = {}
    for t in run["tasks"]:
        parents = [d for d in t["depends_on"] if d in tasks] or [None]
        children.setdefault(parents[-1], []).append(t["id"])

    def walk(parent: str | None, depth: int) -> None:
        for tid in children.get(parent, []):
            t = tasks[tid]
            extra = f" after {', '.join(t['depends_on'])}" if len(t["depends_on"]) > 1 else ""
            console.print(
                f"{'  ' * depth}- {tid} [{t['agent']}] {t['status']}{extra}"
                + (f": {t['error']}" if t.get("error") else ""),
                markup=False,
                highlight=False,
            )
            walk(tid, depth + 1)

    console.print("[bold]tasks[/]")
    walk(None, 1)
    for lim in run.get("limits", []):
        who = f"task {lim['task_id']}" if lim["task_id"] else "run"
        console.print(f"limit {lim['kind']} ({who}): {lim['detail']}", markup=False)
    for c in run.get("conflicts", []):
        console.print(f"conflict {c['path']} (task {c['task_id']}): {c['detail']}", markup=False)
    calls = Table(title="calls", title_justify="left")
    for col in ("kind", "task", "what", "status", "ms", "tokens in/out"):
        calls.add_column(col)
    merged = [("model", c) for c in run["model_calls"]] + [("tool", c) for c in run["tool_calls"]]
    merged.sort(key=lambda kc: kc[1]["started_at"])
    for kind, c in merged:
        if kind == "model":
            calls.add_row(
                kind,
                c["task_id"] or "(lead)",
                c["model"],
                c["error"] or c["stop_reason"] or "",
                f"{c['latency_ms']:.0f}",
                f"{c['input_tokens']}/{c['output_tokens']}",
            )
        else:
            calls.add_row(
                kind,
                c["task_id"] or "(lead)",
                c["name"],
                c["status"],
                f"{c['duration_ms']:.0f}",
                "",
            )
    console.print(calls)
    if run.get("report"):
        console.print("[bold]report[/]")
        console.print(run["report"], markup=False)
