"""The server's long-lived parts the tools share: the sandbox and the toolchain registry.

Created on the first tool call, never at start-up; creating it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.config import Settings
from codeteam.sandbox.spec import Limits, SandboxResult, SandboxSpec, SandboxUnavailable
from codeteam.toolchains import Registry, UnknownLanguage
from codeteam.toolchains.base import Toolchain, ToolchainMissing
from codeteam.tools.base import ToolError

if TYPE_CHECKING:
    from codeteam.sandbox import Sandbox


BUILD_MEMORY_BYTES = 2 << 30
#: What a compile (several compiler processes at once) or a -race run (ThreadSanitizer
#: needs 5-10x the memory) may hold in all, when the call's own cap is lower.
BIG_CALL_MEMORY_BYTES = 4 << 30
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
class SandboxRunner:
    """The :class:`codeteam.toolchains.base.Run` the toolchains get: every spec runs with
    the server's limits and output cap, and an unusable sandbox becomes a tool error."""

    sandbox: Sandbox
    limits: Limits
    output_cap: int

    async def __call__(self, spec: SandboxSpec) -> SandboxResult:
        limits = self.limits
        if spec.role == "build":  # compilers reserve much address space; user code never runs
            limits = replace(
                limits,
                memory_bytes=max(limits.memory_bytes, BUILD_MEMORY_BYTES),
                call_memory_bytes=max(limits.call_memory_bytes, BIG_CALL_MEMORY_BYTES),
            )
        try:
            return await self.sandbox.run(replace(spec, limits=limits, output_cap=self.output_cap))
        except SandboxUnavailable as exc:
            raise ToolError(str(exc), "unavailable") from None

    async def run_python(
        self, code: bytes, stdin: bytes, *, python: str, timeout_s: float
    ) -> SandboxResult:
        """``python -I -B /work/main.py`` of ``code``, in a pre-started sandbox when one is
        ready (the Python toolchain's execute looks for this method)."""
        try:
            return await self.sandbox.run_python(
                code,
                stdin,
                timeout_s=timeout_s,
                limits=self.limits,
                output_cap=self.output_cap,
                python=python,
            )
        except SandboxUnavailable as exc:
            raise ToolError(str(exc), "unavailable") from None

    def cache_dir(self, name: str) -> Path:
        return self.sandbox.cache_dir(name)

    def unbounded_memory(self) -> SandboxRunner:
        """No address-space limit (ThreadSanitizer reserves terabytes of shadow memory): the
        call's memory cgroup (at least 4 GiB here) is then what bounds its memory, where the
        server can make one; CPU time, processes, file size and the wall clock still hold."""
        limits = replace(
            self.limits,
            memory_bytes=UNLIMITED,
            call_memory_bytes=max(self.limits.call_memory_bytes, BIG_CALL_MEMORY_BYTES),
        )
        return replace(self, limits=limits)


@dataclass
class Services:
    settings: Settings
    sandbox: Sandbox
    toolchains: Registry

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from codeteam.sandbox import Sandbox

        return cls(settings, Sandbox.from_settings(settings), Registry(settings.runtime))

    def runner(self) -> SandboxRunner:
        return SandboxRunner(
            self.sandbox, limits_from(self.settings), self.settings.output_cap_bytes
        )

    def toolchain(self, language: str) -> Toolchain:
        """The toolchain for ``language``, or a :class:`ToolError` saying what exists."""
        try:
            return self.toolchains.get(language)
        except UnknownLanguage as exc:
            raise ToolError(str(exc)) from None

    async def aclose(self) -> None:
        await self.sandbox.aclose()


def missing(exc: ToolchainMissing) -> ToolError:
    return ToolError(str(exc), "unavailable")
