"""The ``codeteam`` command: parse, configure, hand over to the library.

Thin on purpose, and light: ``codeteam serve`` must start in a few milliseconds, so
subcommands import their implementation only once chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codeteam import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    import argparse


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
        "--keepalive",
        dest="keepalive_s",
        metavar="SECONDS",
        type=float,
        help="SSE keepalive seconds",
    )
    p.add_argument(
        "--root",
        dest="roots",
        metavar="DIR",
        type=Path,
        action="append",
        help="workspace root the tools may touch (repeatable; default: current directory)",
    )
    p.add_argument(
        "--max-concurrency", type=int, metavar="N", help="code executions at once (default 8)"
    )
    p.add_argument(
        "--timeout",
        dest="default_timeout_s",
        metavar="SECONDS",
        type=float,
        help="default timeout, s",
    )
    p.add_argument(
        "--max-timeout", dest="max_timeout_s", metavar="SECONDS", type=float, help="max timeout, s"
    )
    p.add_argument(
        "--output-cap", dest="output_cap_bytes", metavar="BYTES", type=int, help="bytes per stream"
    )
    p.add_argument(
        "--max-code-bytes", type=int, metavar="BYTES", help="largest code argument (default 1 MiB)"
    )
    p.add_argument(
        "--max-stdin-bytes",
        type=int,
        metavar="BYTES",
        help="largest stdin argument (default 1 MiB)",
    )
    p.add_argument(
        "--memory",
        dest="memory_bytes",
        metavar="BYTES",
        type=int,
        help="address-space limit per process, bytes",
    )
    p.add_argument(
        "--call-memory",
        dest="call_memory_bytes",
        metavar="BYTES",
        type=int,
        help="memory of a whole call (all its processes and tmpfs files), bytes; needs cgroups",
    )
    p.add_argument(
        "--cpu",
        dest="cpu_s",
        metavar="SECONDS",
        type=int,
        help="CPU seconds per process (default 60)",
    )
    p.add_argument("--processes", type=int, metavar="N", help="processes per call (default 64)")
    p.add_argument(
        "--file-size",
        dest="file_size_bytes",
        metavar="BYTES",
        type=int,
        help="largest file a call writes, bytes",
    )
    p.add_argument(
        "--open-files", type=int, metavar="N", help="open files per process (default 256)"
    )
    p.add_argument(
        "--tmpfs",
        dest="tmpfs_bytes",
        metavar="BYTES",
        type=int,
        help="size of a call's /work and /tmp, bytes",
    )
    p.add_argument(
        "--runtime",
        type=Path,
        metavar="DIR",
        help="sandbox runtime prefix (default /opt/codeteam/runtime)",
    )
    p.add_argument(
        "--pool-size", type=int, metavar="N", help="pre-started Python sandboxes (0 disables)"
    )
    p.add_argument(
        "--sandbox-uid-base",
        type=int,
        metavar="UID",
        help="first host uid of the sandbox slots (default 61000)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="persistent caches, e.g. Go's build cache (default /var/tmp/codeteam as root)",
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
