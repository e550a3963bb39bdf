"""HTTP transports on one plain ASGI app (:class:`McpApp`, served by uvicorn): Streamable
HTTP at ``/mcp`` (:mod:`.streamable`) and the legacy HTTP+SSE transport (2024-11-05) at
``/sse`` + ``/messages`` (:mod:`.legacy_sse`); sessions in :mod:`.sessions`; a request that
cannot be served raises :class:`.refusal.Refused`, answered as one JSON-RPC error.

Streamable HTTP serves both eras: a request whose ``_meta`` carries a 2026-07-28 version is
a stateless single exchange (headers checked against the body); ``initialize`` opens a
2025-11-25-style session. Every SSE stream sends a keepalive comment when idle; a client
that disconnects cancels its call. On shutdown every running call answers that the server
is stopping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from codeteam.config import Settings
from codeteam.protocol.dispatcher import Dispatcher
from codeteam.protocol.http.app import McpApp
from codeteam.protocol.signals import ignore_stop_signals

__all__ = ["McpApp", "serve_http", "uvicorn_config"]

#: On SIGTERM/SIGINT: how long running calls get to be stopped and answer (their sandboxes
#: killed and swept), then how long answers still being written get; with the sandbox's
#: own clean-up this stays within the 10 s a supervisor such as systemd or Kubernetes waits.
DRAIN_S = 4.0
GRACE_S = 2


def serve_http(dispatcher: Dispatcher, settings: Settings, max_body: int) -> int:
    """Run uvicorn (httptools + uvloop when present) until SIGINT/SIGTERM."""
    import gc

    import uvicorn

    dispatcher.preload()
    app = McpApp(dispatcher, settings, max_body)
    # Everything allocated so far lives as long as the server: keep it out of the cyclic
    # collector's scans, which otherwise walk it again and again under load.
    gc.collect()
    gc.freeze()

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            for server in getattr(self, "servers", ()):
                server.close()  # no new connections while the running calls answer
            # every call answers, and every stream ends, so uvicorn waits on none of them
            await app.drain(DRAIN_S)
            await super().shutdown(sockets)
            await app.aclose()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                # uvicorn re-raises the signal once shut down (the process then dies of
                # it); SIGINT/SIGTERM is how this server is meant to stop: exit 0
                stopped = bool(self._captured_signals)
                self._captured_signals.clear()
            if stopped:
                ignore_stop_signals()

    _Server(uvicorn_config(app, settings)).run()  # exits the process itself if it cannot bind
    return 0


def uvicorn_config(app: Any, settings: Settings) -> Any:
    """uvicorn settings for serving ``app`` (the MCP app, or ``codeteam ui``'s): httptools
    and uvloop when installed ("auto"), no proxy-headers middleware (a layer per request; we
    bind loopback or sit behind a proxy we do not need addresses from), no access log."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACE_S,
    )
