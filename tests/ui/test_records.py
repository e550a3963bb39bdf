"""What the recorded ``codeteam run`` of the other UI tests does not hold: more runs than one
page, a limit that stopped a run and a task, a merge conflict, ``code_review`` findings and a
benchmark table. The records are written through the store's own API; the tool results in
them are real answers of a real ``codeteam serve`` over the official MCP client, so the page
is checked against the shapes the tools really produce."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from codeteam.store import Store
from tests.ui.conftest import Tab, Ui, start_ui, stop_ui, workspace_dir

PROJECTS = Path(__file__).parents[1] / "tools" / "projects"
FILLERS = 57  # with the shaped run: 58 runs, two pages of 50


async def _real_answers(ws: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(arguments, structured result) of code_review and run_benchmarks, from a real server."""
    import sys

    from mcp import Client, StdioServerParameters

    shutil.copytree(PROJECTS / "gobench", ws / "gobench")
    calls = {
        "code_review": {"language": "python", "code": "import os\n\n\ndef f(x):\n    return x\n"},
        "run_benchmarks": {"path": "gobench/perf", "select": ["BenchmarkAlloc"]},
    }
    target = StdioServerParameters(
        command=sys.executable, args=["-m", "codeteam", "serve", "--root", str(ws)]
    )
    answers = {}
    async with Client(target, read_timeout_seconds=300) as client:
        for name, arguments in calls.items():
            result = await client.call_tool(name, arguments)
            assert result.structured_content is not None, result
            answers[name] = (arguments, result.structured_content)
    return answers


@dataclass
class Shaped:
    db: Path
    run_id: str
    fillers: list[str]  # oldest first


@pytest.fixture(scope="module")
def shaped() -> Iterator[Shaped]:
    root = workspace_dir()
    (root / "ws").mkdir(mode=0o755)
    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, _real_answers(root / "ws")).result()
    store = Store(root / "runs.db")
    fillers = []
    for i in range(FILLERS):
        run = store.create_run(f"filler {i:02d}", "/ws", "anthropic", "claude-sonnet-4-5")
        store.finish_run(run, "completed")
        store.db.execute("UPDATE runs SET started_at = ? WHERE id = ?", (1_000_000 + i, run))
        fillers.append(run)
    run = store.create_run("shaped", "/ws", "anthropic", "claude-sonnet-4-5")
    for task in ("a", "b"):
        store.add_task(run, task, "code", f"task {task}", [])
        store.start_task(run, task)
    now = time.time()
    for name, (arguments, structured) in answers.items():
        status = str(structured.get("status", "ok"))
        store.record_tool_call(
            run, "a", name, arguments, status=status, is_error=False, duration_ms=12.0,
            started_at=now, result="as the model read it", structured=structured,
        )  # fmt: skip
    store.record_limit(run, "a", "turns", "task a used its 8 turns")
    store.record_limit(run, None, "max_cost", "the run's cost cap of $0.01 was reached")
    store.record_conflict(run, "b", "calc.py", "a", "both tasks changed line 3")
    store.finish_task(run, "a", "ok", result="done", turns=8)
    store.finish_task(run, "b", "failed", error="merge conflict", turns=2)
    store.finish_run(run, "stopped", error="the run's cost cap of $0.01 was reached")
    store.close()
    yield Shaped(root / "runs.db", run, fillers)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shaped_ui(shaped: Shaped) -> Iterator[Ui]:
    server = start_ui(shaped.db)
    yield server
    stop_ui(server)


def _listed(ui: Ui, query: str = "") -> list[str]:
    """The run ids of a page of ``/``, in the order shown."""
    import re

    text = httpx.get(f"{ui.url}/{query}").text
    return re.findall(r'<tr data-run="([^"]+)"', text)


def test_runs_are_listed_newest_first_fifty_a_page(shaped: Shaped, shaped_ui: Ui) -> None:
    first, second = _listed(shaped_ui), _listed(shaped_ui, "?page=2")
    newest_first = [shaped.run_id, *reversed(shaped.fillers)]
    assert first == newest_first[:50] and second == newest_first[50:], (first, second)
    assert _listed(shaped_ui, "?status=stopped") == [shaped.run_id]
    assert _listed(shaped_ui, "?status=completed&page=2") == shaped.fillers[6::-1]


def test_the_run_page_shows_limits_conflicts_findings_and_benchmarks(
    shaped: Shaped, shaped_ui: Ui, tab: Tab
) -> None:
    page = tab.page
    page.goto(f"{shaped_ui.url}/runs/{shaped.run_id}")
    limits = page.locator("p.limit").all_inner_texts()
    assert "limit max_cost (run): the run's cost cap of $0.01 was reached" in limits
    assert "limit turns: task a used its 8 turns" in limits
    conflict = page.locator("#task-b p.conflict").inner_text()
    assert conflict == "merge conflict in calc.py: both tasks changed line 3"
    review = page.locator("#task-a details.tool-call[data-tool=code_review]")
    review.locator(":scope > summary").click()
    rows = review.locator("table.findings tbody tr")
    unused = rows.filter(has_text="F401")
    assert unused.count() == 1, rows.all_inner_texts()
    assert unused.locator("td").first.inner_text().startswith("main.py:1:")
    bench = page.locator("#task-a details.tool-call[data-tool=run_benchmarks]")
    bench.locator(":scope > summary").click()
    cells = bench.locator("table.benchmarks tbody tr td").all_inner_texts()
    assert cells[0] == "BenchmarkAlloc" and float(cells[1].replace(",", "")) > 0, cells
    # B/op, allocs/op, iterations: whole numbers (the tool's JSON gives 896.0)
    assert int(cells[2]) >= 800 and cells[3] == "1" and int(cells[4].replace(",", "")) > 1, cells
    tab.shot("shaped-run")
