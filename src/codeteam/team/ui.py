"""What a person sees of a run: a live task table, or a JSONL event stream for tools."""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from codeteam.team.config import FINISHED
from codeteam.team.events import (
    ConflictKept,
    Event,
    LimitFired,
    ModelCalled,
    Notice,
    Plan,
    PlanRejected,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskResumed,
    TaskStarted,
    ToolCalled,
)

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


#: Width given to output that is not a terminal: lines as long as they need, nothing cut
#: or wrapped for the program or file reading them.
_UNBOUNDED = 100_000
#: Notes in the live table are shortened to this (the records keep every word).
NOTE_CHARS = 100


def output_console() -> Console:
    """A terminal's console wraps at its width; a pipe or a file gets whole lines."""
    console = Console()
    return console if console.is_terminal else Console(width=_UNBOUNDED)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole, or cut at the end of a sentence
    or clause (else of a word) with an ellipsis; never mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    for mark in (". ", "; ", ": ", ", "):
        at = head.rfind(mark)
        if at >= limit // 2:
            return head[: at + 1] + " …"
    at = head.rfind(" ")
    return (head[:at] if at > 0 else head) + " …"


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
    """Folds run events into a table; rich's Live redraws it from :meth:`__rich__`.

    Run-wide messages (a rejected plan, a run limit, a notice) are shown whole below the
    table, wrapped; a task's note is shortened at a word boundary (--json and the records
    keep it whole). A run that ended before any task shows nothing: the CLI prints its
    error in one line."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self.lead_tokens = 0
        self.header = "planning..."
        self.messages: list[str] = []
        self.finished = False

    def __call__(self, event: Event) -> None:
        rows = self.rows
        match event:
            case RunStarted():
                self.header = f"run {event.run_id}  {event.model}  {event.workspace}"
            case RunFinished():
                self.finished = True
            case Plan():
                for t in event.tasks:
                    rows[t.id] = _Row(t.agent, list(t.depends_on))
            case PlanRejected():
                self.messages.append(f"plan rejected: {'; '.join(event.errors)}")
            case TaskResumed() if event.task in rows:
                row = rows[event.task]
                row.status, row.note = event.status, "from the records (resumed)"
            case LimitFired() if event.task in rows:
                rows[event.task].note = shorten(f"limit: {event.detail}", NOTE_CHARS)
            case ConflictKept() if event.task in rows:
                rows[event.task].note = shorten(f"conflict: {event.path}", NOTE_CHARS)
            case LimitFired():
                self.messages.append(event.detail)
            case Notice():
                self.messages.append(event.message)
            case TaskStarted() if event.task in rows:
                rows[event.task].status, rows[event.task].started = "running", time.time()
            case TaskFinished() if event.task in rows:
                row = rows[event.task]
                row.status, row.finished = event.status, time.time()
                row.note = shorten(event.error or "", NOTE_CHARS)
            case ModelCalled():
                tokens = event.input_tokens + event.output_tokens
                if event.task is None:
                    self.lead_tokens += tokens
                elif event.task in rows:
                    rows[event.task].tokens += tokens
            case ToolCalled() if event.task in rows:
                rows[event.task].tools += 1

    def __rich__(self) -> RenderableType:
        if self.finished and not self.rows and not self.messages:
            return Group()
        parts: list[RenderableType] = [Text(self.header)]
        if self.rows:
            parts.append(self._table())
        parts.extend(Text(m) for m in self.messages)
        total = self.lead_tokens + sum(r.tokens for r in self.rows.values())
        if total:
            parts.append(Text(f"lead tokens {self.lead_tokens}, total tokens {total}", "dim"))
        return Group(*parts)

    def _table(self) -> Table:
        table = Table(expand=False)
        # Task ids are never cut: the other columns wrap instead.
        table.add_column("task", no_wrap=True, min_width=max(len(t) for t in self.rows))
        for col in ("agent", "after", "status"):
            table.add_column(col)
        for col in ("elapsed", "tokens", "tools"):
            table.add_column(col, justify="right", no_wrap=True)
        table.add_column("note", ratio=1)
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
        return table


class JsonLines:
    """One JSON object per event, flushed at once so a reader sees progress live."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: Event | dict[str, Any]) -> None:
        fields = event if isinstance(event, dict) else event.as_json()
        self.out.write(json.dumps({"ts": round(time.time(), 3), **fields}) + "\n")
        self.out.flush()


def run_table(title: str, runs: list[dict[str, Any]]) -> Table:
    """``codeteam runs``: ids are never cut (other columns wrap; a long request is
    shortened at a word, ``runs show`` has it whole)."""
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True, min_width=max((len(r["id"]) for r in runs), default=2))
    table.add_column("status", no_wrap=True)
    for col in ("tasks", "tokens"):
        table.add_column(col, justify="right", no_wrap=True)
    models = max((len(r["model"]) for r in runs), default=5)
    table.add_column("model", overflow="fold", min_width=min(models, 17))
    table.add_column("request", ratio=1, overflow="fold")
    for r in runs:
        table.add_row(
            r["id"],
            r["status"],
            str(r["tasks"]),
            str(r["tokens"]),
            r["model"],
            shorten(r["request"], 80),
        )
    return table


#: The merge note :meth:`codeteam.team.workspace.MergeResult.describe` adds to a summary.
_MERGED = re.compile(r"^\[(merged \d+ changed file\(s\): [^;\]]*)")


def _copy_line(run: dict[str, Any], t: dict[str, Any]) -> str | None:
    """Which copy a task started from and what it merged back, from the records."""
    if not t.get("base"):
        return None
    base = Path(t["base"])
    if run.get("run_dir") and base.is_relative_to(run["run_dir"]):
        base = base.relative_to(run["run_dir"])
    deps = t.get("depends_on") or []
    start = f"started from {base}" + (f" (with {', '.join(deps)} merged)" if deps else "")
    lines = (t.get("result") or "").splitlines()
    merged = next((m.group(1) for x in reversed(lines) if (m := _MERGED.match(x))), None)
    if merged is None:
        merged = "merged nothing back" if t["status"] in FINISHED else "not merged back (yet)"
    conflicts = [
        f"conflict {c['path']} (its version kept as {c['other'] or 'nothing: it deleted it'})"
        for c in run.get("conflicts", [])
        if c["task_id"] == t["id"]
    ]
    return "; ".join([start, merged, *conflicts])


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
            line = f"{'  ' * depth}- {tid} [{t['agent']}] {t['status']}{extra}"
            say(line + (f": {t['error']}" if t.get("error") else ""))
            copy = _copy_line(run, t)
            if copy:
                say(f"{'  ' * depth}  {copy}")
            walk(tid, depth + 1)

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    console.print("[bold]tasks[/]")
    if tasks and not run.get("run_dir"):
        say("  (in place: the tasks worked on the workspace itself, not on copies)")
    walk(None, 1)
    for lim in run.get("limits", []):
        who = f"task {lim['task_id']}" if lim["task_id"] else "run"
        say(f"limit {lim['kind']} ({who}): {lim['detail']}")
    calls = Table(title="calls", title_justify="left")
    calls.add_column("kind", no_wrap=True)
    longest = max((len(t) for t in tasks), default=0)
    calls.add_column("task", no_wrap=True, min_width=max(longest, len("(lead)")))
    for col in ("what", "status", "ms", "tokens in/out"):
        calls.add_column(col, overflow="fold")  # squeezed by long task ids: folded, not cut
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
