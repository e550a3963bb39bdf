"""Signals between a test and the code it runs in a sandbox, through files in a directory
bound writable at ``/signal``: the code reports how far it got, the test waits for that
under a deadline (never a fixed sleep) and may then release the code to go on.

A negative assertion ("nothing shows X") is made only once the code has reported that it is
running, so that it could fail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from codeteam.sandbox import Bind

#: Deadline for the code to report: generous, the machine is shared and slow.
DEADLINE_S = 60.0


class Signals:
    def __init__(self, directory: Path) -> None:
        directory.mkdir()
        directory.chmod(0o777)  # the sandbox's uid writes here
        self.directory = directory
        self.bind = Bind(directory, "/signal", writable=True)

    @staticmethod
    def report(name: str) -> str:
        """One line of Python for the sandboxed code: say that it reached ``name``."""
        return f"open('/signal/{name}', 'w').close()"

    @staticmethod
    def await_release(name: str) -> str:
        """One line of Python for the sandboxed code: wait until the test releases ``name``."""
        return (
            f"while not __import__('os').path.exists('/signal/{name}'): "
            "__import__('time').sleep(0.01)"
        )

    async def reached(self, name: str, task: asyncio.Future[object] | None = None) -> None:
        """Wait until the code reports ``name``; fail at the deadline, or at once if ``task``
        (the run) ended without reporting."""

        def reported() -> bool:
            if task is not None and task.done():
                raise AssertionError(f"the code ended before reporting {name!r}: {task.result()}")
            return (self.directory / name).exists()

        await until(reported, f"the code reports {name!r}")

    def release(self, name: str) -> None:
        (self.directory / name).touch()


async def until(holds: Callable[[], bool], what: str) -> None:
    """Wait until ``holds()``; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not holds():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE_S} s: {what}")
        await asyncio.sleep(0.01)
