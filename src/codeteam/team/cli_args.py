"""Arguments of ``codeteam run`` and ``codeteam runs`` (argparse only, so ``--help`` is cheap)."""

from __future__ import annotations

import argparse


def add_team_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="have the agent team carry out a coding request")
    run.add_argument("request", help="what to build, in plain words")
    sub.add_parser("runs", help="list recorded runs; 'runs show ID' for one")
