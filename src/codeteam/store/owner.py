"""Which process owns a running run, and whether it is still there.

A run killed with SIGKILL cannot record its own end. Its record names its process (pid,
that process's start time, host) and a heartbeat; once that process is gone the run is
``interrupted`` (resumable). Pid plus start time tell a reused pid apart from the owner.
On another host (a shared database) or without /proc, a heartbeat older than
:data:`STALE_S` is the only evidence.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

#: How often a running run says it is alive, and when silence means it is gone.
HEARTBEAT_S = 10.0
STALE_S = 6 * HEARTBEAT_S


@dataclass(frozen=True)
class Owner:
    pid: int
    started: float | None  # clock ticks since boot (/proc/PID/stat), None without /proc
    host: str


def _start_ticks(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # exited, not yet reaped by its parent
        return None
    return float(fields[19])  # field 22, starttime


def current() -> Owner:
    return Owner(os.getpid(), _start_ticks(os.getpid()), socket.gethostname())


def gone(
    pid: int | None,
    started: float | None,
    host: str | None,
    heartbeat: float | None,
    now: float | None = None,
) -> bool:
    """Whether the process that owned a running run has certainly ended."""
    now = time.time() if now is None else now
    if pid is not None and host == socket.gethostname() and os.path.isdir("/proc"):
        ticks = _start_ticks(pid)
        return ticks is None or (started is not None and ticks != started)
    return heartbeat is None or now - heartbeat > STALE_S
