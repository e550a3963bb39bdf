"""The executor seam: the one small interface between what to run (toolchains, tools) and
where it runs (the local bubblewrap sandbox today; a cluster later).

Above this seam nothing knows which implementation runs: toolchains get an
:class:`Executor`, tools get one from their services, and only :func:`create` names the
implementations. A spec and its result are plain, picklable values
(:class:`~codeteam.sandbox.spec.SandboxSpec`, :class:`~codeteam.sandbox.spec.SandboxResult`,
:class:`~codeteam.sandbox.spec.Prestart`), so they can cross a machine boundary.

Import-light: the implementations are imported by :func:`create` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codeteam import EXECUTOR_KINDS as KINDS
from codeteam.sandbox.spec import Prestart, SandboxResult, SandboxSpec

if TYPE_CHECKING:
    from codeteam.config import Settings

__all__ = ["KINDS", "Executor", "Prestart", "SandboxResult", "SandboxSpec", "check", "create"]


class Executor(Protocol):
    """Runs specs for the toolchains, with the server's limits and output cap."""

    async def run(self, spec: SandboxSpec, prestart: Prestart | None = None) -> SandboxResult:
        """Run one spec with the server's limits and output cap filled in (the ``build``
        role gets the larger compile limits); with ``prestart``, in a pre-started tree of
        that kind when one is ready, else as a normal run, with the same result. An
        unusable sandbox raises ``ToolError(..., "unavailable")``."""
        ...

    def cache_dir(self, name: str) -> Path:
        """A persistent directory the ``build`` role may write (e.g. the Go build cache)."""
        ...

    def unbounded_memory(self) -> Executor:
        """The same executor without the address-space limit: ThreadSanitizer (``go test
        -race``) reserves terabytes of shadow memory and cannot start under RLIMIT_AS."""
        ...

    def code_identity(self) -> tuple[int, frozenset[int]]:
        """Who sandboxed code runs as on the host (uid, groups): whether it can read a path."""
        ...

    async def aclose(self) -> None:
        """Kill whatever still runs and free what the executor holds."""
        ...


def check(kind: str) -> None:
    """Raise a one-line :class:`~codeteam.config.ConfigError` when ``kind`` cannot be used
    here (checked at start-up, so a bad choice fails before serving)."""
    import importlib.util

    from codeteam.config import ConfigError

    if kind not in KINDS:
        raise ConfigError(f"unknown executor {kind!r}: use --executor {' or '.join(KINDS)}")
    if kind == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("--executor ray needs Ray: pip install 'codeteam[ray]'")


def create(settings: Settings, kind: str | None = None) -> Executor:
    """The executor ``kind`` (default ``settings.executor``) for these settings; creating
    one does no I/O (the sandbox starts on the first run)."""
    import importlib

    kind = kind or settings.executor
    check(kind)
    if kind == "ray":
        cluster = importlib.import_module("codeteam.cluster")
        executor: Executor = cluster.RayExecutor(settings)
        return executor
    from codeteam.executor.local import LocalExecutor

    return LocalExecutor.from_settings(settings)
