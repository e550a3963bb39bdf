"""Run one untrusted process tree isolated and limited: the only way codeteam runs code.

Backends: ``bubblewrap`` (the default; refuses to run when bwrap is missing or fails its
probe) and ``unsafe`` (``--unsafe-no-sandbox``, development only, warns loudly once).

When the server is root, code never runs as root: a ``run`` call takes one of
``max_concurrency`` slots and runs as host uid ``sandbox_uid_base + slot`` (so
RLIMIT_NPROC is per call: one call's fork bomb cannot starve another), the ``build`` role
runs as ``sandbox_uid_base - 1``, the owner of :meth:`Sandbox.cache_dir`. As another user,
code runs as that user. A run given a :class:`Prestart` may use a pre-started sandbox of
the pool (:mod:`codeteam.sandbox.pool`). Where the server may make cgroups, each slot also has
a memory cgroup capping a call's memory as a whole (:mod:`codeteam.sandbox.cgroup`).
Module import stays light (the serving path imports this).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.config import Settings
from codeteam.sandbox.spec import (
    Bind,
    Limits,
    Prestart,
    SandboxResult,
    SandboxSpec,
    SandboxUnavailable,
)

if TYPE_CHECKING:
    import asyncio

    from codeteam.sandbox import bwrap, unsafe
    from codeteam.sandbox.cgroup import MemoryCgroups
    from codeteam.sandbox.etc import EtcTrees
    from codeteam.sandbox.pool import Pool
    from codeteam.sandbox.runner import Outcome, Supervisor
    from codeteam.sandbox.uids import UidLease

__all__ = [
    "Bind",
    "Limits",
    "Prestart",
    "Sandbox",
    "SandboxResult",
    "SandboxSpec",
    "SandboxUnavailable",
]

_FIX = "or pass --unsafe-no-sandbox on a development machine only"


@dataclass
class Tree:
    """One prepared sandbox process tree in a slot, spawned by ``supervisor``."""

    spec: SandboxSpec
    slot: int
    prepared: bwrap.Prepared | unsafe.UnsafePrepared
    supervisor: Supervisor
    on_spawn: Callable[[int], None]
    cgroup_procs: Path | None = None  # the slot's memory cgroup, if it has one
    oom_kills_before: int | None = None  # its OOM-kill count when the tree was made


@dataclass(frozen=True)
class Ended:
    """What is known of a tree once it is gone."""

    cpu_s: float | None  # CPU time of its pid 1 and all it reaped
    files: dict[str, bytes]  # the collected files
    oom_killed: bool  # the kernel's OOM killer killed in its memory cgroup meanwhile


class Sandbox:
    """Runs :class:`SandboxSpec` s; one instance per server, shared by all tools."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._root = os.geteuid() == 0
        self._free = list(range(settings.max_concurrency))
        self._sem: asyncio.Semaphore | None = None
        self._probe_lock: asyncio.Lock | None = None
        self._verdict: str | None = None  # None: not probed; "" ok; else why not
        self._running: dict[int, Supervisor] = {}  # launcher pid -> its supervisor
        self._lease: UidLease | None = None
        self._pool: Pool | None = None
        self._cgroups: MemoryCgroups | str | None = None  # str: why there are none
        self._etc: EtcTrees | None = None  # the sandboxes' prepared /etc trees
        self._subreaper = False  # this process reaps the trees' orphans (set once)
        self._warned_unsafe = False
        #: How long the pool waits after a call before refilling: 0 for a server, whose
        #: result is on its way once the call returns; a cluster node's host sets more,
        #: as its result then still crosses Ray and the agent, and a refill's spawn holds
        #: the interpreter lock and a core meanwhile (:mod:`codeteam.cluster.host`).
        self.refill_delay_s = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Sandbox:
        return cls(settings)

    @property
    def backend(self) -> str:
        return "unsafe" if self._settings.unsafe_no_sandbox else "bubblewrap"

    # -- identities -------------------------------------------------------------------

    def _identity(self, role: str, slot: int) -> tuple[int, int, bool]:
        """(uid, gid, switch): who a call runs as on the host."""
        if not self._root:
            return os.getuid(), os.getgid(), False
        base = self._settings.sandbox_uid_base
        if role == "build":
            return base - 1, base - 1, True
        if self._lease is None:
            from codeteam.sandbox.uids import LOCK_DIR, UidLease

            self._lease = UidLease(LOCK_DIR, base, self._settings.max_concurrency)
        uid = self._lease.uids[slot]
        return uid, uid, True

    def code_identity(self) -> tuple[int, frozenset[int]]:
        """Who sandboxed code runs as on the host (uid, groups), to tell whether it can
        read a host path: every slot uid is an equal stranger to the host's files."""
        if not self._root:
            return os.getuid(), frozenset([os.getgid(), *os.getgroups()])
        uid, gid, _ = self._identity("run", 0)
        return uid, frozenset([gid])

    def slot_uids(self) -> list[int]:
        """The host uids this server runs code as, slot by slot (leased on first use)."""
        return [self._identity("run", slot)[0] for slot in range(self._settings.max_concurrency)]

    @property
    def memory_cgroups(self) -> MemoryCgroups | str:
        """Where slot memory cgroups are made, or why calls have none (looked up once)."""
        if self._cgroups is None:
            from codeteam.sandbox.cgroup import MemoryCgroups

            self._cgroups = MemoryCgroups.find()
            if isinstance(self._cgroups, str) and self._root:
                print(
                    f"codeteam: no memory cgroup for calls ({self._cgroups}): each process"
                    " is still limited, a call's processes together are not",
                    file=sys.stderr,
                )
        return self._cgroups

    def cache_dir(self, name: str) -> Path:
        """A persistent directory owned by the build uid (e.g. the Go build cache), one per
        build uid: servers with different ``sandbox_uid_base`` on one state directory
        would otherwise take it from each other (each makes the top directory its own, and
        the files inside stay the other's)."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad cache name {name!r}: use a plain directory name")
        uid, gid, switch = self._identity("build", 0)
        caches = self._settings.state_dir / "cache"
        path = caches / str(uid) / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # one made before there was one per uid
                if (caches / name).stat().st_uid == uid:
                    (caches / name).rename(path)
        path.mkdir(parents=True, exist_ok=True)
        if switch:
            os.chown(path, uid, gid)
            path.chmod(0o700)
        return path

    # -- running ----------------------------------------------------------------------

    async def run(self, spec: SandboxSpec, prestart: Prestart | None = None) -> SandboxResult:
        """Run ``spec`` in a free slot (waiting for one); see the module docstring. With
        ``prestart``, in a pre-started tree of that kind when one is ready (see
        :mod:`codeteam.sandbox.pool`), else as a normal run."""
        import asyncio

        pooled = self._settings.pool_size > 0 and not self._settings.unsafe_no_sandbox
        if prestart is not None and pooled:
            return await self._prestarted().run(spec, prestart)
        await self._admit(spec)
        slot = await self._acquire_slot()
        try:
            return await self._run_in_slot(spec, slot)
        finally:
            await asyncio.shield(self._free_slot(spec.role, slot))

    def _prestarted(self) -> Pool:
        if self._pool is None:
            from codeteam.sandbox.pool import Pool

            self._pool = Pool(self, self._settings.pool_size)
        return self._pool

    # -- slots and trees (also used by the pool) --------------------------------------

    async def _admit(self, spec: SandboxSpec) -> None:
        """Refuse a bad spec or an unusable sandbox before taking a slot."""
        import asyncio

        from codeteam.sandbox.prepare import check_spec

        check_spec(spec)
        if self._settings.unsafe_no_sandbox:
            self._warn_unsafe()
        else:
            await self._ensure_probed()
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._settings.max_concurrency)

    async def _acquire_slot(self) -> int:
        """Wait for a slot; idle pooled sandboxes give theirs up rather than make us wait."""
        assert self._sem is not None
        if self._sem.locked() and self._pool is not None:
            self._pool.evict_one()
        await self._sem.acquire()
        return self._free.pop(self._free.index(min(self._free)))

    async def _try_slot(self, keep_free: int) -> int | None:
        """A slot now, if more than ``keep_free`` are free and nobody waits; else None."""
        if self._sem is None or self._sem.locked() or len(self._free) <= keep_free:
            return None
        await self._sem.acquire()  # uncontended: returns without suspending
        return self._free.pop(self._free.index(min(self._free)))

    async def _free_slot(self, role: str, slot: int) -> None:
        try:
            await self._release(role, slot)
        finally:
            assert self._sem is not None
            self._sem.release()

    async def _release(self, role: str, slot: int) -> None:
        from codeteam.sandbox import procs

        uid, _, switch = self._identity(role, slot)
        if switch and role == "run":
            cgroups = self._cgroups
            if cgroups is None or isinstance(cgroups, str) or self._settings.unsafe_no_sandbox:
                await procs.sweep_uid(uid)
            else:  # every process of the slot's calls is in its cgroups: no scan of /proc
                await procs.sweep(lambda: cgroups.members(slot))
        self._free.append(slot)

    async def _run_in_slot(self, spec: SandboxSpec, slot: int) -> SandboxResult:
        from codeteam.sandbox.launch import join_refused

        tree = self._new_tree(spec, slot)
        outcome: Outcome | None = None
        try:
            outcome = await tree.supervisor.run(
                stdin=spec.stdin,
                timeout_s=spec.timeout_s,
                output_cap=spec.output_cap,
                on_spawn=tree.on_spawn,
            )
        finally:
            ended = await self._end_tree(tree, outcome)
        if tree.cgroup_procs is not None and (why := join_refused(outcome)):
            raise SandboxUnavailable(why)
        return _result(outcome, ended, spec)

    def _new_tree(self, spec: SandboxSpec, slot: int, pass_fds: Sequence[int] = ()) -> Tree:
        """Prepare (not spawn) ``spec`` in ``slot``; ``pass_fds`` are handed to the tree."""
        from codeteam.sandbox import bwrap, cgroup, procs, unsafe
        from codeteam.sandbox.cgroup import CgroupError, MemoryCgroups
        from codeteam.sandbox.runner import Supervisor

        if not self._subreaper:
            self._subreaper = procs.become_subreaper()
        uid, gid, switch = self._identity(spec.role, slot)
        prepared: bwrap.Prepared | unsafe.UnsafePrepared
        cgroup_procs = None
        if self._settings.unsafe_no_sandbox:
            assert not pass_fds, "the unsafe backend passes no extra descriptors"
            prepared = unsafe.prepare(spec, uid=uid, gid=gid, switch_user=switch)
        else:
            cgroups = self.memory_cgroups
            if isinstance(cgroups, MemoryCgroups):
                try:
                    cgroup_procs = cgroups.procs(slot, spec.limits.call_memory_bytes)
                except CgroupError as exc:
                    raise SandboxUnavailable(str(exc)) from None
            prepared = bwrap.prepare(
                spec,
                uid=uid,
                gid=gid,
                switch_user=switch,
                runtime=self._settings.runtime,
                etc=self._etc_tree(uid, gid),
                pass_fds=pass_fds,
                cgroup_procs=cgroup_procs,
            )
        sweep_uid = uid if switch and spec.role == "run" else None
        unsafe_mode = self._settings.unsafe_no_sandbox

        def kill_tree(pid: int) -> None:
            ns = prepared.ns_pid()
            if ns is not None:
                procs.kill(ns)  # the sandbox's pid 1: the kernel kills its whole namespace
            if unsafe_mode:
                procs.killpg(pid)
            procs.kill(pid)
            if sweep_uid is not None:
                for other in procs.pids_of_uid(sweep_uid):
                    procs.kill(other)

        supervisor = Supervisor(prepared.launch, kill_tree)

        def on_spawn(pid: int) -> None:
            self._running[pid] = supervisor
            prepared.spawned()

        oom_before = None if cgroup_procs is None else cgroup.oom_kills(cgroup_procs)
        return Tree(spec, slot, prepared, supervisor, on_spawn, cgroup_procs, oom_before)

    async def _end_tree(self, tree: Tree, outcome: Outcome | None) -> Ended:
        """After the launcher is gone: settle the namespace, collect, free host resources."""
        from codeteam.sandbox import procs
        from codeteam.sandbox.cgroup import oom_kills

        supervisor, prepared = tree.supervisor, tree.prepared
        if supervisor.pid is not None:
            self._running.pop(supervisor.pid, None)
        ns_pid = prepared.ns_pid()
        cpu_s = await _settle_namespace(ns_pid)
        collected = prepared.read_collected(tree.spec.collect_cap) if outcome else {}
        prepared.close()
        if ns_pid is None or outcome is None or outcome.killed_for is not None:
            procs.reap_stray_bwraps(set(self._running))  # killed: pid 1 may be orphaned
        oom_killed = False
        if tree.cgroup_procs is not None and tree.oom_kills_before is not None:
            after = oom_kills(tree.cgroup_procs)
            oom_killed = after is not None and after > tree.oom_kills_before
        return Ended(cpu_s, collected, oom_killed)

    async def _ensure_probed(self) -> None:
        import asyncio

        if self._verdict is None:
            if self._probe_lock is None:
                self._probe_lock = asyncio.Lock()
            async with self._probe_lock:
                if self._verdict is None:
                    self._verdict = await self._probe()
        if self._verdict:
            raise SandboxUnavailable(self._verdict)

    async def _probe(self) -> str:
        """Why bubblewrap cannot sandbox here, or "" when a trivial sandbox works."""
        from codeteam.sandbox.bwrap import BWRAP
        from codeteam.sandbox.launch import needed_tools

        for tool, package in ((BWRAP, "bubblewrap"), *needed_tools()):
            if not os.access(tool, os.X_OK):
                return f"{tool} not found: install it (apt-get install {package}), {_FIX}"
        result = await self._run_in_slot(
            SandboxSpec(argv=["/usr/bin/true"], timeout_s=10), self._settings.max_concurrency - 1
        )
        if result.exit_code == 0:
            return ""
        why = result.stderr.decode(errors="replace").strip().splitlines()
        if why and why[-1].startswith("codeteam-launch: unknown option"):
            return f"{why[-1]}: the installed launcher is older than codeteam; re-run install.sh"
        return (
            f"bubblewrap cannot create a sandbox here ({why[-1] if why else result.exit_code}):"
            " allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and"
            " user.max_user_namespaces>0; in a container use --security-opt seccomp=unconfined"
            f" --security-opt apparmor=unconfined), {_FIX}"
        )

    async def aclose(self) -> None:
        """Kill every tree still running (their runs end with limit ``cancelled``)."""
        from codeteam.sandbox import procs

        if self._pool is not None:
            await self._pool.aclose()
        for supervisor in list(self._running.values()):
            supervisor.stop("cancelled")
        procs.reap_stray_bwraps(set(self._running))
        await self._return_uids()
        if self._cgroups is not None and not isinstance(self._cgroups, str):
            self._cgroups.close()  # every slot is swept (empty) by now
        if self._etc is not None:
            self._etc.close()

    def _etc_tree(self, uid: int, gid: int) -> Path:
        if self._etc is None:
            from codeteam.sandbox.etc import EtcTrees

            self._etc = EtcTrees()
        return self._etc.tree(uid, gid)

    def _warn_unsafe(self) -> None:
        if not self._warned_unsafe:
            self._warned_unsafe = True
            print(
                "WARNING: codeteam --unsafe-no-sandbox: untrusted code runs UNCONFINED on this "
                "machine (no namespaces, no filesystem isolation). Development only.",
                file=sys.stderr,
                flush=True,
            )

    async def _return_uids(self, wait_s: float = 5.0) -> None:
        """Give the leased uids back once every slot is free (swept): a uid handed back
        while its sweep is pending could kill the next owner's processes."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while len(self._free) < self._settings.max_concurrency and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self._lease is not None and len(self._free) == self._settings.max_concurrency:
            self._lease.close()
            self._lease = None


async def _settle_namespace(ns_pid: int | None) -> float | None:
    """Wait until the sandbox's pid 1 (and so its whole pid namespace) is gone, reap it,
    and return the CPU seconds it and what it reaped used."""
    from codeteam.sandbox import procs

    if ns_pid is None or not procs.is_child(ns_pid):
        return None
    reaped = procs.reap(ns_pid)  # usually gone already: pid 1 exits before the launcher
    if reaped is None:
        if not await procs.wait_exit(ns_pid, 5.0):
            procs.kill(ns_pid)
            await procs.wait_exit(ns_pid, 5.0)
        reaped = procs.reap(ns_pid)
    return reaped.cpu_s if reaped else None


def _result(outcome: Outcome | None, ended: Ended, spec: SandboxSpec) -> SandboxResult:
    import signal

    from codeteam.sandbox.limits import classify

    assert outcome is not None
    rc = outcome.returncode
    exit_code: int | None = rc
    signum: int | None = None
    if rc < 0:
        exit_code, signum = None, -rc
    elif rc > 128 and (rc - 128) in signal.valid_signals():
        exit_code, signum = None, rc - 128  # bubblewrap reports a signal death as 128 + n
    limit = outcome.killed_for or classify(
        signum, exit_code, outcome.stderr, ended.cpu_s, spec.limits, ended.oom_killed
    )
    return SandboxResult(
        exit_code=exit_code,
        signal=signum,
        stdout=outcome.stdout,
        stderr=outcome.stderr,
        truncated=outcome.truncated,
        timed_out=outcome.timed_out,
        limit=limit,
        duration_ms=outcome.duration_ms,
        files=ended.files,
    )
