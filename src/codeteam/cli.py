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


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the code tools over MCP (stdio by default, or HTTP)",
        description="Serve execute_code, run_tests, code_review and workspace tools over MCP.",
    )
    p.add_argument("--transport", choices=("stdio", "http"), help="default: stdio")
    p.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port (default 8080)")
    p.add_argument(
        "--token",
        help="bearer token HTTP clients must send (env CODETEAM_TOKEN; required off loopback)",
    )
    p.add_argument(
        "--allowed-origin",
        dest="allowed_origins",
        action="append",
        help="an extra Origin allowed to call over HTTP (repeatable)",
    )
    p.add_argument("--keepalive", dest="keepalive_s", type=float, help="SSE keepalive seconds")
    p.add_argument(
        "--root",
        dest="roots",
        action="append",
        help="workspace root the tools may touch (repeatable; default: current directory)",
    )
    p.add_argument("--max-concurrency", type=int, help="code executions at once (default 8)")
    p.add_argument("--timeout", dest="default_timeout_s", type=float, help="default timeout, s")
    p.add_argument("--max-timeout", dest="max_timeout_s", type=float, help="max timeout, s")
    p.add_argument("--output-cap", dest="output_cap_bytes", type=int, help="bytes per stream")
    p.add_argument(
        "--memory", dest="memory_bytes", type=int, help="address-space limit per process, bytes"
    )
    p.add_argument(
        "--call-memory",
        dest="call_memory_bytes",
        type=int,
        help="memory of a whole call (all its processes and tmpfs files), bytes; needs cgroups",
    )
    p.add_argument("--runtime", help="sandbox runtime prefix (default /opt/codeteam/runtime)")
    p.add_argument("--pool-size", type=int, help="pre-started Python sandboxes (0 disables)")
    p.add_argument(
        "--snapshot-cap",
        type=int,
        help="largest read-only copy made of a project the sandbox's user cannot read, bytes"
        " (default 256 MiB)",
    )
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        default=None,
        help="DEVELOPMENT ONLY: run code unconfined on this machine",
    )


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
    """The flags of ``codeteam serve`` (without the team's parsers)."""
    import argparse

    parser = argparse.ArgumentParser(prog="codeteam serve")
    _serve_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *args])


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
        if ns.command == "serve":
            from codeteam.server import serve_from_args

            return serve_from_args(ns)
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
