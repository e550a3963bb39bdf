"""Per-call timestamps along a tool call's path (server, Ray agent, node host, sandbox),
for finding where its latency goes (``bench/ray_bench.py --trace`` reads them).

Off unless ``CODETEAM_TRACE`` names a file; then each :func:`mark` appends one line,
``stage pid monotonic_ns``, to it (CLOCK_MONOTONIC is one clock for every process of the
machine, so the server's, the agent's and the host actor's marks compare). Off, a mark is
one global lookup and a branch.
"""

from __future__ import annotations

import os
import time

_PATH = os.environ.get("CODETEAM_TRACE")
_fd: int | None = None


def mark(stage: str) -> None:
    if _PATH is None:
        return
    global _fd
    if _fd is None:
        _fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    os.write(_fd, f"{stage} {os.getpid()} {time.monotonic_ns()}\n".encode())
