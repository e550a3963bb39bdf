"""A memory cgroup per sandbox slot: a call's memory is capped as a whole.

RLIMIT_AS bounds each process's address space, so a call of 64 processes could still hold
64 times that. The slot's cgroup caps everything the call holds at once: every process's
memory and the files it writes to its tmpfs. The call's first process (the launcher, still
root) moves itself in before it starts bubblewrap (:func:`join_file`), so nothing the call
runs is ever outside it, and the cgroup's process list is every process of the call.

Made under the server's own cgroup (cgroup v1) or beside it (v2, where a cgroup that holds
processes cannot have children), so the machine's own limits on the server still apply.
Needs root and a writable cgroup file system with the memory controller: a normal machine,
not a container with a read-only ``/sys/fs/cgroup``. Without them, calls keep the
per-process limits only, and :meth:`MemoryCgroups.find` says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "codeteam-"


class CgroupError(OSError):
    """A cgroup could not be prepared or joined."""


class MemoryCgroups:
    _instances = 0  # one set of slot cgroups per Sandbox, even several in one process

    def __init__(self, base: Path, version: int) -> None:
        self.base = base
        self.version = version
        MemoryCgroups._instances += 1
        self._name = f"{PREFIX}{os.getpid()}-{MemoryCgroups._instances}"
        #: (slot, cap) -> its cgroup: a cap is set once, never lowered under what an
        #: earlier call left charged (page cache), so a slot has one cgroup per cap it used
        self._made: dict[tuple[int, int], Path] = {}

    @property
    def made(self) -> list[Path]:
        """The slot cgroups made so far."""
        return list(self._made.values())

    @classmethod
    def find(cls) -> MemoryCgroups | str:
        """The place to make slot cgroups, or why there is none."""
        if os.geteuid() != 0:  # a delegated subtree may look writable yet refuse moves
            return "the server is not root"
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError as exc:
            return f"cannot read /proc/self/cgroup ({exc.strerror})"
        if (ROOT / "cgroup.controllers").is_file():  # unified hierarchy (v2)
            path = next((line[3:] for line in own if line.startswith("0::")), None)
            if path is None:
                return "no cgroup v2 entry in /proc/self/cgroup"
            mine = ROOT / path.lstrip("/")
            base, version = (mine if mine == ROOT else mine.parent), 2
            try:
                enabled = (base / "cgroup.subtree_control").read_text().split()
            except OSError as exc:
                return f"cannot read {base}/cgroup.subtree_control ({exc.strerror})"
            if "memory" not in enabled:
                return f"the memory controller is not enabled below {base}"
        else:
            path = next((line.split(":", 2)[2] for line in own if ":memory:" in line), None)
            if path is None or not (ROOT / "memory" / "memory.limit_in_bytes").is_file():
                return "no memory cgroup (neither cgroup v2 nor the v1 memory hierarchy)"
            base, version = ROOT / "memory" / path.lstrip("/"), 1
        if not os.access(base, os.W_OK):
            return f"{base} is not writable (cgroups are read-only here, as in most containers)"
        found = cls(base, version)
        found._remove_stale()
        why = found._probe()
        return why or found

    def _probe(self) -> str:
        """Make a cgroup, cap it and move a process into it, as every call will: any step
        refused here (a container's rules, a delegated subtree) is refused up front, not in
        the middle of a call. "" when all worked."""
        import subprocess

        probe = self.base / f"{self._name}-probe"
        try:
            probe.mkdir(exist_ok=True)
            self._set_limit(probe, 64 << 20)
            moved = subprocess.run(
                ["/bin/sh", "-c", 'echo 0 > "$0"', str(join_file(probe / "cgroup.procs"))],
                capture_output=True,
                text=True,
            )
            if moved.returncode != 0:
                why = moved.stderr.strip().splitlines()
                raise CgroupError(errno.EPERM, why[-1] if why else "a process cannot join it")
        except OSError as exc:
            return f"cannot use a memory cgroup under {self.base} ({exc})"
        finally:
            _remove(probe)
        return ""

    def procs(self, slot: int, limit_bytes: int) -> Path:
        """The ``cgroup.procs`` file of ``slot``'s cgroup capped at ``limit_bytes``."""
        path = self._made.get((slot, limit_bytes))
        if path is None:
            path = self.base / f"{self._name}-{slot}-{limit_bytes}"
            try:
                path.mkdir(exist_ok=True)
                self._set_limit(path, limit_bytes)
                if self.version == 2:
                    _write(path / "memory.oom.group", "1")  # an OOM ends the whole call
            except OSError as exc:
                _remove(path)
                why = f"cannot prepare memory cgroup {path}: {exc}"
                raise CgroupError(exc.errno, why) from None
            self._made[(slot, limit_bytes)] = path
        return path / "cgroup.procs"

    def members(self, slot: int) -> list[int]:
        """Every process in ``slot``'s cgroups now: every process its calls left."""
        return [
            pid
            for (of, _), path in self._made.items()
            if of == slot
            for pid in pids(path / "cgroup.procs")
        ]

    def _set_limit(self, path: Path, limit: int) -> None:
        if self.version == 2:
            _write(path / "memory.max", str(limit))
            with contextlib.suppress(FileNotFoundError):  # no swap accounting: no swap use
                _write(path / "memory.swap.max", "0")
            return
        _write(path / "memory.limit_in_bytes", str(limit))  # a new cgroup: lowering it
        memsw = path / "memory.memsw.limit_in_bytes"  # memory + swap, where swap is counted
        if memsw.exists():
            _write(memsw, str(limit))

    def close(self) -> None:
        """Remove the slot cgroups (each is empty once its slot is swept)."""
        for path in self._made.values():
            _remove(path)
        self._made.clear()

    def _remove_stale(self) -> None:
        """Empty cgroups left by servers that died without closing theirs."""
        for entry in self.base.glob(f"{PREFIX}*-*"):
            pid = entry.name[len(PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                _remove(entry, tries=1)


def oom_kills(procs: Path) -> int | None:
    """How many processes the kernel's OOM killer has killed in the cgroup of ``procs``
    so far (v2 ``memory.events``, v1 ``memory.oom_control``); None when it does not say.

    Read before and after a call: a rise is the proof that the call's memory cap fired,
    rather than a guess from a SIGKILL that anyone could have sent.
    """
    for name in ("memory.events", "memory.oom_control"):
        try:
            text = (procs.parent / name).read_text()
        except FileNotFoundError:
            continue
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None


def join_file(procs: Path) -> Path:
    """The file a process writes "0" to, to move itself into the cgroup of ``procs``.

    v1's ``tasks``: a single-threaded process moving itself that way skips the kernel's
    global threadgroup lock, whose RCU grace period costs a move through ``cgroup.procs``
    10-12 ms here. v2 has only ``cgroup.procs``.
    """
    tasks = procs.with_name("tasks")
    return tasks if tasks.exists() else procs


def pids(procs: Path) -> list[int]:
    """The processes in the cgroup of ``procs`` now (none when it is gone)."""
    try:
        return [int(line) for line in procs.read_text().split()]
    except (FileNotFoundError, ValueError):
        return []


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _remove(path: Path, tries: int = 20) -> None:
    """rmdir a cgroup; the kernel may hold it busy a moment after its last process died."""
    import time

    for _ in range(tries):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(0.005)
