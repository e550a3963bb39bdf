"""What to run in one sandbox and what came back: plain values, no process handling here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: Which limit stopped a process tree, when one did.
LimitName = Literal["cpu", "memory", "processes", "file_size", "output", "cancelled", "wall_clock"]


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 60
    memory_bytes: int = 1 << 30  # address space, per process (RLIMIT_AS)
    processes: int = 64
    file_size_bytes: int = 64 << 20
    open_files: int = 256
    tmpfs_bytes: int = 256 << 20
    #: all the call's processes and its tmpfs files together (a memory cgroup, where the
    #: server can make one: see :mod:`codeteam.sandbox.cgroup`)
    call_memory_bytes: int = 2 << 30


@dataclass(frozen=True)
class Bind:
    """A host path made visible inside the sandbox at ``target``; read-only unless ``writable``."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class SandboxSpec:
    """One process tree to run isolated.

    The command starts in ``cwd`` (default ``/work``, a private size-capped tmpfs that
    also holds ``files``). ``collect`` names files (absolute sandbox paths) whose bytes are
    returned in :attr:`SandboxResult.files` after the command ends (e.g. a JUnit report).
    ``role`` chooses the host uid: ``run`` (a per-slot uid, nothing writable of the host)
    or ``build`` (the toolchain-cache owner uid: compiles only, never runs user code).
    Bind sources must be reachable by that uid (world-searchable parent directories).
    ``collect_cap`` bounds the bytes read back per collected file.
    """

    argv: Sequence[str]
    files: Mapping[str, bytes] = field(default_factory=dict)  # name (relative to /work) -> bytes
    executables: frozenset[str] = frozenset()  # names in ``files`` written with mode 0755
    binds: Sequence[Bind] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    stdin: bytes = b""
    cwd: str = "/work"
    timeout_s: float = 30.0
    limits: Limits = field(default_factory=Limits)
    output_cap: int = 64 * 1024
    collect: Sequence[str] = ()
    role: Literal["run", "build"] = "run"
    collect_cap: int = 16 << 20


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    stdout: bytes  # head and tail kept when over the cap, with a marker between
    stderr: bytes
    truncated: bool
    timed_out: bool
    limit: LimitName | None  # the limit that was hit, if any
    duration_ms: float
    files: Mapping[str, bytes] = field(default_factory=dict)  # collected path -> bytes
    node: str | None = None  # the machine that ran it, when not this one


#: What a pre-started tree reads on its control channel once its file is in place.
GO = b"go"


@dataclass(frozen=True)
class Prestart:
    """A kind of pre-started process tree: the sandbox keeps a few of these waiting at a
    start gate, and a call hands its program over, so it never waits for the sandbox and
    the program's runtime to start. Language-neutral: the toolchain supplies the waiting
    process and the sandbox only keeps the protocol.

    The waiting process is ``argv`` plus a control channel's descriptor number as its last
    argument (without ``fd_arg``, ``argv`` as it is: the process finds its one inherited
    socket itself). It creates the call's file ``handover`` (relative to ``/work``) empty,
    with the mode a fresh run gives it, writes ``b"R"`` on that channel once ready, and
    reads until end of file. The server fills the file from outside, through the sandbox's
    ``/proc/PID/root``: one copy into its tmpfs, where streaming it through the channel cost
    a copy per side and the waiting process's own write (1.2 ms for a 1.5 MB Go binary).
    Only then does the channel carry :data:`GO`. A process that read exactly ``GO`` writes
    ``b"G"`` (before any of the file runs) and then must behave as the call's own ``argv``
    would; anything else (the server could not fill the file, or died) makes it exit without
    ``b"G"``, and the call runs in a fresh sandbox. The file's pages are charged to the
    server's memory cgroup, not to the slot's.

    A call can be served this way only when its spec has exactly that one file and
    nothing else fixed at start (binds, collected files, another cwd or role, and without
    ``fd_arg`` another ``argv``); its limits
    and environment choose among the waiting trees. With ``executable``, the handed-over
    file is the call's program itself (mode 0755, as ``SandboxSpec.executables`` makes it)
    and the call's spec must mark it so.
    """

    kind: str  # names the kind (e.g. "python"): part of the pool's key
    argv: tuple[str, ...]
    handover: str = "main.py"
    executable: bool = False
    fd_arg: bool = True


class SandboxUnavailable(RuntimeError):
    """No safe way to run code here: the message says why and how to fix it."""
