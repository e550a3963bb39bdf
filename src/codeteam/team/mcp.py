"""One MCP client session per run, shared by every specialist.

By default it starts ``codeteam serve`` over stdio with the run's workspace as its only
root; ``--mcp-server`` picks any other server by command line or by URL (Streamable
HTTP). Both sessions multiplex concurrent requests, so parallel specialists share one.
A server started by command is spoken to by :mod:`codeteam.team.stdio_client` (the
official SDK's client costs ~31 MiB in this process, see there); a URL by the official
SDK's Streamable HTTP client, imported only then.

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
from typing import Any, Protocol

from codeteam.config import ConfigError
from codeteam.llm import ToolDef
from codeteam.team.stdio_client import RequestFailed, open_stdio_session

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


def _render(result: dict[str, Any]) -> ToolOutcome:
    """A ``tools/call`` result (wire shape) as the model and the records see it."""
    content = result.get("content") or []
    texts = [c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"]
    structured = result.get("structuredContent")
    is_error = bool(result.get("isError"))
    text = "\n".join(texts)
    if not text and structured is not None:
        text = json.dumps(structured)
    if len(text) > RESULT_CAP:
        half = RESULT_CAP // 2
        text = f"{text[:half]}\n[... {len(text) - RESULT_CAP} characters cut ...]\n{text[-half:]}"
    status = "error" if is_error else "ok"
    if isinstance(structured, dict) and isinstance(structured.get("status"), str):
        status = structured["status"]
    return ToolOutcome(
        text or ("(error)" if is_error else "(no output)"),
        is_error,
        status,
        structured if isinstance(structured, dict) else None,
    )


class Session(Protocol):
    """What the team needs of an MCP session; results in their wire (JSON) shape."""

    async def list_tools(self) -> list[dict[str, Any]]: ...

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]: ...


class McpTools:
    """The tools one MCP server offers, callable concurrently."""

    def __init__(self, session: Session, tools: list[ToolDef]) -> None:
        self._session = session
        self.tools = {t.name: t for t in tools}

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            result = await self._session.call_tool(name, arguments)
        except RequestFailed as exc:
            return ToolOutcome(f"error: {exc}", True, "protocol_error")
        return _render(result)


class _SdkSession:
    """The official SDK's ``ClientSession`` (Streamable HTTP) behind :class:`Session`."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def list_tools(self) -> list[dict[str, Any]]:
        listing = await self._session.list_tools()
        return [t.model_dump(by_alias=True, exclude_none=True) for t in listing.tools]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from mcp.shared.exceptions import MCPError

        try:
            result = await self._session.call_tool(name, arguments)
        except MCPError as exc:
            raise RequestFailed(exc.error.code, str(exc)) from None
        dumped: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True)
        return dumped


#: Never passed to the team's own server: it would offer the team tools again (recursion).
_NOT_INHERITED = ("CODETEAM_TEAM_PROVIDER", "CODETEAM_CATALOG")


#: Settings of a task's own server, unless the environment sets them: it serves one
#: agent, whose tool calls come one at a time with a model turn between them, so one
#: pre-started sandbox (refilled after each call) is as good as the default three, which
#: would keep two idle interpreters per task (~3 MiB PSS each).
TASK_SERVER_DEFAULTS = {"CODETEAM_POOL_SIZE": "1"}


def _server_env(defaults: dict[str, str]) -> dict[str, str]:
    # The server gets the SDK's minimal environment plus our own settings, never API keys.
    own = {
        k: v for k, v in os.environ.items() if k.startswith("CODETEAM_") and k not in _NOT_INHERITED
    }
    return defaults | own


def can_isolate(target: str | None) -> bool:
    """Whether a server can be started rooted at a task's copy."""
    if target is None:
        return True
    return not target.startswith(("http://", "https://")) and "{root}" in target


def _where(target: str | None) -> str:
    return f"MCP server {target}" if target else "MCP server 'codeteam serve'"


def _reason(exc: BaseException) -> str:
    """The innermost useful message of a failure (task groups wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__


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
    session: Session
    if target and target.startswith(("http://", "https://")):
        from mcp.client.session import ClientSession
        from mcp.client.streamable_http import streamable_http_client

        streams = await stack.enter_async_context(streamable_http_client(target))
        sdk = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        await sdk.initialize()
        session = _SdkSession(sdk)
    else:
        argv = (
            [a.replace("{root}", str(workspace)) for a in shlex.split(target)]
            if target
            else [sys.executable, "-m", "codeteam", "serve", "--root", str(workspace)]
        )
        if not argv:
            raise ConfigError("--mcp-server is empty: give a command line or an http(s) URL")
        try:
            session = await stack.enter_async_context(
                open_stdio_session(argv, _server_env(defaults), str(workspace))
            )
        except OSError as exc:
            raise ConfigError(f"cannot start MCP server {argv[0]!r}: {exc.strerror}") from None
    tools = [
        ToolDef(t["name"], t.get("description") or t["name"], _model_schema(dict(t["inputSchema"])))
        for t in await session.list_tools()
    ]
    return McpTools(session, tools)


class TaskServer:
    """A task's own server, rooted at its copy; the copy (``prepare``) and the server are
    made on the task's first tool call, so a task that calls no tool costs neither.

    Enter and leave it in the task's own asyncio task.
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
