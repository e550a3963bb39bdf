"""Supervise one spawned process tree: feed stdin, drain both pipes to the end, enforce the
wall clock and the output flood limit, and kill the tree when asked or cancelled.

Backend-neutral: the caller says how to spawn and how to kill "the whole tree".
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
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


class Supervisor:
    """One spawned tree; :meth:`stop` may be called from anywhere to kill it for a reason."""

    def __init__(
        self,
        launch: Launch,
        kill_tree: Callable[[int], None],
    ) -> None:
        self._launch = launch
        self._kill_tree = kill_tree
        self._killed_for: LimitName | None = None
        self.pid: int | None = None
        self._proc: asyncio.subprocess.Process | None = None

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
        """Spawn, then :meth:`supervise`; re-raises cancellation after killing."""
        await self.spawn(stdin_pipe=bool(stdin), on_spawn=on_spawn)
        return await self.supervise(stdin=stdin, timeout_s=timeout_s, output_cap=output_cap)

    async def spawn(self, *, stdin_pipe: bool, on_spawn: Callable[[int], None]) -> None:
        """Start the tree (a pooled sandbox is spawned long before it is supervised)."""
        launch = self._launch
        self._proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(launch.env),
            cwd=launch.cwd,
            pass_fds=tuple(launch.pass_fds),
            start_new_session=True,
        )
        self.pid = self._proc.pid
        on_spawn(self._proc.pid)
        if self._killed_for is not None:
            self._kill_tree(self._proc.pid)

    async def supervise(
        self,
        *,
        stdin: bytes,
        timeout_s: float,
        output_cap: int,
        dispatch: Callable[[], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Feed stdin, drain, and wait, all within ``timeout_s`` counted from now.

        ``dispatch`` (a pooled sandbox's program hand-over) is awaited first, inside the
        wall clock. Re-raises cancellation after killing the tree.
        """
        proc = self._proc
        assert proc is not None, "spawn() first"
        started = time.perf_counter()
        out, err = CappedBuffer(output_cap), CappedBuffer(output_cap)
        flood_at = FLOOD_FACTOR * max(output_cap, _CHUNK)

        async def everything() -> int:
            await asyncio.gather(
                self._drain(proc.stdout, out, out, err, flood_at),
                self._drain(proc.stderr, err, out, err, flood_at),
                _feed(proc, stdin, dispatch),
            )
            return await proc.wait()

        returncode, timed_out = await self._wait(asyncio.ensure_future(everything()), timeout_s)
        return Outcome(
            returncode=returncode,
            stdout=out.getvalue(),
            stderr=err.getvalue(),
            truncated=out.truncated or err.truncated,
            timed_out=timed_out,
            killed_for=self._killed_for,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _drain(
        self,
        stream: asyncio.StreamReader | None,
        into: CappedBuffer,
        out: CappedBuffer,
        err: CappedBuffer,
        flood_at: int,
    ) -> None:
        """Read one pipe to its end into ``into``; once both pipes together carried
        ``flood_at`` bytes, the tree is killed (limit ``output``)."""
        assert stream is not None
        while chunk := await stream.read(_CHUNK):
            into.feed(chunk)
            if out.total + err.total > flood_at and self._killed_for is None:
                self.stop("output")

    async def _wait(self, task: asyncio.Future[int], timeout_s: float) -> tuple[int, bool]:
        """The exit status, and whether the wall clock ran out (the tree is then killed,
        limit ``wall_clock``). Cancelled: kills the tree (``cancelled``) and re-raises."""
        proc = self._proc
        assert proc is not None
        try:
            try:
                return await asyncio.wait_for(asyncio.shield(task), timeout_s), False
            except TimeoutError:
                self.stop("wall_clock")
                return await _settle(task, proc), True
        except asyncio.CancelledError:
            self.stop("cancelled")
            with contextlib.suppress(BaseException):
                await _settle(task, proc)
            raise


async def _feed(
    proc: asyncio.subprocess.Process,
    stdin: bytes,
    dispatch: Callable[[], Awaitable[None]] | None,
) -> None:
    """Hand a pooled sandbox its program (``dispatch``), then write ``stdin`` and close it."""
    if dispatch is not None:
        with contextlib.suppress(OSError):
            await dispatch()
    if proc.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(stdin)
        await proc.stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.close()
        # collects the pipe's closing error (a program that never read its input),
        # which asyncio would otherwise log as never retrieved
        await proc.stdin.wait_closed()


async def _settle(task: asyncio.Future[int], proc: asyncio.subprocess.Process) -> int:
    """The exit status after a kill; gives up on pipes something outside the tree holds."""
    try:
        return await asyncio.wait_for(asyncio.shield(task), SETTLE_S)
    except TimeoutError:
        task.cancel()
        return proc.returncode if proc.returncode is not None else -9
