"""Host-side process bookkeeping: the subreaper, reaping what bubblewrap leaves us, and
killing every process of a sandbox uid.

bubblewrap's launcher exits as soon as its pid-1 reports the exit code, leaving that
pid-1 (the sandbox's init) to be re-parented. Left to the machine's init it lingers as a
zombie that counts against the sandbox uid's RLIMIT_NPROC, so the server becomes a child
subreaper and reaps those processes itself: only pids it was told about (bubblewrap's
``--info-fd``) or zombies named ``bwrap`` it did not spawn, never a child that asyncio or
``subprocess`` is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PR_SET_CHILD_SUBREAPER = 36
#: setresuid and setresgid as raw system calls, per machine: the kernel changes only the
#: calling thread's credentials, where glibc's wrappers change every thread's (POSIX).
_SETRES = {"x86_64": (117, 119), "aarch64": (147, 149)}


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def become_subreaper() -> bool:
    """Make orphaned descendants ours to reap (idempotent); False if the kernel refused."""
    return bool(_libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


@contextlib.contextmanager
def thread_as(uid: int, gid: int) -> Iterator[None]:
    """Run the block with this thread alone acting as ``uid``/``gid`` (effective ids; the
    saved root ids bring it back), so a root server reaches a sandbox's ``/proc/PID/root``
    as the user that owns the sandbox's user namespace: root alone needs CAP_SYS_PTRACE
    for that, which a container does not grant. Without a known system call number (other
    machines), the block runs as we are. The block must not await: nothing else of ours
    may run on this thread meanwhile."""
    numbers = _SETRES.get(os.uname().machine)
    if numbers is None:
        yield
        return
    setresuid, setresgid = numbers
    libc = _libc()

    def call(number: int, effective: int) -> None:
        if libc.syscall(number, -1, effective, -1) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot switch this thread to id {effective}: {os.strerror(err)}")

    call(setresgid, gid)
    try:
        call(setresuid, uid)
        try:
            yield
        finally:
            call(setresuid, 0)
    finally:
        call(setresgid, 0)


def _stat_fields(pid: int) -> tuple[str, str, int, int] | None:
    """(comm, state, ppid, flags) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    lpar, rpar = raw.find(b"("), raw.rfind(b")")
    rest = raw[rpar + 2 :].split()
    comm = raw[lpar + 1 : rpar].decode(errors="replace")
    return comm, rest[0].decode(), int(rest[1]), int(rest[6])


_PF_EXITING = 0x4  # include/linux/sched.h


def running(pid: int) -> bool:
    """Alive and not on its way out: neither gone, a zombie, nor PF_EXITING (set the moment
    a process begins to exit, while ``/proc`` still shows it running and its threads, its
    files and its cgroup membership are being torn down)."""
    f = _stat_fields(pid)
    return f is not None and f[1] not in ("Z", "X") and not f[3] & _PF_EXITING


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def pids_of_uid(uid: int) -> list[int]:
    """Processes whose owner (of their /proc entry: the effective uid) is ``uid``."""
    found = []
    for pid in _pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                found.append(pid)
        except OSError:
            continue
    return found


def tasks_of_uid(uid: int) -> int:
    """Threads of ``uid``'s processes: what RLIMIT_NPROC counts."""
    count = 0
    for pid in pids_of_uid(uid):
        try:
            count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


def is_child(pid: int) -> bool:
    f = _stat_fields(pid)
    return f is not None and f[2] == os.getpid()


def killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Reaped:
    status: int  # as from waitpid
    cpu_s: float  # user + system time of the process and the children it reaped


def reap(pid: int) -> Reaped | None:
    """Reap ``pid`` if it is a zombie child of ours."""
    try:
        got, status, usage = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if got == 0:
        return None
    return Reaped(status, usage.ru_utime + usage.ru_stime)


def reap_stray_bwraps(spawned: set[int]) -> int:
    """Reap zombie ``bwrap`` children of ours that nobody else waits for; how many."""
    me = os.getpid()
    n = 0
    for pid in _pids():
        if pid in spawned:
            continue
        f = _stat_fields(pid)
        if f is not None and f[2] == me and f[1] == "Z" and f[0] == "bwrap":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
                n += 1
    return n


async def wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait until ``pid`` has exited (a zombie counts); False on timeout."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def exited() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, exited)
    try:
        await asyncio.wait_for(done, timeout_s)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def sweep_uid(uid: int, timeout_s: float = 2.0) -> list[int]:
    """SIGKILL every process of ``uid`` until none is left; the pids found at first."""
    return await sweep(lambda: pids_of_uid(uid), timeout_s)


async def sweep(find: Callable[[], list[int]], timeout_s: float = 2.0) -> list[int]:
    """SIGKILL every process ``find`` lists until it lists none alive; the pids found at
    first. ``find`` is a slot's cgroup members (cheap) or a scan of /proc for its uid."""
    first = find()
    pids = first
    deadline = time.monotonic() + timeout_s
    while pids and time.monotonic() < deadline:
        for pid in pids:
            kill(pid)
        await asyncio.sleep(0.005)
        pids = [p for p in find() if _is_alive(p)]
    return first


def _is_alive(pid: int) -> bool:
    f = _stat_fields(pid)
    return f is not None and f[1] != "Z"
