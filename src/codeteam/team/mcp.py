"""One MCP client session per run, shared by every specialist.

By default it starts ``codeteam serve`` over stdio with the run's workspace as its only
root; ``--mcp-server`` picks any other server by command line or by URL (Streamable
HTTP). The official SDK's ``ClientSession`` multiplexes concurrent requests, so parallel
specialists share it. Importing any of ``mcp.client`` runs ``mcp/__init__``, which also
imports the SDK's server side (~30 MiB PSS in ``codeteam run``, measured): a hand-written
stdio client was tried and dropped, the project keeps the official client.

Tasks on isolated copies each get their own server rooted at their copy (started on
their first tool call): our own server, or a ``--mcp-server`` command containing
``{root}``. A URL, or a command without ``{root}``, cannot be pointed at a copy.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.llm import ToolDef

#: Tool results longer than this are cut before they reach the model's context.
RESULT_CAP = 24_000


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool
    status: str
    structured: dict[str, Any] | None = None


def _model_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The Messages API rejects a top-level oneOf/anyOf/allOf; other servers may send one."""
    clean = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "allOf")}
    clean.setdefault("type", "object")
    return clean


def _render(result: Any) -> ToolOutcome:
    texts = [c.text for c in result.content if getattr(c, "type", "") == "text"]
    structured = getattr(result, "structured_content", None)
    text = "\n".join(texts)
    if not text and structured is not None:
        text = json.dumps(structured)
    if len(text) > RESULT_CAP:
        half = RESULT_CAP // 2
        text = f"{text[:half]}\n[... {len(text) - RESULT_CAP} characters cut ...]\n{text[-half:]}"
    status = "error" if result.is_error else "ok"
    if isinstance(structured, dict) and isinstance(structured.get("status"), str):
        status = structured["status"]
    return ToolOutcome(
        text or ("(error)" if result.is_error else "(no output)"),
        bool(result.is_error),
        status,
        structured if isinstance(structured, dict) else None,
    )


class McpTools:
    """The tools one MCP server offers, callable concurrently."""

    def __init__(self, session: Any, tools: list[ToolDef]) -> None:
        self._session = session
        self.tools = {t.name: t for t in tools}

    def stopped(self) -> None:
        """The server is gone (kept only for its listing): calls now fail as protocol errors."""
        self._session = None

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        if self._session is None:
            return ToolOutcome(
                "error: this MCP server was stopped after listing its tools", True, "protocol_error"
            )
        from mcp.shared.exceptions import MCPError

        try:
            result = await self._session.call_tool(name, arguments)
        except MCPError as exc:
            return ToolOutcome(f"error: {exc}", True, "protocol_error")
        return _render(result)


#: Never passed to the team's own server: it would offer the team tools again (recursion).
_NOT_INHERITED = ("CODETEAM_TEAM_PROVIDER", "CODETEAM_CATALOG")


#: Settings of a task's own server, unless the environment sets them: it serves one
#: agent, whose tool calls come one at a time with a model turn between them, so one
#: pre-started sandbox (refilled after each call) is as good as the default three, which
#: would keep two idle interpreters per task (~3 MiB PSS each).
TASK_SERVER_DEFAULTS = {"CODETEAM_POOL_SIZE": "1"}


#: How a server reaches a Ray cluster with token authentication (Ray reads these).
RAY_AUTH_VARIABLES = frozenset({"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"})


def _server_env(defaults: dict[str, str]) -> dict[str, str]:
    # The server gets the SDK's minimal environment plus our own settings, never API keys.
    own = {
        k: v for k, v in os.environ.items() if k.startswith("CODETEAM_") and k not in _NOT_INHERITED
    }
    ray = {k: v for k, v in os.environ.items() if k in RAY_AUTH_VARIABLES}  # --executor ray
    return defaults | own | ray


def can_isolate(target: str | None) -> bool:
    """Whether a server can be started rooted at a task's copy."""
    if target is None:
        return True
    return not target.startswith(("http://", "https://")) and "{root}" in target


def _where(target: str | None) -> str:
    return f"MCP server {target}" if target else "MCP server 'codeteam serve'"


def innermost(exc: BaseException) -> BaseException:
    """The failure inside the exception groups the SDK's task groups wrap it in."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException) -> str:
    inner = innermost(exc)
    return str(inner) or type(inner).__name__


@asynccontextmanager
async def connect(
    target: str | None,
    workspace: Path,
    *,
    listing_only: bool = False,
    defaults: dict[str, str] | None = None,
) -> AsyncIterator[McpTools]:
    """Open the run's MCP session: ``target`` None (our own server), a command, or a URL.

    ``listing_only``: the caller needs only the tool listing (its tasks each get their own
    server), so the server is stopped once it has listed its tools rather than kept for
    the whole run; a call made anyway is answered as a protocol error. ``defaults``:
    ``CODETEAM_*`` settings for a server started by command, unless the environment
    sets them.

    A server that cannot be started or reached raises :class:`ConfigError` naming it
    (the fix is in ``--mcp-server``, not in the run)."""
    opened = False
    try:
        # A transport's failure surfaces when its task group closes, as a group: caught
        # around the whole stack, and only while opening (later errors are the caller's).
        async with AsyncExitStack() as stack:
            tools = await _open(stack, target, workspace, defaults or {})
            if listing_only:
                await stack.aclose()
                tools.stopped()
            opened = True
            yield tools
    except ConfigError:
        raise
    except Exception as exc:
        if opened:
            raise
        raise ConfigError(
            f"cannot reach the {_where(target)}: {_reason(exc)}; start it, or fix "
            "--mcp-server (a command line, or the http(s) URL of its MCP endpoint)"
        ) from None


async def _open(
    stack: AsyncExitStack, target: str | None, workspace: Path, defaults: dict[str, str]
) -> McpTools:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    if target and target.startswith(("http://", "https://")):
        from mcp.client.streamable_http import streamable_http_client

        streams = await stack.enter_async_context(streamable_http_client(target))
    else:
        argv = (
            [a.replace("{root}", str(workspace)) for a in shlex.split(target)]
            if target
            else [sys.executable, "-m", "codeteam", "serve", "--root", str(workspace)]
        )
        if not argv:
            raise ConfigError("--mcp-server is empty: give a command line or an http(s) URL")
        params = StdioServerParameters(
            command=argv[0], args=argv[1:], env=_server_env(defaults), cwd=str(workspace)
        )
        try:
            streams = await stack.enter_async_context(stdio_client(params))
        except OSError as exc:
            raise ConfigError(f"cannot start MCP server {argv[0]!r}: {exc.strerror}") from None
    read, write = streams[0], streams[1]
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    listing = await session.list_tools()
    tools = [
        ToolDef(t.name, t.description or t.name, _model_schema(dict(t.input_schema)))
        for t in listing.tools
    ]
    return McpTools(session, tools)


class TaskServer:
    """A task's own server, rooted at its copy; the copy (``prepare``) and the server are
    made on the task's first tool call, so a task that calls no tool costs neither.

    Enter and leave it in the task's own asyncio task (the SDK's transports are anyio
    task groups).
    """

    def __init__(self, target: str | None, prepare: Callable[[], Awaitable[Path]]) -> None:
        self._target = target
        self._prepare = prepare
        self._stack = AsyncExitStack()
        self._tools: McpTools | None = None

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        if self._tools is None:
            root = await self._prepare()
            self._tools = await self._stack.enter_async_context(
                connect(self._target, root, defaults=TASK_SERVER_DEFAULTS)
            )
        return await self._tools.call(name, arguments)

    async def aclose(self) -> None:
        await self._stack.aclose()
