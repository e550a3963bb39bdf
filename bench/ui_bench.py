"""``ui`` section: codeteam ui's pages on a large database (issue 15).

A database of 1,000 runs (5 tasks, 10 model calls and 10 tool calls each) plus one run of
500 tool calls with full results (stdout, per-test tables). Server time is the ASGI app
answering a GET in-process (records read, page rendered, bytes sent), median of repeats;
the baseline is reading the same records with the store alone (what ``codeteam runs`` and
``codeteam runs show`` do), so the ratio is what the page costs above its data. One more
figure: the same pages over real HTTP from a ``codeteam ui`` process.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = Callable[[str, str, str, str, str], None]

RUNS = 1000
BIG_CALLS = 500


def _fill(db: Path) -> str:
    """The database; returns the id of the run with 500 tool calls."""
    from codeteam.store import ModelCall, Store

    store = Store(db)
    store.db.execute("BEGIN")
    t0 = time.time() - RUNS * 60
    for i in range(RUNS):
        run = store.create_run(
            f"request {i}: build the thing", "/ws", "anthropic", "claude-sonnet-4-5"
        )
        store.db.execute(
            "UPDATE runs SET started_at = ?, id = ? WHERE id = ?",
            (t0 + i * 60, f"r{i:05d}-{run}", run),
        )
        run = f"r{i:05d}-{run}"
        for t in range(5):
            store.add_task(run, f"t{t}", "code", "do part", [f"t{t - 1}"] if t else [])
            store.finish_task(run, f"t{t}", "ok", result="done", turns=2)
            for _ in range(2):
                store.record_model_call(
                    run,
                    f"t{t}",
                    ModelCall("claude-sonnet-4-5", 1000, 100, 0, 0, 900.0, "tool_use"),
                    t0,
                )
                store.record_tool_call(
                    run,
                    f"t{t}",
                    "write_file",
                    {"path": "a.py", "content": "x = 1\n"},
                    status="ok",
                    is_error=False,
                    duration_ms=3.0,
                    started_at=t0,
                    result="wrote 6 bytes",
                )
        store.finish_run(run, "completed" if i % 7 else "failed", report="report")
    big = store.create_run("the big one", "/ws", "anthropic", "claude-sonnet-4-5")
    tests = [{"name": f"test_{k}", "outcome": "passed", "duration_ms": 1.0} for k in range(10)]
    for t in range(10):
        store.add_task(big, f"task{t}", "test", "test it", [])
        for c in range(BIG_CALLS // 10):
            at = time.time() + t * 100 + c
            store.record_model_call(
                big,
                f"task{t}",
                ModelCall("claude-sonnet-4-5", 2000, 200, 0, 0, 1200.0, "tool_use"),
                at,
            )
            structured: dict[str, Any] = (
                {
                    "status": "ok",
                    "passed": 10,
                    "failed": 0,
                    "errors": 0,
                    "skipped": 0,
                    "tests": tests,
                }
                if c % 2
                else {
                    "status": "ok",
                    "exit_code": 0,
                    "stdout": "line of output\n" * 60,
                    "stderr": "",
                }
            )
            name = "run_tests" if c % 2 else "execute_code"
            store.record_tool_call(
                big,
                f"task{t}",
                name,
                {"path": ".", "code": "print(1)\n" * 5},
                status="ok",
                is_error=False,
                duration_ms=50.0,
                started_at=at + 0.5,
                result=json.dumps(structured)[:2000],
                structured=structured,
            )
        store.record_diff(
            big, f"task{t}", "a.py", "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
        )
        store.finish_task(big, f"task{t}", "ok", result="done", turns=BIG_CALLS // 10)
    store.finish_run(big, "completed", report="done")
    store.db.execute("COMMIT")
    store.close()
    return big


async def _get(app: Any, path: str) -> int:
    query = b""
    if "?" in path:
        path, q = path.split("?", 1)
        query = q.encode()
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1:8765")],
    }
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(len(message.get("body", b"")))
        elif message["type"] == "http.response.start":
            assert message["status"] == 200, message

    await app(scope, receive, send)
    return sum(sent)


def _median_ms(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def bench_ui(row: Row, repeats: int = 20) -> None:
    from codeteam.config import Settings
    from codeteam.protocol.http.guard import Guard
    from codeteam.store import Store
    from codeteam.ui.app import UiApp

    with tempfile.TemporaryDirectory(prefix="codeteam-ui-bench-") as work:
        db = Path(work) / "runs.db"
        t = time.time()
        big = _fill(db)
        print(f"  (ui: {RUNS + 1} runs written in {time.time() - t:.1f} s)", flush=True)
        store = Store(db, readonly=True)
        app = UiApp(store, Guard(Settings(roots=(Path(work),))))
        loop = asyncio.new_event_loop()
        try:
            for name, path, limit, baseline in (
                ("ui: / (1,000 runs)", "/", 200, lambda: store.list_runs(50)),
                (
                    "ui: /?status=failed&page=2",
                    "/?status=failed&page=2",
                    200,
                    lambda: store.list_runs(50, 50, "failed"),
                ),
                (
                    f"ui: /runs/ID ({BIG_CALLS} tool calls)",
                    f"/runs/{big}",
                    500,
                    lambda: store.get_run(big),
                ),
            ):
                loop.run_until_complete(_get(app, path))  # templates compiled once
                ours, size = _median_ms(
                    lambda p=path: loop.run_until_complete(_get(app, p)), repeats
                )
                base, _ = _median_ms(baseline, repeats)
                row(
                    name,
                    f"{ours:.1f} ms server ({size / 1024:.0f} KiB)",
                    f"{base:.1f} ms records only",
                    f"{ours / base:.1f}x",
                    f"< {limit} ms",
                )
        finally:
            loop.close()
            store.close()
        _over_http(row, db, big)


def _over_http(row: Row, db: Path, big: str) -> None:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "codeteam", "ui", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[-1].strip().rstrip("/")
        with httpx.Client(base_url=url) as client:
            for name, path in (
                ("ui over HTTP: /", "/"),
                ("ui over HTTP: /runs/ID (500 calls)", f"/runs/{big}"),
            ):
                client.get(path)
                ms, _ = _median_ms(lambda p=path: client.get(p).raise_for_status(), 10)
                row(name, f"{ms:.1f} ms", "-", "-", "(client side, loopback)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
