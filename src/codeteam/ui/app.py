"""The ``codeteam ui`` web app: plain ASGI on the project's own helpers (no framework).

Read-only by construction: it answers GET only, over a read-only database connection.
Pages are server-rendered; a page that may change (``/`` and ``/runs/{id}``) holds an
event stream that says when the records behind it changed (polled every ``poll_s``), and
the page then fetches itself again (``static/ui.js``).
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from codeteam.protocol.asgi import (
    KEEPALIVE,
    Receive,
    Scope,
    Send,
    header_map,
    respond,
    sse_end,
    sse_event,
    sse_send,
    start_sse,
    wait_disconnect,
)
from codeteam.protocol.http.guard import Guard
from codeteam.protocol.http.refusal import Refused
from codeteam.store import Store
from codeteam.ui import render, views

STATIC = Path(__file__).with_name("static")
COOKIE = "codeteam_ui_token"
HTML = b"text/html; charset=utf-8"
#: Nothing but this app's own files: no inline script, no other origin (defence in depth
#: behind autoescaping: a model's ``<script>`` could not run even if it got through).
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]

Stamp = Callable[[], tuple[Any, ...]]


class UiApp:
    def __init__(
        self,
        store: Store,
        guard: Guard,
        *,
        token: str | None = None,
        poll_s: float = 0.2,
        keepalive_s: float = 15.0,
    ) -> None:
        self.store = store
        self.guard = guard
        self.token = token  # the guard checks it; here only to hand a browser its cookie
        self.poll_s = poll_s
        self.keepalive_s = keepalive_s
        self._static: dict[str, tuple[bytes, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = _credentials(scope)
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        token = query.pop("token", None) if self.token else None
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        try:
            self.guard.check(headers)
        except Refused as refusal:  # answered as a page, not as the MCP endpoint's JSON-RPC
            await self._error(send, refusal.status, refusal.message, refusal.headers)
            return
        if token is not None:  # a link with ?token=: remember it, and drop it from the URL
            rest = "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
            value = quote(token, safe="")
            cookie = f"{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/".encode()
            path = "/" + quote(scope["path"]).lstrip("/")  # never //host: stays on this site
            where = (path + (f"?{rest}" if rest else "")).encode()
            await respond(send, 303, b"", None, [(b"location", where), (b"set-cookie", cookie)])
            return
        if scope["method"] != "GET":
            await self._error(send, 405, "the UI only reads: use GET", [(b"allow", b"GET")])
            return
        await self._route(scope["path"], query, receive, send)

    async def _route(self, path: str, query: dict[str, str], receive: Receive, send: Send) -> None:
        try:
            if path == "/":
                page = views.runs_page(self.store, views.RunsQuery.parse(query))
                body = render.page("runs.html", **page)
                await respond(send, 200, body, HTML, SECURITY_HEADERS)
            elif path == "/events":
                await self._events(receive, send, lambda: views.runs_stamp(self.store))
            elif path.startswith("/runs/"):
                run_id, _, rest = path.removeprefix("/runs/").partition("/")
                await self._run(run_id, rest, receive, send)
            elif path == "/evals" or path.startswith("/evals/"):
                await self._evals(path.removeprefix("/evals").strip("/"), query, receive, send)
            elif path.startswith("/static/"):
                await self._file(path.removeprefix("/static/"), send)
            else:
                raise views.NotFound(f"no page {path[:100]!r}: see the list of runs")
        except views.NotFound as exc:
            await self._error(send, 404, str(exc))
        except views.BadRequest as exc:
            await self._error(send, 400, str(exc))

    async def _run(self, run_id: str, rest: str, receive: Receive, send: Send) -> None:
        if rest == "":
            body = render.page("run.html", **views.run_page(self.store, run_id))
            await respond(send, 200, body, HTML, SECURITY_HEADERS)
        elif rest == "events":
            if not views.run_stamp(self.store, run_id):
                raise views.NotFound(f"no run {run_id[:80]!r}")
            await self._events(receive, send, lambda: views.run_stamp(self.store, run_id))
        else:
            raise views.NotFound(f"no page for run {run_id[:80]!r}: /runs/ID is the run's page")

    async def _evals(self, rest: str, query: dict[str, str], receive: Receive, send: Send) -> None:
        from codeteam.ui import eval_views

        store = self.store
        if rest == "":
            body = render.page("evals.html", **eval_views.evals_page(store))
        elif rest == "events":
            await self._events(receive, send, lambda: eval_views.evals_stamp(store))
            return
        elif rest == "compare":
            body = render.page("compare.html", **eval_views.compare_page(store, query))
        else:
            eval_id, _, tail = rest.partition("/")
            if tail == "events":
                if not eval_views.eval_stamp(store, eval_id):
                    raise views.NotFound(f"no eval {eval_id[:80]!r}")
                await self._events(receive, send, lambda: eval_views.eval_stamp(store, eval_id))
                return
            if tail:
                raise views.NotFound(f"no page {rest[:100]!r}: /evals/ID is an eval's page")
            body = render.page("eval.html", **eval_views.eval_page(store, eval_id))
        await respond(send, 200, body, HTML, SECURITY_HEADERS)

    async def _events(self, receive: Receive, send: Send, stamp: Stamp) -> None:
        """Say ``change`` whenever ``stamp()`` changes, until the client leaves."""
        await start_sse(send, [(b"cache-control", b"no-store")])
        gone = asyncio.ensure_future(wait_disconnect(receive))
        last = stamp()
        quiet = 0.0
        try:
            alive = await sse_send(send, b"retry: 500\n\n" + sse_event(b"{}", b"ready"))
            while alive and not gone.done():
                await asyncio.wait({gone}, timeout=self.poll_s)
                now = stamp()
                if now != last:
                    last, quiet = now, 0.0
                    alive = await sse_send(send, sse_event(b"{}", b"change"))
                elif (quiet := quiet + self.poll_s) >= self.keepalive_s:
                    quiet = 0.0
                    alive = await sse_send(send, KEEPALIVE)
        finally:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gone
            await sse_end(send)

    async def _file(self, name: str, send: Send) -> None:
        if name not in self._static:
            target = (STATIC / name).resolve()
            if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
                raise views.NotFound(f"no file {name[:100]!r}")
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            text = kind.startswith("text/") or kind.endswith(("script", "+xml"))
            charset = "; charset=utf-8" if text else ""
            self._static[name] = (target.read_bytes(), f"{kind}{charset}".encode())
        body, kind_header = self._static[name]
        await respond(send, 200, body, kind_header, [(b"x-content-type-options", b"nosniff")])

    async def _error(
        self, send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        body = render.page("error.html", status=status, message=message)
        await respond(send, status, body, HTML, [*(extra or []), *SECURITY_HEADERS])


def _credentials(scope: Scope) -> dict[str, str]:
    """The request's headers as the guard reads them: the UI's cookie stands for a bearer
    token (a browser sends no Authorization header when following a link), and the page's
    own origin is not a cross-site request."""
    headers = header_map(scope)
    if "authorization" not in headers and "cookie" in headers:
        jar: SimpleCookie = SimpleCookie()
        with contextlib.suppress(Exception):
            jar.load(headers["cookie"])
        if COOKIE in jar:
            headers["authorization"] = f"Bearer {unquote(jar[COOKIE].value)}"
    origin = headers.get("origin")
    if origin is not None and urlsplit(origin).netloc == headers.get("host"):
        del headers["origin"]
    return headers
