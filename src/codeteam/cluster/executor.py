"""The Ray executor: specs run on a Ray cluster's nodes, in their bubblewrap sandboxes.

The server itself never imports Ray: a child process, the agent
(:mod:`codeteam.cluster.agent`), is the Ray driver, and this executor speaks to it over a
socket pair. Ray ends a driver's process when the cluster's control store is lost; here
that only ends the agent: the calls it had answer ``isError`` with the reason, and the
next call starts a new agent (reconnects), while the server keeps serving.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codeteam.cluster import wire
from codeteam.config import ConfigError, Settings
from codeteam.sandbox.spec import Prestart, SandboxResult, SandboxSpec
from codeteam.tools.base import ToolError, ran_on
from codeteam.trace import mark

#: How long connecting (Ray's driver start, one host actor per node) may take.
CONNECT_S = 120.0
#: Ray's defaults for the agent: give up connecting after ~5 tries, and end the driver
#: (so the server reconnects) after 20 s without the control store instead of 60.
AGENT_ENV = {"RAY_NUM_REDIS_GET_RETRIES": "5", "RAY_gcs_rpc_server_reconnect_timeout_s": "20"}
#: After a failed connection, calls within this long answer the same error at once.
RECONNECT_PAUSE_S = 2.0


class _Agent:
    """One running agent process and the calls waiting on its answers."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self.proc, self.sock = proc, sock
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.reading: asyncio.Task[None] | None = None
        self.next_id = 0

    async def attach(self, on_lost: Any) -> None:
        self.sock.setblocking(False)
        reader, self.writer = await asyncio.open_connection(sock=self.sock)
        self.reading = asyncio.ensure_future(self._read(reader, on_lost))

    async def _read(self, reader: asyncio.StreamReader, on_lost: Any) -> None:
        try:
            while True:
                message = await wire.read(reader)
                assert isinstance(message, tuple)
                future = self.pending.pop(message[1], None)
                if future is None or future.done():
                    continue
                if message[0] == "done":
                    future.set_result(message[2])
                else:
                    future.set_exception(ToolError(message[2], message[3]))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        code = await asyncio.to_thread(self.proc.wait)
        on_lost(self, code)

    async def call(self, *message: object) -> Any:
        assert self.writer is not None
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        frame = wire.encode((message[0], self.next_id, *message[1:]))
        mark("S1 server send")
        self.writer.write(frame)
        return await future

    def fail_all(self, error: ToolError) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        else:
            self.sock.close()
        try:  # it ends when its socket closes; Ray's exit hooks may hang on a lost cluster
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 2)
        except TimeoutError:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)


def start_agent(settings: Settings) -> _Agent:
    """Start an agent and wait until it is connected (blocking): a one-line
    :class:`ConfigError` when the cluster cannot be used."""
    _check_reachable(settings.ray_address)
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeteam.cluster.agent", str(theirs.fileno())],
        pass_fds=[theirs.fileno()],
        stdin=subprocess.DEVNULL,
        env={**AGENT_ENV, **os.environ},
        start_new_session=True,  # a ^C to the server's terminal is the server's to handle
    )
    theirs.close()
    try:
        ours.settimeout(CONNECT_S)
        ours.sendall(wire.encode((settings, settings.ray_address)))
        first = wire.read_blocking(ours)
    except (OSError, EOFError) as exc:
        proc.kill()
        proc.wait()
        ours.close()
        why = "timed out" if isinstance(exc, TimeoutError) else f"exit {proc.returncode}"
        raise ConfigError(
            f"cannot reach the Ray cluster at {settings.ray_address} ({why}): "
            "start it (ray start --head) or pass --ray-address"
        ) from None
    assert isinstance(first, tuple)
    if first[0] != "ready":
        proc.wait()
        ours.close()
        raise ConfigError(str(first[1]))
    return _Agent(proc, ours)


def _check_reachable(address: str) -> None:
    """Fail at once when nothing listens at ``address`` (Ray itself retries for long)."""
    host, _, port = address.rpartition(":")
    if address == "auto" or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): start it "
            "(ray start --head) or pass --ray-address"
        ) from None


#: An agent started before serving (``codeteam serve`` checks the cluster at start-up),
#: taken over by the first executor with the same settings.
_started: tuple[Settings, _Agent] | None = None


def connect_at_start(settings: Settings) -> None:
    """Fail before serving (exit 2, one line) when the cluster cannot be reached."""
    global _started
    _started = (settings, start_agent(settings))


@dataclass
class _Link:
    """The agent connection, shared by an executor and its unbounded-memory view."""

    settings: Settings
    agent: _Agent | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    failed: tuple[float, str] | None = None  # when the last connection failed, and why

    async def get(self) -> _Agent:
        global _started
        if self.agent is not None:
            return self.agent
        async with self.lock:
            if self.agent is not None:
                return self.agent
            if self.failed and time.monotonic() - self.failed[0] < RECONNECT_PAUSE_S:
                raise ToolError(self.failed[1], "unavailable")
            if _started is not None and _started[0] == self.settings:
                agent = _started[1]
                _started = None
            else:
                try:
                    agent = await asyncio.to_thread(start_agent, self.settings)
                except ConfigError as exc:
                    self.failed = (time.monotonic(), f"{exc}; retrying")
                    raise ToolError(self.failed[1], "unavailable") from None
            self.failed = None
            await agent.attach(self._lost)
            self.agent = agent
            return agent

    def _lost(self, agent: _Agent, code: int) -> None:
        if self.agent is agent:
            self.agent = None
        agent.fail_all(
            ToolError(
                f"lost the Ray cluster at {self.settings.ray_address} (its driver exited with "
                f"{code}: is the head node up?); reconnecting on the next call",
                "unavailable",
            )
        )

    async def close(self) -> None:
        if self.agent is not None:
            agent, self.agent = self.agent, None
            await agent.close()


@dataclass
class RayExecutor:
    """The :class:`~codeteam.executor.Executor` of ``--executor ray``; creating one does
    no I/O (the agent starts on the first run, unless one was started at start-up)."""

    settings: Settings
    unbounded: bool = False
    link: _Link = field(init=False)

    def __post_init__(self) -> None:
        self.link = _Link(self.settings)

    async def run(self, spec: SandboxSpec, prestart: Prestart | None = None) -> SandboxResult:
        agent = await self.link.get()
        result: SandboxResult = await agent.call("run", spec, prestart, self.unbounded)
        mark("S2 server result")
        ran_on.set(result.node)
        return result

    async def stats(self) -> dict[str, dict[str, int]]:
        """Each node's host's counters, by node id."""
        agent = await self.link.get()
        stats: dict[str, dict[str, int]] = await agent.call("stats")
        return stats

    def cache_dir(self, name: str) -> Path:
        """Where each node keeps the cache ``name``: a node makes its own on first use."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad cache name {name!r}: use a plain directory name")
        return self.settings.state_dir / "cache" / name

    def unbounded_memory(self) -> RayExecutor:
        view = replace(self, unbounded=True)
        view.link = self.link
        return view

    def code_identity(self) -> tuple[int, frozenset[int]]:
        """A slot uid of some node: a stranger to this machine's files."""
        uid = self.settings.sandbox_uid_base
        return uid, frozenset([uid])

    async def aclose(self) -> None:
        await self.link.close()
