"""granian, for choosing the HTTP server by the numbers (issue 16): ``codeteam PORT`` serves
codeteam's own MCP app (the one uvicorn serves, built the same way) on granian's ASGI
interface; ``floor PORT`` is a bare hello-world on granian's native RSGI interface, the best
case a port of the app to RSGI could approach. Both run embedded (one process, uvloop,
granian's Rust task implementation), so the bench's per-process CPU figure counts all of it.
"""

import asyncio
import gc
import sys

import uvloop
from granian.constants import Interfaces, TaskImpl
from granian.log import LogLevels
from granian.server.embed import Server

BODY = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}],"isError":false}}'
)
HEADERS = [("mcp-session-id", "floor"), ("content-type", "application/json")]


async def floor(scope, proto):  # type: ignore[no-untyped-def]
    await proto()
    proto.response_bytes(200, HEADERS, BODY)


def codeteam_app():  # type: ignore[no-untyped-def]
    from codeteam.protocol.http import McpApp
    from codeteam.server import _load, build_dispatcher, max_frame_bytes

    settings = _load({"transport": "http"})
    dispatcher = build_dispatcher(settings)
    dispatcher.preload()
    app = McpApp(dispatcher, settings, max_frame_bytes(settings))
    gc.collect()  # as serve_http does: what lives as long as the server, out of the GC's scans
    gc.freeze()
    return app


async def serve(which: str, port: int) -> None:
    if which == "floor":
        target, interface = floor, Interfaces.RSGI
    else:
        target, interface = codeteam_app(), Interfaces.ASGI
    server = Server(
        target,
        port=port,
        interface=interface,
        websockets=False,
        task_impl=TaskImpl.rust,
        log_level=LogLevels.warning,
    )
    await server.serve()


if __name__ == "__main__":
    uvloop.install()
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
