"""The language interface: one module per language says what to run to execute, test,
review and build, and how to read the runners' machine-readable output.

A toolchain knows nothing of MCP or of the tools' schemas; it gets a :class:`Runner`
(the sandbox, bound to the server's settings) and returns plain result values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codeteam.sandbox.spec import SandboxResult, SandboxSpec


class ToolchainMissing(RuntimeError):
    """The language's toolchain (or one of its tools) is not installed: message says how."""


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str | None  # None: not installed
    path: str | None
    install_hint: str | None = None


@dataclass(frozen=True)
class ToolchainInfo:
    language: str
    available: bool
    tools: list[ToolInfo] = field(default_factory=list)


@dataclass(frozen=True)
class TestCase:
    name: str
    outcome: str  # passed | failed | error | skipped
    duration_ms: float
    message: str | None = None


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str  # error | warning | info
    file: str
    line: int
    column: int
    message: str


class Run(Protocol):
    """The sandbox as a toolchain sees it: run one spec (the caller fills in the server's
    limits and output cap), and the persistent cache directories of the build role."""

    async def __call__(self, spec: SandboxSpec) -> SandboxResult: ...

    def cache_dir(self, name: str) -> Path: ...


class Toolchain(Protocol):
    language: str
    file_suffixes: tuple[str, ...]  # used to detect the language of a path
    project_markers: tuple[str, ...]  # files that mark a project directory (go.mod, ...)

    def detect(self) -> ToolchainInfo:
        """Find interpreters/compilers/linters and their versions (called once, cached)."""
        ...

    def snippet(self, code: str) -> dict[str, bytes]:
        """The files a code snippet becomes (main file first), e.g. main.go plus a go.mod."""
        ...

    async def execute(
        self, run: Run, code: str, stdin: bytes, timeout_s: float
    ) -> SandboxResult: ...

    async def test(
        self, run: Run, project: Path, target: Path, select: list[str], timeout_s: float
    ) -> tuple[list[TestCase], SandboxResult]: ...

    async def review(
        self, run: Run, project: Path, target: Path, timeout_s: float
    ) -> tuple[list[Finding], list[str]]:
        """Findings, and the names of the linters that were skipped (not installed)."""
        ...
