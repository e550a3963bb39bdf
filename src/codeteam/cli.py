"""The ``codeteam`` command: parse, configure, hand over to the library.

Thin on purpose, and light: ``codeteam serve`` must start in a few milliseconds, so
subcommands import their implementation only once chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codeteam import EXECUTOR_KINDS, __version__

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    import argparse


#: The numeric flags of ``codeteam serve``: flag, Settings field, metavar, type, help.
_NUMBERS: tuple[tuple[str, str, str, type, str], ...] = (
    ("--keepalive", "keepalive_s", "SECONDS", float, "SSE keepalive when idle (default 15)"),
    (
        "--sse-after",
        "sse_after_s",
        "SECONDS",
        float,
        "a running call answers over SSE with keepalives after this (default 1)",
    ),
    ("--max-concurrency", "max_concurrency", "N", int, "code executions at once (default 8)"),
    ("--timeout", "default_timeout_s", "SECONDS", float, "a call's default timeout (default 30)"),
    (
        "--max-timeout",
        "max_timeout_s",
        "SECONDS",
        float,
        "largest timeout a call may ask (default 300)",
    ),
    ("--output-cap", "output_cap_bytes", "BYTES", int, "output kept per stream (default 64 KiB)"),
    ("--max-code-bytes", "max_code_bytes", "BYTES", int, "largest code argument (default 1 MiB)"),
    (
        "--max-stdin-bytes",
        "max_stdin_bytes",
        "BYTES",
        int,
        "largest stdin argument (default 1 MiB)",
    ),
    ("--memory", "memory_bytes", "BYTES", int, "address space per process (default 1 GiB)"),
    (
        "--call-memory",
        "call_memory_bytes",
        "BYTES",
        int,
        "memory of a whole call: all its processes and tmpfs files (default 2 GiB; needs cgroups)",
    ),
    ("--cpu", "cpu_s", "SECONDS", int, "CPU time per process (default 60)"),
    ("--processes", "processes", "N", int, "processes per call (default 64)"),
    ("--file-size", "file_size_bytes", "BYTES", int, "largest file a call writes (default 64 MiB)"),
    ("--open-files", "open_files", "N", int, "open files per process (default 256)"),
    ("--tmpfs", "tmpfs_bytes", "BYTES", int, "size of a call's /work and /tmp (default 256 MiB)"),
    ("--pool-size", "pool_size", "N", int, "pre-started sandboxes per kind (default 6; 0: none)"),
    (
        "--snapshot-cap",
        "snapshot_cap",
        "BYTES",
        int,
        "largest read-only copy of a project the sandbox's user cannot read (default 256 MiB)",
    ),
    (
        "--ray-queue",
        "ray_queue",
        "N",
        int,
        "--executor ray: calls waiting cluster-wide before more are refused (default 1000)",
    ),
    (
        "--sandbox-uid-base",
        "sandbox_uid_base",
        "UID",
        int,
        "first uid of the slots (default 61000)",
    ),
)


def _serve_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The flags of ``codeteam serve``: the one table of its settings (each flag's
    destination is a :class:`~codeteam.config.Settings` field, and each flag also reads
    from ``CODETEAM_<FLAG>``, see :func:`~codeteam.config.from_environment`)."""
    from pathlib import Path

    p = sub.add_parser(
        "serve",
        help="serve the code tools over MCP (stdio by default, or HTTP)",
        description="Serve execute_code, run_tests, code_review and workspace tools over MCP.",
        epilog="Every flag also reads from CODETEAM_<FLAG>: --call-memory from "
        "CODETEAM_CALL_MEMORY, --root from CODETEAM_ROOT (':'-separated), --allowed-origin "
        "from CODETEAM_ALLOWED_ORIGIN (','-separated), --unsafe-no-sandbox from "
        "CODETEAM_UNSAFE_NO_SANDBOX=1. A flag wins over its variable.",
    )
    p.add_argument("--transport", choices=("stdio", "http"), help="default: stdio")
    p.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port (default 8080)")
    p.add_argument("--token", help="bearer token HTTP clients must send (required off loopback)")
    p.add_argument(
        "--allowed-origin",
        dest="allowed_origins",
        metavar="ORIGIN",
        action="append",
        help="an extra Origin allowed to call over HTTP (repeatable)",
    )
    p.add_argument(
        "--root",
        dest="roots",
        metavar="DIR",
        type=Path,
        action="append",
        help="workspace root the tools may touch (repeatable; default: current directory)",
    )
    for flag, dest, metavar, kind, text in _NUMBERS:
        p.add_argument(flag, dest=dest, metavar=metavar, type=kind, help=text)
    p.add_argument(
        "--runtime",
        type=Path,
        metavar="DIR",
        help="sandbox runtime prefix (default /opt/codeteam/runtime)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="persistent caches, e.g. Go's build cache (default /var/tmp/codeteam as root)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="--executor ray: the cluster's address, host:port of its head (default auto)",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTOR_KINDS,
        help="where code runs: local (this machine's sandbox; default) or ray (a cluster)",
    )
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        default=None,
        help="DEVELOPMENT ONLY: run code unconfined on this machine",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="codeteam",
        description="An MCP server of sandboxed code tools, and a team of coding agents.",
    )
    parser.add_argument("--version", action="version", version=f"codeteam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serve_parser(sub)
    from codeteam.team.cli_args import add_team_parsers  # argparse only: cheap

    add_team_parsers(sub)
    from codeteam.eval.cli_args import add_eval_parsers

    add_eval_parsers(sub)
    return parser


def _fail(message: str) -> int:
    print(f"codeteam: {message}", file=sys.stderr)
    return 2


def parse_serve_args(args: Sequence[str]) -> argparse.Namespace:
    """The flags of ``codeteam serve`` (without the team's parsers), each unset flag taken
    from its ``CODETEAM_<FLAG>`` variable; warns about variables that name nothing."""
    import argparse
    import os

    from codeteam.config import from_environment

    parser = argparse.ArgumentParser(prog="codeteam serve")
    serve = _serve_parser(parser.add_subparsers(dest="command"))
    ns = parser.parse_args(["serve", *args])
    values, warnings = from_environment(serve._actions, os.environ)
    for warning in warnings:
        print(f"codeteam: warning: {warning}", file=sys.stderr)
    for dest, value in values.items():
        if getattr(ns, dest) is None:
            setattr(ns, dest, value)
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if args and args[0] == "serve" and "-h" not in args and "--help" not in args:
            # Fast path: over stdio, serve parses its flags only after answering tools/list.
            from codeteam.server import serve_command

            return serve_command(args[1:], parse_serve_args)
        ns = build_parser().parse_args(args)
        if ns.command is None:
            build_parser().print_help()
            return 2
        if ns.command == "serve":  # e.g. after an option of codeteam itself
            from codeteam.server import serve_command

            return serve_command(args[args.index("serve") + 1 :], parse_serve_args)
        if ns.command in ("eval", "evals"):
            from codeteam.eval.cli import dispatch as eval_dispatch

            return eval_dispatch(ns)
        from codeteam.team.cli import dispatch

        return dispatch(ns)
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        # ConfigError, imported only now: `serve` answers tools/list before loading config.
        from codeteam.config import ConfigError

        if isinstance(exc, ConfigError):
            return _fail(str(exc))
        raise
