"""The local executor: specs run in this machine's bubblewrap sandbox
(:class:`codeteam.sandbox.Sandbox`), with the server's limits and output cap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from codeteam.config import Settings
from codeteam.sandbox import Sandbox
from codeteam.sandbox.spec import Limits, Prestart, SandboxResult, SandboxSpec, SandboxUnavailable
from codeteam.trace import mark

#: What a compile (several compiler processes at once) may reserve per process.
BUILD_MEMORY_BYTES = 2 << 30
#: What a compile or a -race run (ThreadSanitizer needs 5-10x the memory) may hold in all,
#: when the call's own cap is lower.
BIG_CALL_MEMORY_BYTES = 4 << 30
#: RLIMIT_NPROC of a compile. The build uid is one uid shared by every compile on the machine
#: (all slots, all servers), and Go starts a thread per core in each compiler process, so the
#: per-call 64 let four concurrent builds fail with "newosproc" / EAGAIN. It runs the trusted
#: compiler only, never user code, so a per-call fork-bomb budget buys nothing here.
BUILD_PROCESSES = 4096
#: RLIM_INFINITY: no address-space limit.
UNLIMITED = (1 << 64) - 1


def limits_from(settings: Settings) -> Limits:
    return Limits(
        cpu_s=settings.cpu_s,
        memory_bytes=settings.memory_bytes,
        processes=settings.processes,
        file_size_bytes=settings.file_size_bytes,
        open_files=settings.open_files,
        tmpfs_bytes=settings.tmpfs_bytes,
        call_memory_bytes=settings.call_memory_bytes,
    )


@dataclass
class LocalExecutor:
    """Every spec runs with ``limits`` and ``output_cap``; an unusable sandbox becomes a
    tool error (``unavailable``) saying how to fix it."""

    sandbox: Sandbox
    limits: Limits
    output_cap: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalExecutor:
        return cls(Sandbox(settings), limits_from(settings), settings.output_cap_bytes)

    async def run(self, spec: SandboxSpec, prestart: Prestart | None = None) -> SandboxResult:
        limits = self.limits
        if spec.role == "build":  # compilers reserve much address space; user code never runs
            limits = replace(
                limits,
                memory_bytes=max(limits.memory_bytes, BUILD_MEMORY_BYTES),
                call_memory_bytes=max(limits.call_memory_bytes, BIG_CALL_MEMORY_BYTES),
                processes=max(limits.processes, BUILD_PROCESSES),
            )
        filled = replace(spec, limits=limits, output_cap=self.output_cap)
        mark("L1 sandbox run")
        try:
            return await self.sandbox.run(filled, prestart)
        except SandboxUnavailable as exc:
            from codeteam.tools.base import ToolError

            raise ToolError(str(exc), "unavailable") from None
        finally:
            mark("L2 sandbox done")

    def cache_dir(self, name: str) -> Path:
        return self.sandbox.cache_dir(name)

    def unbounded_memory(self) -> LocalExecutor:
        """No address-space limit: the call's memory cgroup (at least 4 GiB here) is then
        what bounds its memory, where the server can make one; CPU time, processes, file
        size and the wall clock still hold. Shares this executor's sandbox."""
        limits = replace(
            self.limits,
            memory_bytes=UNLIMITED,
            call_memory_bytes=max(self.limits.call_memory_bytes, BIG_CALL_MEMORY_BYTES),
        )
        return replace(self, limits=limits)

    def code_identity(self) -> tuple[int, frozenset[int]]:
        return self.sandbox.code_identity()

    async def aclose(self) -> None:
        await self.sandbox.aclose()
