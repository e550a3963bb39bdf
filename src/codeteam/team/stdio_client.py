"""A small MCP client over a server's stdin/stdout: the handshake, ``tools/list`` and
``tools/call``, concurrent requests matched by id.

Why not the official SDK's ``ClientSession`` here: importing any of its client also
imports its server side (starlette, uvicorn, cryptography, click, ...), about 31 MiB of
PSS in the ``codeteam run`` process, a fifth of a two-task run's peak. This speaks
the same wire format the SDK does: newline-delimited JSON-RPC, the ``initialize`` /
``notifications/initialized`` handshake, ``notifications/cancelled`` when a caller gives
up on a request, ``ping`` answered, and the spec's shutdown (close stdin, wait, then
SIGTERM and SIGKILL the server's process group). Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

from codeteam import __version__
from codeteam.protocol.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, dumps
from codeteam.protocol.versions import HANDSHAKE_VERSIONS, LATEST_HANDSHAKE

#: What a server inherits besides what the caller passes (the SDK's choice on POSIX).
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
#: The spec's shutdown: after stdin closes, how long the server may take to exit before
#: SIGTERM, and then before SIGKILL (the SDK's figures).
EXIT_GRACE_S = 2.0
TERM_GRACE_S = 2.0
#: A tool result is one line; this only bounds a line that never ends.
MAX_LINE = 1 << 28
#: JSON-RPC code the SDK uses for a request the connection closed under.
CONNECTION_CLOSED = -32000


class RequestFailed(Exception):
    """The server answered a request with an error, or the connection is gone."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class StdioSession:
    """One server process and its session; use :func:`open_stdio_session`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._closed: str | None = None  # why no more answers will come
        self._reader = asyncio.ensure_future(self._read())

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        """The result of one request; :class:`RequestFailed` for an error answer or a
        closed connection. A cancelled caller tells the server (``notifications/cancelled``)."""
        if self._closed is not None:
            raise RequestFailed(CONNECTION_CLOSED, self._closed)
        self._next_id += 1
        rid = self._next_id
        answer = asyncio.get_running_loop().create_future()
        self._pending[rid] = answer
        try:
            self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            return await answer
        except asyncio.CancelledError:
            with contextlib.suppress(RequestFailed):  # a server already gone needs no notice
                self.notify("notifications/cancelled", {"requestId": rid, "reason": "cancelled"})
            raise
        finally:
            self._pending.pop(rid, None)

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        if stdin.is_closing():
            raise RequestFailed(CONNECTION_CLOSED, self._closed or "Connection closed")
        try:
            frame = dumps(message)
        except ValueError as exc:  # NaN or Infinity in the arguments: not JSON
            raise RequestFailed(
                INVALID_PARAMS, f"cannot send this request as JSON: {exc}"
            ) from None
        stdin.write(frame.encode("ascii") + b"\n")

    async def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        reason = "Connection closed"
        try:
            while line := await stdout.readline():
                self._dispatch(line)
            reason = f"Connection closed (the server exited, code {await self._proc.wait()})"
        except (ValueError, OSError) as exc:  # a line past MAX_LINE, a broken pipe
            reason = f"Connection closed: {exc}"
        finally:
            self._closed = self._closed or reason
            for answer in self._pending.values():
                if not answer.done():
                    answer.set_exception(RequestFailed(CONNECTION_CLOSED, self._closed))

    def _dispatch(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # not JSON-RPC (stray output): the SDK logs and skips it too
        if not isinstance(message, dict):
            return
        if "method" in message:
            if "id" in message:  # a request from the server
                self._answer_server(message)
            return  # notifications (progress, logging, list_changed) are not used here
        rid = message.get("id")
        answer = self._pending.get(rid) if isinstance(rid, int) else None
        if answer is None or answer.done():
            return
        error = message.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            message = str(error.get("message", ""))
            answer.set_exception(RequestFailed(code if isinstance(code, int) else 0, message))
        else:
            answer.set_result(message.get("result"))

    def _answer_server(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if message["method"] == "ping":
            reply["result"] = {}
        else:  # no sampling, roots or elicitation: none is advertised
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": "not supported by this client"}
        with contextlib.suppress(RequestFailed):
            self._send(reply)

    async def initialize(self) -> None:
        result = await self.request(
            "initialize",
            {
                "protocolVersion": LATEST_HANDSHAKE,
                "capabilities": {},
                "clientInfo": {"name": "codeteam", "version": __version__},
            },
        )
        version = result.get("protocolVersion") if isinstance(result, dict) else None
        if version not in HANDSHAKE_VERSIONS:
            raise RequestFailed(0, f"the server speaks MCP {version!r}, which this client does not")
        self.notify("notifications/initialized")

    async def list_tools(self) -> list[dict[str, Any]]:
        """Every tool the server offers (following ``nextCursor``)."""
        tools: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        while True:
            page = await self.request("tools/list", params)
            tools.extend(page.get("tools", []))
            if not page.get("nextCursor"):
                return tools
            params = {"cursor": page["nextCursor"]}

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "tools/call", {"name": name, "arguments": arguments}
        )
        return result

    async def aclose(self) -> None:
        """Stop the server as the spec says (close stdin, wait, SIGTERM, wait, SIGKILL its
        process group); when cancelled meanwhile, kill it outright."""
        proc = self._proc
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            for sig, grace in ((None, EXIT_GRACE_S), (signal.SIGTERM, TERM_GRACE_S)):
                if sig is not None:
                    _signal_group(proc.pid, sig)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(proc.wait(), grace)
                    return
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
        except asyncio.CancelledError:
            _signal_group(proc.pid, signal.SIGKILL)
            raise
        finally:
            self._reader.cancel()
            await asyncio.wait([self._reader])


def _signal_group(pgid: int, sig: int) -> None:
    """Signal the server and everything it started (its own session: pgid is its pid)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@contextlib.asynccontextmanager
async def open_stdio_session(
    argv: list[str], env: dict[str, str], cwd: str
) -> AsyncIterator[StdioSession]:
    """Start ``argv`` (stderr shared with ours) and hand back its initialized session; the
    server is stopped on the way out. ``OSError`` if it cannot be started."""
    inherited = {k: v for k in INHERITED_ENV if (v := os.environ.get(k)) is not None}
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=inherited | env,
        cwd=cwd,
        start_new_session=True,
        limit=MAX_LINE,
    )
    session = StdioSession(proc)
    try:
        await session.initialize()
        yield session
    finally:
        await session.aclose()
