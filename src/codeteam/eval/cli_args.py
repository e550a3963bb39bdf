"""Arguments of ``codeteam eval`` and ``codeteam evals`` (argparse only: ``--help`` is cheap)."""

from __future__ import annotations

import argparse

from codeteam import EXECUTOR_KINDS
from codeteam.team.cli_args import add_budget_args, add_provider_args


def add_eval_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser(
        "eval",
        help="score the team (or one agent) on a benchmark: humaneval, go",
        description="Solve each problem of DATASET in a fresh workspace (the team, as "
        "'codeteam run' does, or one code agent), then run its hidden tests in the sandbox "
        "and record pass/fail, tokens, cost and time.",
    )
    ev.add_argument("dataset", nargs="?", metavar="DATASET", help="humaneval or go")
    ev.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    ev.add_argument("--problems", metavar="ID,...", help="only these problem ids")
    ev.add_argument(
        "--mode",
        choices=("team", "single"),
        default="team",
        help="team: lead and specialists; single: one code agent, same tools and budget",
    )
    add_provider_args(ev)
    ev.add_argument("--max-parallel", type=int, default=4, help="problems at once (default 4)")
    add_budget_args(
        ev, cost="cost cap for the whole eval, USD", tokens="token cap for each problem's run"
    )
    ev.add_argument(
        "--resume",
        metavar="EVAL_ID",
        help="finish an interrupted eval (its id or a unique beginning): scored problems "
        "are kept, not run again",
    )
    ev.add_argument(
        "--executor",
        choices=EXECUTOR_KINDS,
        help="where the agents' and the hidden tests' code runs (as codeteam serve "
        "--executor; default local)",
    )
    ev.add_argument("--record", metavar="DIR", help="keep every model exchange in DIR")
    ev.add_argument(
        "--replay", metavar="DIR", help="answer from a --record DIR instead of a model (no network)"
    )
    ev.add_argument("--db", help="records database (default: user data directory)")
    ev.add_argument("--json", action="store_true", help="print a JSONL event stream")

    evs = sub.add_parser("evals", help="list recorded evals; 'evals show ID', 'evals compare A B'")
    evs.add_argument("--db", help="records database (default: user data directory)")
    evs.add_argument("--json", action="store_true", help="print JSON")
    evs_sub = evs.add_subparsers(dest="evals_command", metavar="show|compare")
    show = evs_sub.add_parser("show", help="one eval: its problems, outcomes, costs and runs")
    show.add_argument("eval_id", help="eval id from 'codeteam evals', or a unique beginning")
    compare = evs_sub.add_parser(
        "compare", help="two evals side by side: pass@1, cost, time, problems only one solved"
    )
    compare.add_argument("a", help="an eval id")
    compare.add_argument("b", help="another eval id")
    for p in (show, compare):
        p.add_argument("--db", dest="sub_db", help=argparse.SUPPRESS)
        p.add_argument("--json", dest="sub_json", action="store_true", help="print JSON")
