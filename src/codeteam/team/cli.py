"""``codeteam run`` and ``codeteam runs``: turn arguments into a run, show its progress.

Exit codes: 0 all tasks succeeded, 1 the run failed or a task did not succeed, 2 a
configuration problem (one line says what to set), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.config import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from rich.console import Console

    from codeteam.store import Store
    from codeteam.team.config import RunResult, TeamConfig
    from codeteam.team.events import Sink


def _resolve(store: Store, given: str) -> str:
    from codeteam.store import resolve_id

    return resolve_id("run", given, store.run_ids_starting(given, limit=6), store.path)


def _config(ns: argparse.Namespace, store: Store) -> TeamConfig:
    """The run's configuration: from the flags, or as recorded for ``--resume``."""
    from codeteam.team.budget import load_prices
    from codeteam.team.config import TeamConfig
    from codeteam.team.runner import resume_config

    if ns.resume:
        ns.resume = _resolve(store, ns.resume)
        return resume_config(store, ns.resume)
    return TeamConfig(
        request=ns.request,
        workspace=Path(ns.workspace),
        max_parallel=ns.max_parallel,
        max_turns=ns.max_turns,
        task_timeout_s=ns.task_timeout,
        max_tokens=ns.max_tokens,
        mcp_server=ns.mcp_server,
        max_tool_calls=ns.max_tool_calls or None,
        repeat_limit=ns.repeat_limit or None,
        max_run_tokens=ns.max_run_tokens,
        max_cost_usd=ns.max_cost,
        prices=load_prices(Path(ns.prices) if ns.prices else None),
        isolate=not ns.no_isolate,
    )


def _watched(
    as_json: bool, console: Console, go: Callable[[Sink], Coroutine[Any, Any, RunResult]]
) -> RunResult:
    """Run ``go`` with its events printed as JSON lines, or shown in a live task table."""
    from codeteam.team.ui import JsonLines, TaskBoard

    if as_json:
        return asyncio.run(go(JsonLines()))
    from rich.live import Live

    board = TaskBoard()
    with Live(board, console=console, refresh_per_second=4, transient=False):
        return asyncio.run(go(board))


def _show_result(console: Console, result: RunResult) -> None:
    if result.error and not result.tasks and not result.report:
        # Over before any task: the error, in one line, is all there is to say.
        error = " ".join(result.error.split())
        print(f"codeteam: run {result.run_id} {result.status}: {error}", file=sys.stderr)
        return
    console.print()
    console.print(result.report or "(no report)", markup=False)
    if result.error:
        console.print(f"{result.status}: {result.error}", style="red", markup=False, soft_wrap=True)
    console.print(f"[dim]run {result.run_id}: codeteam runs show {result.run_id}[/]")


def _executor_for_servers(executor: str | None, ray_address: str | None) -> None:
    """The servers the team starts read these (``CODETEAM_*`` reaches them)."""
    import os

    if executor:
        os.environ["CODETEAM_EXECUTOR"] = executor
    if ray_address:
        os.environ["CODETEAM_RAY_ADDRESS"] = ray_address


def _run(ns: argparse.Namespace) -> int:
    from codeteam.llm import ProviderConfig, make_provider

    if not (ns.request or "").strip() and not ns.resume:  # blank is as empty as ""
        raise ConfigError('say what to build: codeteam run "REQUEST" (or --resume ID)')
    provider = make_provider(
        ProviderConfig(provider=ns.provider, model=ns.model, base_url=ns.base_url)
    )
    if ns.max_parallel < 1 or ns.max_turns < 1:
        raise ConfigError("--max-parallel and --max-turns must be at least 1")
    from codeteam.store import open_store
    from codeteam.team.runner import run_budget, run_team
    from codeteam.team.ui import output_console

    _executor_for_servers(ns.executor, ns.ray_address)
    store = open_store(ns.db)
    cfg = _config(ns, store)
    budget = run_budget(cfg, provider.model)  # refused up front (exit 2): no price, a cost cap

    async def go(emit: Sink) -> RunResult:
        try:
            return await run_team(cfg, provider, store, emit, resume=ns.resume, budget=budget)
        finally:
            await provider.aclose()

    console = output_console()
    try:
        result = _watched(ns.json, console, go)
    except KeyboardInterrupt:
        print("codeteam: interrupted; the run is recorded as interrupted", file=sys.stderr)
        return 130
    finally:
        store.close()
    if not ns.json:
        _show_result(console, result)
    return 0 if result.status == "completed" and not result.failed_tasks else 1


def _runs(ns: argparse.Namespace) -> int:
    from codeteam.store import open_store
    from codeteam.team.ui import output_console, run_table, show_run

    db = getattr(ns, "show_db", None) or ns.db
    as_json = ns.json or getattr(ns, "show_json", False)
    store = open_store(db)
    console = output_console()
    try:
        if ns.runs_command == "show":
            run = store.get_run(_resolve(store, ns.run_id))
            if run is None:  # deleted since: say so as for any unknown id
                raise ConfigError(f"no run {ns.run_id!r} in {store.path}: see 'codeteam runs'")
            if as_json:
                print(json.dumps(run, indent=2))
            else:
                show_run(console, run)
                _page_url(store, run["id"])
            return 0
        runs = store.list_runs()
        if as_json:
            print(json.dumps(runs, indent=2))
        else:
            console.print(run_table(f"runs in {store.path}", runs))
        return 0
    finally:
        store.close()


def _page_url(store: Store, run_id: str) -> None:
    """The run's page, when a ``codeteam ui`` is serving these records."""
    from codeteam.ui.discovery import ui_url

    base = ui_url(Path(store.path))
    if base:
        print(f"in the browser: {base}/runs/{run_id}")


def dispatch(ns: argparse.Namespace) -> int:
    if ns.command == "run":
        return _run(ns)
    if ns.command == "runs":
        return _runs(ns)
    if ns.command == "ui":
        from codeteam.ui.command import main

        return main(ns)
    raise ConfigError(f"unknown command {ns.command!r}")
