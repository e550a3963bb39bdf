"""The cluster agent: the one process of a server that is a Ray driver.

Started by :class:`codeteam.cluster.executor.RayExecutor` as a child speaking
:mod:`codeteam.cluster.wire` frames over a socket pair. Ray lives here and nowhere in the
server: Ray ends a driver's process when it loses the cluster's control store (GCS), and
the server must keep serving (and answer that the cluster is lost) when that happens.

It keeps one sandbox host actor (:mod:`codeteam.cluster.host`) on every live node and a
direct connection to each (:mod:`codeteam.cluster.channel`: a Ray actor call cost ~3.5 ms
a round trip; calls that bind a project snapshot still go as Ray calls, their snapshot in
the object store), sends each call to the node with the most free slots, queues at most
``ray_queue`` calls cluster-wide (beyond that a call is refused at once: "cluster busy,
retry in N s"), and retries a call once on another node when its node dies mid-call (a
sandboxed execution has no effect outside its sandbox, so running it again is safe).

Messages in: ``("run", id, spec, prestart, unbounded)``, ``("stats",  id)``.
Messages out: ``("ready", nodes)`` or ``("fail", line)`` once; then ``("done", id, result)``
and ``("error", id, message, status)``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codeteam.cluster import wire
from codeteam.cluster.channel import Channel, Lost
from codeteam.cluster.host import Failure, SandboxHost, worker_env
from codeteam.cluster.projects import PackError, pack
from codeteam.config import Settings
from codeteam.sandbox.spec import Prestart, SandboxResult, SandboxSpec
from codeteam.tools.snapshot import Reader
from codeteam.trace import mark

NAMESPACE = "codeteam"
#: How often the agent looks for nodes that joined or left.
REFRESH_S = 1.0
#: Project snapshots whose object-store copy the agent keeps for reuse.
KEPT_SNAPSHOTS = 16
#: How long a new node's host may take to start (a fresh Ray worker process).
STARTUP_S = 120.0


class Busy(Exception):
    """The cluster-wide queue is full."""


@dataclass
class Node:
    node_id: str
    actor: Any
    slots: int
    channel: Channel
    busy: int = 0
    down: bool = False  # its host failed a call: not chosen until it answers again

    @property
    def up(self) -> bool:
        return not self.down and not self.channel.closed

    @property
    def free(self) -> int:
        return self.slots - self.busy if self.up else 0


@dataclass
class Cluster:
    """The live nodes' hosts and the dispatch over them."""

    settings: Settings
    nodes: dict[str, Node] = field(default_factory=dict)
    waiters: collections.deque[asyncio.Future[None]] = field(default_factory=collections.deque)
    mean_s: float = 0.05  # a call's recent mean duration, to tell a refused call when to retry
    starting: set[str] = field(default_factory=set)
    snapshots: collections.OrderedDict[str, Any] = field(default_factory=collections.OrderedDict)

    # -- nodes --------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Start a host on each new live node, bring back hosts that answer again, and
        forget nodes that are gone."""
        import ray

        alive = {
            n["NodeID"]: n["NodeManagerAddress"]
            for n in await asyncio.to_thread(ray.nodes)
            if n["Alive"]
        }
        for gone in set(self.nodes) - set(alive):
            node = self.nodes.pop(gone)
            node.channel.close()  # a dead machine may never close it: its calls retry now
            ray.kill(node.actor, no_restart=True)
        new = set(alive) - set(self.nodes) - self.starting
        down = [n for n in self.nodes.values() if not n.up]
        await asyncio.gather(
            *(self._start_host(node_id, alive[node_id]) for node_id in new),
            *(self._probe(n) for n in down),
        )
        self._wake()

    async def _start_host(self, node_id: str, ip: str) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.starting.add(node_id)
        actor: Any = None
        try:
            actor = (
                ray.remote(SandboxHost)
                .options(
                    num_cpus=0,
                    max_restarts=-1,
                    max_task_retries=0,
                    max_concurrency=10_000,
                    runtime_env={"env_vars": worker_env()},
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
                )
                .remote(self.settings, node_id, ip)
            )
            _, slots, address = await asyncio.wait_for(actor.ready.remote(), STARTUP_S)
            self.nodes[node_id] = Node(node_id, actor, slots, await Channel.connect(address))
        except Exception as exc:  # a node that dies while its host starts: tried again later
            print(f"codeteam agent: no host on node {_short(node_id)}: {exc}", file=sys.stderr)
            if actor is not None:  # else it would keep the node's uid leases
                ray.kill(actor, no_restart=True)
        finally:
            self.starting.discard(node_id)

    async def _probe(self, node: Node) -> None:
        with contextlib.suppress(Exception):
            _, _, address = await asyncio.wait_for(node.actor.ready.remote(), REFRESH_S)
            if node.channel.closed:  # its host restarted (a new process: a new channel)
                node.channel = await Channel.connect(address)
            node.down = False

    # -- dispatch -----------------------------------------------------------------------

    def _pick(self, avoid: str | None) -> Node | None:
        choices = [n for n in self.nodes.values() if n.free > 0 and n.node_id != avoid]
        return max(choices, key=lambda n: n.free) if choices else None

    async def acquire(self, avoid: str | None = None) -> Node:
        """The node with the most free slots (preferably not ``avoid``), waiting in the
        bounded queue when every slot is taken."""
        if not any(n.up for n in self.nodes.values()):
            raise Failure("no node of the Ray cluster is up", "unavailable")
        node = None if self.waiters else self._pick(avoid) or self._pick(None)
        if node is None and len(self.waiters) >= self.settings.ray_queue:
            raise Busy
        while node is None:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
            node = self._pick(avoid) or self._pick(None)
        node.busy += 1
        return node

    def release(self, node: Node, took_s: float) -> None:
        node.busy -= 1
        self.mean_s += (took_s - self.mean_s) * 0.05
        self._wake()

    def _wake(self) -> None:
        free = sum(n.free for n in self.nodes.values())
        for waiter in list(self.waiters)[: max(free, 0)]:
            if not waiter.done():
                waiter.set_result(None)

    def slots(self) -> int:
        return sum(n.slots for n in self.nodes.values() if n.up)

    def retry_after_s(self) -> int:
        return max(1, round(len(self.waiters) * self.mean_s / max(self.slots(), 1) + 0.5))

    # -- calls --------------------------------------------------------------------------

    async def run(self, spec: SandboxSpec, prestart: Prestart | None, unbounded: bool) -> Any:
        from ray.exceptions import RayActorError

        snapshots = await self._snapshots(spec)
        failed: Node | None = None
        for attempt in (1, 2):
            node = await self.acquire(failed.node_id if failed else None)
            started = time.monotonic()
            try:
                mark("A2 agent submit")
                if snapshots:  # their object refs ride with a Ray call
                    result = await node.actor.run.remote(spec, prestart, unbounded, snapshots)
                else:
                    result = await node.channel.call(spec, prestart, unbounded)
                mark("A3 agent result")
            except (RayActorError, Lost) as exc:
                node.down = True  # back once it answers again (see refresh)
                if attempt == 2:
                    raise Failure(
                        f"node {_short(node.node_id)} died while running the call, after node "
                        f"{_short(failed.node_id if failed else '?')} had: {_first_line(exc)}",
                        "unavailable",
                    ) from None
                failed = node
                continue
            finally:
                self.release(node, time.monotonic() - started)
            if isinstance(result, Failure):
                raise result
            return result
        raise AssertionError("unreachable")

    async def _snapshots(self, spec: SandboxSpec) -> dict[str, tuple[str, list[Any]]]:
        """Each bound project (not a cache) packed and put in the object store."""
        import ray

        caches = self.settings.state_dir / "cache"
        out: dict[str, tuple[str, list[Any]]] = {}
        for bind in spec.binds:
            if bind.source.is_relative_to(caches):
                continue
            if bind.writable:
                raise Failure(
                    f"cannot run on another node: {bind.target} would be written back",
                    "rejected",
                )
            packed = await asyncio.to_thread(
                pack, bind.source, _stranger(self.settings), self.settings.snapshot_cap
            )
            ref = self.snapshots.pop(packed.digest, None) or ray.put(packed.data)
            self.snapshots[packed.digest] = ref
            while len(self.snapshots) > KEPT_SNAPSHOTS:
                self.snapshots.popitem(last=False)
            out[bind.target] = (packed.digest, [ref])
        return out


def _stranger(settings: Settings) -> Reader:
    """Who code runs as on a node, as far as the server's files are concerned: a slot uid,
    a stranger to them (only their "other" permission bits apply)."""
    uid = settings.sandbox_uid_base
    return Reader(uid, frozenset([uid]))


def _short(node_id: str) -> str:
    return node_id[:12]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def _serve(
    cluster: Cluster, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    async def answer(
        call_id: int, spec: SandboxSpec, prestart: Prestart | None, unbounded: bool
    ) -> None:
        try:
            result: SandboxResult = await cluster.run(spec, prestart, unbounded)
            message: tuple[object, ...] = ("done", call_id, result)
        except Busy:
            message = (
                "error",
                call_id,
                f"cluster busy: {len(cluster.waiters)} calls are queued for "
                f"{cluster.slots()} slots; retry in "
                f"{cluster.retry_after_s()} s",
                "unavailable",
            )
        except Failure as exc:
            message = ("error", call_id, exc.message, exc.status)
        except PackError as exc:
            message = ("error", call_id, str(exc), "rejected")
        except Exception as exc:  # a bug or a Ray error: the call's answer, never a crash
            message = (
                "error",
                call_id,
                f"cluster: {type(exc).__name__}: {_first_line(exc)}",
                "unavailable",
            )
        frame = wire.encode(message)
        mark("A4 agent answer")
        writer.write(frame)

    tasks: set[asyncio.Task[None]] = set()
    while True:
        try:
            message = await wire.read(reader)
            mark("A1 agent call")
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the server is gone: so is this agent
        assert isinstance(message, tuple)
        if message[0] == "run":
            _, call_id, spec, prestart, unbounded = message
            task = asyncio.ensure_future(answer(call_id, spec, prestart, unbounded))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elif message[0] == "stats":
            stats = {n.node_id: await n.actor.stats.remote() for n in list(cluster.nodes.values())}
            writer.write(wire.encode(("done", message[1], stats)))


async def _refresh_forever(cluster: Cluster) -> None:
    while True:
        await asyncio.sleep(REFRESH_S)
        try:
            await cluster.refresh()
        except Exception as exc:
            print(f"codeteam agent: node refresh failed: {exc}", file=sys.stderr)


async def main(fd: int) -> int:
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    first = wire.read_blocking(sock)
    assert isinstance(first, tuple)
    settings, address = first
    assert isinstance(settings, Settings) and isinstance(address, str)
    import ray

    try:
        ray.init(
            address=address,
            namespace=NAMESPACE,
            log_to_driver=False,
            logging_level=logging.ERROR,
            configure_logging=False,
        )
    except Exception as exc:
        sock.sendall(
            wire.encode(("fail", f"cannot reach the Ray cluster at {address}: {_first_line(exc)}"))
        )
        return 2
    cluster = Cluster(settings)
    await cluster.refresh()
    if not cluster.nodes:
        sock.sendall(
            wire.encode(("fail", f"the Ray cluster at {address} has no node with a sandbox host"))
        )
        return 2
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(wire.encode(("ready", sorted(cluster.nodes))))
    refresher = asyncio.ensure_future(_refresh_forever(cluster))
    try:
        await _serve(cluster, reader, writer)
    finally:
        refresher.cancel()
    return 0


def run_agent(argv: Sequence[str]) -> int:
    return asyncio.run(main(int(argv[0])))


if __name__ == "__main__":
    sys.exit(run_agent(sys.argv[1:]))
