"""Arguments of ``codeteam run`` and ``codeteam runs`` (argparse only, so ``--help`` is cheap)."""

from __future__ import annotations

import argparse


def add_provider_args(p: argparse.ArgumentParser) -> None:
    """Which model answers: ``codeteam run`` and ``codeteam eval`` take the same flags."""
    p.add_argument("--provider", choices=("anthropic", "openai"), default="anthropic")
    p.add_argument("--model", help="model name (env CODETEAM_MODEL)")
    p.add_argument("--base-url", help="API endpoint (env ANTHROPIC_BASE_URL / OPENAI_BASE_URL)")


def add_budget_args(
    p: argparse.ArgumentParser, *, cost: str, tokens: str = "token cap for the whole run"
) -> None:
    """The limits of a team run (per agent, per task, per run); ``cost`` and ``tokens``
    say what ``--max-cost`` and ``--max-run-tokens`` cover."""
    p.add_argument("--max-turns", type=int, default=20, help="model turns per agent (20)")
    p.add_argument("--task-timeout", type=float, default=900.0, help="seconds per task (900)")
    p.add_argument("--max-tokens", type=int, default=8192, help="output tokens per turn")
    p.add_argument("--max-tool-calls", type=int, default=100, help="per agent (100)")
    p.add_argument(
        "--repeat-limit",
        type=int,
        default=3,
        help="stop an agent making the same tool call this many times in a row (3; 0 off)",
    )
    p.add_argument("--max-run-tokens", type=int, help=tokens)
    p.add_argument("--max-cost", type=float, help=cost)
    p.add_argument("--prices", help="JSON/TOML price table {model: {input, output}} per MTok")


def add_team_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="have the agent team carry out a coding request",
        description="A lead agent plans the request; specialists (code, test, review, "
        "deploy) carry it out in parallel through the MCP code tools.",
    )
    run.add_argument("request", nargs="?", help="what to build, in plain words")
    run.add_argument(
        "--resume",
        metavar="ID",
        help="finish an interrupted run (its id, or any unique beginning of it): finished "
        "tasks are taken from the records",
    )
    run.add_argument("--workspace", default=".", help="directory the team works in (default .)")
    add_provider_args(run)
    run.add_argument("--max-parallel", type=int, default=4, help="tasks at once (default 4)")
    add_budget_args(run, cost="cost cap for the whole run, USD")
    run.add_argument(
        "--no-isolate",
        action="store_true",
        help="tasks share the workspace instead of working on copies merged back",
    )
    run.add_argument("--db", help="run records database (default: user data directory)")
    run.add_argument("--json", action="store_true", help="print a JSONL event stream")
    run.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="where the team's tool executions run: this machine (local, default) or a Ray "
        "cluster (ray; the servers the team starts get CODETEAM_EXECUTOR)",
    )
    run.add_argument("--ray-address", help="--executor ray: the cluster's head, host:port")
    run.add_argument(
        "--mcp-server",
        help="MCP server to use instead of 'codeteam serve': a command line or an http(s) URL",
    )
    runs = sub.add_parser("runs", help="list recorded runs; 'runs show ID' for one")
    runs.add_argument("--db", help="run records database (default: user data directory)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="show")
    show = runs_sub.add_parser("show", help="one run: its task tree, model and tool calls")
    show.add_argument("run_id", help="run id from 'codeteam runs', or any unique beginning of it")
    show.add_argument("--db", dest="show_db", help=argparse.SUPPRESS)
    show.add_argument("--json", dest="show_json", action="store_true", help="print JSON")
    ui = sub.add_parser(
        "ui",
        help="browse the run records in a local web app (live while runs write them)",
        description="A read-only web app over the run records: runs, task graphs, every model "
        "and tool call, diffs; pages update live while a run is in progress.",
    )
    ui.add_argument("--db", help="run records database (default: user data directory)")
    ui.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    ui.add_argument(
        "--token",
        help="token a browser must present (?token=T once, or Authorization: Bearer T); "
        "required off loopback (env CODETEAM_TOKEN)",
    )
