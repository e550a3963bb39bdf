"""Resource limits: the values a sandbox runs under (applied before any user code starts, by
:mod:`codeteam.sandbox.launch`) and how a finished run is told to have hit one.
"""

from __future__ import annotations

import resource
import signal

from codeteam.sandbox.spec import LimitName, Limits

#: SIGKILL sent when the process exceeds its CPU soft limit by this many seconds.
CPU_GRACE_S = 1

#: At or above this, a limit means "none" (``services.UNLIMITED`` is RLIM_INFINITY's bits).
_NO_LIMIT_FROM = 1 << 63

#: (name as ``prlimit`` and ``codeteam-launch`` spell the option, soft, hard)
RLimit = tuple[str, int, int]


def rlimits(limits: Limits, *, shared_uid: bool = False) -> list[RLimit]:
    """Every limit, soft = hard except CPU (SIGXCPU first, SIGKILL a grace later).

    RLIMIT_NPROC counts every thread of the real uid. With a slot uid of its own (server
    run as root) that is the call's own budget; sharing the server's uid (not root), the
    user's existing threads count too, so the budget goes on top of them — a sandbox
    would otherwise fail to start on any desktop with more than ``processes`` threads.
    """
    cpu = max(1, limits.cpu_s)
    nproc = limits.processes
    if shared_uid:
        import os

        from codeteam.sandbox.procs import tasks_of_uid

        nproc += tasks_of_uid(os.getuid())
    memory = limits.memory_bytes
    if memory >= _NO_LIMIT_FROM:
        memory = resource.RLIM_INFINITY
    return [
        ("cpu", cpu, cpu + CPU_GRACE_S),
        ("as", memory, memory),
        ("nproc", nproc, nproc),
        ("fsize", limits.file_size_bytes, limits.file_size_bytes),
        ("nofile", limits.open_files, limits.open_files),
        ("core", 0, 0),
    ]


_MEMORY_MARKERS = (b"MemoryError", b"out of memory", b"cannot allocate memory", b"bad_alloc")
_PROCESS_MARKERS = (b"Resource temporarily unavailable", b"Can't fork", b"fork: retry")
_FILE_SIZE_MARKERS = (b"File too large", b"No space left on device")


def classify(
    signum: int | None,
    exit_code: int | None,
    stderr: bytes,
    cpu_used_s: float | None,
    limits: Limits,
    oom_killed: bool = False,
) -> LimitName | None:
    """The limit that ended a run we did not kill ourselves, or None.

    Signals are exact (SIGXCPU, SIGXFSZ). A SIGKILL names a limit only with proof that the
    limit fired in this call: the kernel's OOM killer counted a kill in the call's memory
    cgroup (``oom_killed``), or the call used its whole CPU budget (RLIMIT_CPU's hard
    limit). Any other SIGKILL came from outside (an operator, the host's OOM killer on a
    machine without per-call cgroups): no limit is named. The rest is a heuristic on the
    stderr text runtimes print when an allocation or a fork fails under a limit.
    """
    if signum == signal.SIGXCPU:
        return "cpu"
    if signum == signal.SIGXFSZ:
        return "file_size"
    if signum is None and exit_code == 0:
        return None
    if oom_killed:
        return "memory"
    if signum == signal.SIGKILL:
        if cpu_used_s is not None and cpu_used_s >= limits.cpu_s - 0.05:
            return "cpu"
        return None
    lowered = stderr.lower()
    if any(m.lower() in lowered for m in _MEMORY_MARKERS):
        return "memory"
    if any(m.lower() in lowered for m in _PROCESS_MARKERS):
        return "processes"
    if any(m.lower() in lowered for m in _FILE_SIZE_MARKERS):
        return "file_size"
    if signum == signal.SIGSEGV:
        return "memory"
    return None
