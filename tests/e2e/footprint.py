"""What a running ``codeteam serve`` holds on the host, and what of it is left once it exits.

Scoped to one server (its pid, the uids it leased, its descendants), so servers of other
tests running at the same time on the machine neither hide nor fake a leftover.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codeteam.sandbox.uids import LOCK_DIR

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 onwards), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> dict[int, str]:
    """Every live descendant of ``root``: pid -> start time (to tell a reused pid)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for pid in _pids():
        st = _stat(pid)
        if st is None or st[0] == "Z":
            continue
        children.setdefault(int(st[1]), []).append(pid)
        starts[pid] = st[19]
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _lock_holders() -> dict[int, set[int]]:
    """inode -> pids holding an flock on it (from /proc/locks)."""
    holders: dict[int, set[int]] = {}
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if "FLOCK" not in parts or "->" in parts:
            continue
        i = parts.index("FLOCK")
        pid, dev_inode = int(parts[i + 3]), parts[i + 4]
        holders.setdefault(int(dev_inode.rsplit(":", 1)[1]), set()).add(pid)
    return holders


def leased_uids(server: int) -> dict[int, int]:
    """Sandbox uids whose lease lock ``server`` holds: uid -> the lock file's inode."""
    holders = _lock_holders()
    leased = {}
    for lock in LOCK_DIR.glob("*.lock"):
        inode = lock.stat().st_ino
        if server in holders.get(inode, set()):
            leased[int(lock.stem)] = inode
    return leased


def _uid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cgroup_dirs(server: int) -> list[Path]:
    """Where ``server`` makes its slot memory cgroups (see codeteam.sandbox.cgroup)."""
    dirs = []
    for line in Path(f"/proc/{server}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "memory":
            dirs.append(CGROUP_ROOT / "memory" / path.lstrip("/"))
        elif controllers == "" and (CGROUP_ROOT / "cgroup.controllers").is_file():
            mine = CGROUP_ROOT / path.lstrip("/")
            dirs += [mine, mine.parent]
    return dirs


@dataclass
class Footprint:
    """Taken while the server runs (after its calls started)."""

    server: int
    uids: dict[int, int]
    processes: dict[int, str]
    cgroup_dirs: list[Path]
    cgroups: list[Path]
    temp_dirs: list[Path]

    @classmethod
    def take(cls, server: int, temp_roots: list[Path]) -> Footprint:
        dirs = cgroup_dirs(server)
        return cls(
            server=server,
            uids=leased_uids(server),
            processes=descendants(server),
            cgroup_dirs=dirs,
            cgroups=[p for d in dirs for p in d.glob(f"codeteam-{server}-*")],
            temp_dirs=[p for root in temp_roots for p in root.iterdir()],
        )

    def leftovers(self, temp_roots: list[Path], keep: frozenset[str] = frozenset()) -> list[str]:
        """What is still there now that the server has exited (empty: nothing)."""
        left = []
        for pid, start in self.processes.items():
            st = _stat(pid)
            if st is not None and st[0] != "Z" and st[19] == start:
                left.append(f"process {pid} ({Path(f'/proc/{pid}/comm').read_text().strip()})")
        holders = _lock_holders()
        for uid, inode in self.uids.items():
            if self.server in holders.get(inode, set()):
                left.append(f"uid lease {uid} still locked")
            if holders.get(inode):
                continue  # leased again by another server since: its processes are its own
            for pid in _pids():
                if _uid(pid) == uid:
                    left.append(f"process {pid} of sandbox uid {uid}")
        for d in self.cgroup_dirs:
            left += [f"cgroup {p}" for p in d.glob(f"codeteam-{self.server}-*")]
        for root in temp_roots:
            left += [f"temp {p}" for p in root.iterdir() if p.name not in keep]
        return left
