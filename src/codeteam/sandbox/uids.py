"""Lease host uids for sandbox slots, exclusively across every server on the machine.

A slot's uid is swept (every process of it killed) before reuse, so two servers must never
share one: Claude Code starts a stdio server per session, all with the same settings. Each
uid is leased by holding an exclusive ``flock`` on a lock file; the kernel drops the lock
when the holder dies, so a crashed server never leaks its range.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from codeteam.sandbox.spec import SandboxUnavailable

#: How far above the base to look for free uids before giving up.
SEARCH_SPAN = 4096
#: Machine-wide, whatever each server's state directory: the uids are machine-wide too.
LOCK_DIR = Path("/run/codeteam/uids")


class UidLease:
    """Holds the locks of the uids one server uses; released when closed or at exit."""

    def __init__(self, lock_dir: Path, base: int, count: int) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        self.uids: list[int] = []
        self._fds: list[int] = []
        for uid in range(base, base + SEARCH_SPAN):
            if len(self.uids) == count:
                break
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uids.append(uid)
            self._fds.append(fd)
        if len(self.uids) < count:
            self.close()
            raise SandboxUnavailable(
                f"no {count} free sandbox uids in {base}..{base + SEARCH_SPAN - 1}: too many "
                "servers running; stop some or lower --max-concurrency"
            )

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
