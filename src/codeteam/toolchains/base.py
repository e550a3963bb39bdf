"""The language interface: one module per language says what to run to execute, test,
review and build, and how to read the runners' machine-readable output.

A toolchain knows nothing of MCP or of the tools' schemas, nor where its specs run: it
gets an :class:`~codeteam.executor.Executor` (bound to the server's limits) and returns
plain result values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from codeteam.executor import Executor
from codeteam.sandbox.spec import SandboxResult


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

    def path(self, tool: str) -> str | None:
        """Where ``tool`` was found (what the tools run), or None when it is missing."""
        return next((t.path for t in self.tools if t.name == tool), None)


@dataclass(frozen=True)
class CaseResult:
    """One test's outcome (named so that pytest never takes it for a test class)."""

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


@dataclass(frozen=True)
class Benchmark:
    name: str
    ns_per_op: float | None  # Python: the mean round time in ns
    bytes_per_op: float | None = None  # Go -benchmem only
    allocs_per_op: float | None = None
    iterations: int | None = None  # Go: b.N; Python: iterations per round
    rounds: int | None = None  # Python only
    min_ns: float | None = None
    max_ns: float | None = None
    stddev_ns: float | None = None


@dataclass(frozen=True)
class ProfileEntry:
    function: str
    file: str
    line: int
    calls: int | None  # Python: primitive+recursive calls; Go's sampling does not count
    total_ms: float  # time in the function itself (Python tottime, Go pprof flat)
    cumulative_ms: float  # including callees (Python cumtime, Go pprof cum)


@dataclass(frozen=True)
class Built:
    """What a build produced: files by their path relative to the project (``dist/x.whl``,
    ``bin/name``) for the caller to write, executables among them, and the build's result."""

    files: dict[str, bytes]
    executables: frozenset[str]
    result: SandboxResult


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
        self, executor: Executor, code: str, stdin: bytes, timeout_s: float
    ) -> SandboxResult: ...

    async def test(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        select: list[str],
        timeout_s: float,
        race: bool = False,
    ) -> tuple[list[CaseResult], SandboxResult]:
        """``race``: the language's data-race detector (ValueError where there is none)."""
        ...

    def collected_nothing(self, exit_code: int | None) -> bool:
        """Whether the test runner's exit code says it found nothing to run (pytest: 5),
        which is no failure of the tests."""
        ...

    async def benchmark(
        self, executor: Executor, project: Path, target: Path, select: list[str], timeout_s: float
    ) -> tuple[list[Benchmark], SandboxResult]: ...

    async def profile(
        self,
        executor: Executor,
        source: tuple[Path, Path] | str,
        select: list[str],
        timeout_s: float,
        top: int,
    ) -> tuple[list[ProfileEntry], SandboxResult]:
        """Profile a project's tests (``source`` = (project root, target)) or a program's
        code (``source`` = its text): the ``top`` entries by time spent in each function."""
        ...

    async def build(self, executor: Executor, project: Path, target: Path, kind: str) -> Built:
        """Build an artifact (``wheel``, ``binary``; ValueError for a kind the language
        lacks). ``project`` is the workspace root, ``target`` the project directory."""
        ...

    def dockerfile(self, project: Path) -> str:
        """A Dockerfile (text) that builds and runs the project in ``project``."""
        ...

    def linters(self, strict: bool) -> list[str]:
        """The linters :meth:`review` runs when they are installed (``strict``: the slower
        optional ones too), in the order a report names them."""
        ...

    async def review(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        timeout_s: float,
        strict: bool = False,
    ) -> tuple[list[Finding], list[str]]:
        """Findings, and the names of the linters that were skipped (not installed).
        ``strict``: the slower optional linters too (Python: mypy)."""
        ...
