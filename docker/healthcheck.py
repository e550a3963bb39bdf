"""The image's HEALTHCHECK: one stateless MCP ``ping`` to the server in this container.

A ping goes through the HTTP stack, the token check and the dispatcher, and starts no
sandbox. Standard library only (run by Debian's python3, not the server's venv), so a
check costs one small interpreter start. Exit 0: healthy; 1: not, with the reason.
"""

import json
import os
import sys
import urllib.error
import urllib.request

VERSION = "2026-07-28"


def main() -> int:
    port = os.environ.get("CODETEAM_PORT", "8080")
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "ping",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": VERSION,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        },
    }
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "MCP-Protocol-Version": VERSION,
        "Mcp-Method": "ping",
    }
    token = os.environ.get("CODETEAM_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL
        f"http://127.0.0.1:{port}/mcp", json.dumps(body).encode(), headers
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            answer = json.loads(response.read())
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}")
        return 1
    if "result" not in answer:
        print(f"unhealthy: {answer}")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
