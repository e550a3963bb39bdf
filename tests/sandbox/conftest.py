"""Real bubblewrap, real uids: the sandbox tests run as root with /usr/bin/bwrap.

Under ``CI=true`` a missing bubblewrap fails the tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from codeteam.config import Settings
from codeteam.sandbox import Sandbox, procs
from codeteam.sandbox.cgroup import pids

T = TypeVar("T")

PY = "/usr/bin/python3"  # Debian's python: readable by the sandbox uids, unlike pyenv's
#: Not the default 61000: servers started by other test suites on this machine sweep those.
UID_BASE = 63000


def require_bwrap() -> None:
    if shutil.which("bwrap") is None or not os.path.exists("/usr/bin/bwrap"):
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is missing: install it (apt-get install bubblewrap)")
        pytest.skip("bubblewrap is not installed")
    if os.geteuid() != 0:
        pytest.skip("these tests prove the per-slot uids, which need root")


@contextlib.contextmanager
def host_dir(prefix: str, mode: int = 0o711) -> Iterator[Path]:
    """A new directory under /var/tmp with ``mode``, removed after (pytest's tmp_path is
    0700, which the sandbox uids cannot cross)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    path.chmod(mode)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """World-searchable, for the sandbox uids."""
    with host_dir("codeteam-test-") as path:
        yield path


def make_settings(state_dir: Path, **kw: object) -> Settings:
    kw.setdefault("sandbox_uid_base", UID_BASE)
    return Settings(roots=(state_dir,), state_dir=state_dir / "state", **kw)  # type: ignore[arg-type]


@pytest.fixture
async def sandbox(state_dir: Path) -> AsyncIterator[Sandbox]:
    require_bwrap()
    sb = Sandbox.from_settings(make_settings(state_dir, max_concurrency=3))
    yield sb
    await sb.aclose()


def uid_processes(uid: int, zombies: bool = False) -> list[int]:
    """Host processes of ``uid`` (zombies too when asked: they count against RLIMIT_NPROC)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        zombie = fields["State"].strip().startswith("Z")
        if int(fields["Uid"].split()[0]) == uid and (zombies or not zombie):
            found.append(int(entry))
    return found


def zombie_children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        rest = raw[raw.rfind(b")") + 2 :].split()
        if rest[0] == b"Z" and int(rest[1]) == me:
            found.append(int(entry))
    return found


def sandbox_processes(sandbox: Sandbox, zombies: bool = False) -> list[int]:
    """Host processes of any uid this sandbox runs code as."""
    return [pid for uid in sandbox.slot_uids() for pid in uid_processes(uid, zombies)]


async def outside_slot_cgroups(sandbox: Sandbox, call: Awaitable[T]) -> tuple[T, list[int], int]:
    """Await ``call`` while watching the host: (its result, the processes of the slot uids
    seen outside every slot cgroup on two samples in a row, how many were seen inside one).

    One sample is not proof: a process that has begun to exit has already left its cgroup's
    ``cgroup.procs`` while ``/proc`` still lists it (skipped by its PF_EXITING flag), and a child
    is in ``/proc`` a moment before the kernel links it to its parent's cgroup."""
    cgroups = sandbox.memory_cgroups
    assert not isinstance(cgroups, str)
    task = asyncio.ensure_future(call)
    outside: set[int] = set()
    inside: set[int] = set()
    suspects: set[int] = set()
    while not task.done():
        running = sandbox_processes(sandbox)  # first: a process in a cgroup stays in it
        members = {pid for path in cgroups.made for pid in pids(path / "cgroup.procs")}
        inside.update(members.intersection(running))
        seen = {pid for pid in running if pid not in members and procs.running(pid)}
        outside.update(seen & suspects)
        suspects = seen
        await asyncio.sleep(0.01)
    return await task, sorted(outside), len(inside)
