"""``codeteam eval`` and ``codeteam evals``: check everything up front, run, report.

Everything a user can get wrong (dataset, problem ids, API key, an endpoint nothing
answers at, a replay directory that is not a recording, a cost cap without a price) is
refused with one line and exit 2 before anything is recorded. Exit codes: 0 every
problem scored, 1 the eval stopped (cost cap) or failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from codeteam.config import ConfigError

if TYPE_CHECKING:
    from codeteam.eval.config import EvalConfig
    from codeteam.eval.harness import EvalResult, ProviderFor
    from codeteam.eval.problems import Dataset, Problem
    from codeteam.llm import Provider
    from codeteam.store import Store
    from codeteam.store.evals import Evals


def _resolve(evals: Evals, given: str) -> str:
    from codeteam.store import resolve_id

    return resolve_id("eval", given, evals.ids_starting(given, limit=6), evals.store.path)


def probe(provider: Provider) -> None:
    """Refuse an endpoint nothing answers at before anything is recorded (a TCP connect:
    no request, no tokens spent)."""
    url = str(getattr(provider, "endpoint", "") or "")
    parts = urlsplit(url)
    if not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=10).close()
    except OSError as exc:
        why = (
            "host not found"
            if isinstance(exc, socket.gaierror)
            else "connection refused"
            if isinstance(exc, ConnectionRefusedError)
            else exc.strerror or type(exc).__name__
        )
        env = getattr(provider, "endpoint_env", "the endpoint variable")
        raise ConfigError(
            f"cannot reach the model endpoint {url.rstrip('/')} ({why}): check --base-url / {env}"
        ) from None


def _config(ns: argparse.Namespace, problem_ids: list[str]) -> EvalConfig:
    from codeteam.eval.config import EvalConfig
    from codeteam.team.budget import load_prices

    if ns.max_parallel < 1 or ns.max_turns < 1:
        raise ConfigError("--max-parallel and --max-turns must be at least 1")
    return EvalConfig(
        dataset=ns.dataset,
        mode=ns.mode,
        problem_ids=tuple(problem_ids),
        provider=ns.provider,
        model=ns.model,
        base_url=ns.base_url,
        max_parallel=ns.max_parallel,
        max_turns=ns.max_turns,
        task_timeout_s=ns.task_timeout,
        max_tokens=ns.max_tokens,
        max_tool_calls=ns.max_tool_calls or None,
        repeat_limit=ns.repeat_limit or None,
        max_run_tokens=ns.max_run_tokens,
        max_cost_usd=ns.max_cost,
        prices=load_prices(Path(ns.prices) if ns.prices else None),
        executor=ns.executor,
        record_dir=str(Path(ns.record).resolve()) if ns.record else None,
        replay_dir=str(Path(ns.replay).resolve()) if ns.replay else None,
    )


def _models(cfg: EvalConfig) -> tuple[ProviderFor, str, str, list[Provider]]:
    """Who answers each problem: (provider for a problem, model, provider name, what to
    close). Replay needs no key and no network; otherwise the endpoint is probed."""
    from codeteam.llm import ProviderConfig, make_provider

    if cfg.replay_dir:
        from codeteam.llm.record import Replay

        replay = Replay(Path(cfg.replay_dir))
        return replay.wrap, replay.model, "replay", []
    provider = make_provider(
        ProviderConfig(provider=cfg.provider, model=cfg.model, base_url=cfg.base_url)
    )
    probe(provider)
    if not cfg.record_dir:
        return (lambda _pid: provider), provider.model, provider.name, [provider]
    from codeteam.llm.record import Recorder

    rec = Recorder(
        Path(cfg.record_dir),
        {"provider": provider.name, "model": provider.model, "dataset": cfg.dataset},
    )
    return (lambda pid: rec.wrap(provider, pid)), provider.model, provider.name, [provider]


def _eval(ns: argparse.Namespace) -> int:
    from dataclasses import replace

    from codeteam.eval.config import EvalConfig
    from codeteam.eval.registry import choose, dataset
    from codeteam.store import open_store
    from codeteam.store.evals import Evals
    from codeteam.team.budget import RunBudget

    if ns.resume and ns.dataset:
        raise ConfigError("give a DATASET or --resume EVAL_ID, not both")
    store = open_store(ns.db)
    try:
        evals = Evals(store)
        if ns.resume:
            ns.resume = _resolve(evals, ns.resume)
            record = evals.get(ns.resume)
            assert record is not None
            if record["status"] == "running":
                raise ConfigError(f"eval {ns.resume} is still running: wait for it, or stop it")
            if record["status"] == "completed":
                raise ConfigError(f"eval {ns.resume} already completed: nothing to resume")
            cfg = EvalConfig.from_record(record["options"])
            if ns.replay or ns.record:  # a resume may change where answers come from
                cfg = replace(
                    cfg,
                    record_dir=str(Path(ns.record).resolve()) if ns.record else None,
                    replay_dir=str(Path(ns.replay).resolve()) if ns.replay else None,
                )
            data = dataset(cfg.dataset)
            problems = choose(data.problems(), list(cfg.problem_ids), None)
        else:
            if not ns.dataset:
                raise ConfigError("say which dataset: codeteam eval humaneval (or go)")
            data = dataset(ns.dataset)
            ids = [i.strip() for i in (ns.problems or "").split(",") if i.strip()]
            problems = choose(data.problems(), ids or None, ns.limit)
            cfg = _config(ns, [p.id for p in problems])
        if ns.record and ns.replay:
            raise ConfigError("--record and --replay exclude each other: choose one")
        if cfg.executor:  # every server the eval starts reads it (CODETEAM_* is passed on)
            from codeteam.executor import check

            check(cfg.executor)
            os.environ["CODETEAM_EXECUTOR"] = cfg.executor
        provider_for, model, provider_name, owned = _models(cfg)
        # Refused up front (exit 2): a cost cap on a model without a price.
        RunBudget.create(model, cfg.prices or {}, max_tokens=None, max_cost_usd=cfg.max_cost_usd)
        result = _go(ns, cfg, data, problems, provider_for, model, provider_name, store, owned)
        if result is None:
            return 130
        if not ns.json:
            _report(store, result)
        return 0 if result.status == "completed" else 1
    finally:
        store.close()


def _go(
    ns: argparse.Namespace,
    cfg: EvalConfig,
    data: Dataset,
    problems: list[Problem],
    provider_for: ProviderFor,
    model: str,
    provider_name: str,
    store: Store,
    owned: list[Provider],
) -> EvalResult | None:
    """Run the harness under the progress bar (or the JSONL printer); None if interrupted."""
    from codeteam.eval.harness import Harness
    from codeteam.eval.ui import EvalProgress
    from codeteam.team.ui import JsonLines, output_console

    harness = Harness(cfg, data, problems, provider_for, model, store)

    async def go() -> EvalResult:
        try:
            return await harness.run(provider_name, resume=ns.resume)
        finally:
            for p in owned:
                await p.aclose()

    try:
        if ns.json:
            harness.emit = JsonLines()
            return asyncio.run(go())
        view = EvalProgress(output_console())
        harness.emit = view
        with view.progress:
            return asyncio.run(go())
    except KeyboardInterrupt:
        print(
            "codeteam: interrupted; the eval is recorded as interrupted "
            "(codeteam evals shows it; finish it with codeteam eval --resume ID)",
            file=sys.stderr,
        )
        return None


def _report(store: Store, result: EvalResult) -> None:
    from codeteam.eval.ui import evals_table
    from codeteam.store.evals import Evals
    from codeteam.team.ui import output_console

    console = output_console()
    rows = [r for r in Evals(store).summaries(limit=1000) if r["id"] == result.eval_id]
    console.print(evals_table(f"eval {result.eval_id}", rows))
    if result.error:
        console.print(f"{result.status}: {result.error}", style="red", markup=False)
    console.print(f"[dim]codeteam evals show {result.eval_id}[/]")


def _evals(ns: argparse.Namespace) -> int:
    from codeteam.eval.ui import compare_evals, evals_table, show_eval, solved_only
    from codeteam.store import open_store
    from codeteam.store.evals import Evals
    from codeteam.team.ui import output_console

    store = open_store(getattr(ns, "sub_db", None) or ns.db)
    as_json = ns.json or getattr(ns, "sub_json", False)
    console = output_console()
    try:
        evals = Evals(store)

        def get(given: str) -> dict[str, Any]:
            ev = evals.get(_resolve(evals, given))
            if ev is None:
                raise ConfigError(f"no eval {given!r} in {store.path}: see 'codeteam evals'")
            return ev

        if ns.evals_command == "show":
            ev = get(ns.eval_id)
            if as_json:
                print(json.dumps(ev, indent=2))
            else:
                show_eval(console, ev)
        elif ns.evals_command == "compare":
            a, b = get(ns.a), get(ns.b)
            if as_json:
                both = {"a": a, "b": b, "solved_by_a_only": solved_only(a, b)}
                both["solved_by_b_only"] = solved_only(b, a)
                print(json.dumps(both, indent=2))
            else:
                compare_evals(console, a, b)
        else:
            rows = evals.summaries()
            if as_json:
                print(json.dumps(rows, indent=2))
            else:
                console.print(evals_table(f"evals in {store.path}", rows))
        return 0
    finally:
        store.close()


def dispatch(ns: argparse.Namespace) -> int:
    if ns.command == "eval":
        return _eval(ns)
    return _evals(ns)
