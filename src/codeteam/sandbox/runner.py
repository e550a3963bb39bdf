"""Supervise one spawned process tree: feed stdin, drain both pipes to the end, enforce the
wall clock and the output flood limit, and kill the tree when asked or cancelled.

Backend-neutral: the caller says how to spawn and how to kill "the whole tree".
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from codeteam.sandbox.output import CappedBuffer
from codeteam.sandbox.spec import LimitName

#: A run that writes this many times the cap is killed (limit ``output``); up to then the
#: excess is read and dropped, so a chatty program still finishes normally.
FLOOD_FACTOR = 16
_CHUNK = 1 << 16
#: How long a killed tree may take to close its pipes before we stop reading them.
SETTLE_S = 10.0


@dataclass(frozen=True)
class Outcome:
    returncode: int  # as asyncio reports it: negative = killed by that signal
    stdout: bytes
    stderr: bytes
    truncated: bool
    timed_out: bool
    killed_for: LimitName | None  # a limit we enforced by killing: wall_clock | output
    duration_ms: float


@dataclass(frozen=True)
class Launch:
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str
    pass_fds: Sequence[int] = ()
    user: int | None = None  # host uid/gid to run as (None: stay who we are)
    group: int | None = None


class Supervisor:
    """One spawned tree; :meth:`stop` may be called from anywhere to kill it for a reason."""

    def __init__(self, launch: Launch, kill_tree: Callable[[int], None]) -> None:
        self._launch = launch
        self._kill_tree = kill_tree
        self._killed_for: LimitName | None = None
        self.pid: int | None = None

    def stop(self, reason: LimitName) -> None:
        if self._killed_for is None:
            self._killed_for = reason
        if self.pid is not None:
            self._kill_tree(self.pid)

    async def run(
        self,
        *,
        stdin: bytes,
        timeout_s: float,
        output_cap: int,
        on_spawn: Callable[[int], None],
    ) -> Outcome:
        """Run to completion or until a limit; re-raises cancellation after killing."""
        launch = self._launch
        extra: dict[str, object] = {}
        if launch.user is not None:
            extra = {"user": launch.user, "group": launch.group, "extra_groups": []}
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(launch.env),
            cwd=launch.cwd,
            pass_fds=tuple(launch.pass_fds),
            start_new_session=True,
            **extra,  # type: ignore[arg-type]
        )
        self.pid = proc.pid
        on_spawn(proc.pid)
        if self._killed_for is not None:
            self._kill_tree(proc.pid)
        out, err = CappedBuffer(output_cap), CappedBuffer(output_cap)
        flood_at = FLOOD_FACTOR * max(output_cap, _CHUNK)

        async def drain(stream: asyncio.StreamReader | None, buf: CappedBuffer) -> None:
            assert stream is not None
            while chunk := await stream.read(_CHUNK):
                buf.feed(chunk)
                if out.total + err.total > flood_at and self._killed_for is None:
                    self.stop("output")

        async def feed() -> None:
            if proc.stdin is None:
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.close()

        async def everything() -> int:
            await asyncio.gather(drain(proc.stdout, out), drain(proc.stderr, err), feed())
            return await proc.wait()

        task = asyncio.ensure_future(everything())
        timed_out = False
        try:
            try:
                returncode = await asyncio.wait_for(asyncio.shield(task), timeout_s)
            except TimeoutError:
                timed_out = True
                self.stop("wall_clock")
                returncode = await _settle(task, proc)
        except asyncio.CancelledError:
            self.stop("cancelled")
            with contextlib.suppress(BaseException):
                await _settle(task, proc)
            raise
        return Outcome(
            returncode=returncode,
            stdout=out.getvalue(),
            stderr=err.getvalue(),
            truncated=out.truncated or err.truncated,
            timed_out=timed_out,
            killed_for=self._killed_for,
            duration_ms=(time.perf_counter() - started) * 1000,
        )


async def _settle(task: asyncio.Future[int], proc: asyncio.subprocess.Process) -> int:
    """The exit status after a kill; gives up on pipes something outside the tree holds."""
    try:
        return await asyncio.wait_for(asyncio.shield(task), SETTLE_S)
    except TimeoutError:
        task.cancel()
        return proc.returncode if proc.returncode is not None else -9
