"""``profile``: where the time goes, for a program's code or a project's tests, as the
top functions by time spent in them (cProfile for Python, pprof for Go), sandboxed."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from codeteam.executor import Executor
from codeteam.toolchains.base import ProfileEntry, Toolchain
from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.checks import (
    check_code,
    check_select,
    check_timeout,
    one_source,
    snippet_language,
)
from codeteam.tools.outcome import RunStatus, run_status
from codeteam.tools.project import (
    DEFAULT_TIMEOUT_S,
    Project,
    SnapshotNote,
    output,
    output_lines,
    resolve_project,
    sandbox_view,
    snapshot_lines,
    translated,
)

DEFAULT_TOP = 25


@dataclass
class ProfileResult:
    status: Annotated[
        RunStatus,
        Doc(
            "ok: profiled (the program/tests exited 0); error: it failed or produced no "
            "profile (see output); timeout/killed: a limit stopped it"
        ),
    ]
    language: str
    target: Annotated[str, Doc("the profiled path, or <code>")]
    entries: Annotated[
        list[ProfileEntry],
        Doc("top functions by total_ms (time in the function itself), most first"),
    ] = field(default_factory=list)
    exit_code: int | None = None
    output: Annotated[str, Doc("the program's or runner's output, capped")] = ""
    truncated: bool = False
    duration_ms: float = 0.0
    snapshot: SnapshotNote = None

    def render(self) -> str:
        lines = [
            f"{self.language} profile of {self.target}: {self.status} ({self.duration_ms:.0f} ms)",
            *snapshot_lines(self.snapshot),
            f"  {'self ms':>10} {'cum ms':>10} {'calls':>8}  function",
        ]
        for e in self.entries:
            where = f" ({e.file}:{e.line})" if e.file else ""
            calls = "-" if e.calls is None else str(e.calls)
            lines.append(
                f"  {e.total_ms:>10.1f} {e.cumulative_ms:>10.1f} {calls:>8}  {e.function}{where}"
            )
        if self.status != "ok":
            lines += output_lines(self.output)
        return "\n".join(lines)


async def profile(
    ctx: ToolContext,
    path: Annotated[
        str | None, Doc("profile this project's tests (a directory or test file); or give code")
    ] = None,
    code: Annotated[
        str | None, Doc("profile this whole program (a script / a Go package main); or give path")
    ] = None,
    language: Annotated[
        str | None, Doc("python or go; required with code, detected from path otherwise")
    ] = None,
    select: Annotated[
        list[str] | None,
        Doc("with path: only these tests (pytest ids/names; Go TestX or BenchmarkX names)"),
    ] = None,
    top: Annotated[int | None, Doc("how many entries to return (default 25, at most 200)")] = None,
    timeout_s: Annotated[float | None, Doc("wall-clock limit for the run, seconds")] = None,
) -> ProfileResult:
    from codeteam.tools.progress import ticking

    one_source(code, path)
    count = DEFAULT_TOP if top is None else top
    if not 1 <= count <= 200:
        raise ToolError("top must be between 1 and 200")
    chosen = check_select(select)
    timeout = check_timeout(ctx.settings, timeout_s, DEFAULT_TIMEOUT_S)
    if code is not None:
        if chosen:
            raise ToolError("select applies to path (tests), not to code")
        subject = _snippet(ctx, code, language)
    else:
        assert path is not None
        subject = _project(ctx, path, language)
    with translated():
        async with ticking(ctx, f"profiling {subject.shown}"), subject.view as source:
            entries, result = await subject.toolchain.profile(
                subject.executor, source, chosen, timeout, count
            )
    project = subject.project
    return ProfileResult(
        status=run_status(result, result.exit_code == 0 and bool(entries)),
        language=subject.language,
        target=subject.shown,
        entries=entries,
        exit_code=result.exit_code,
        output=output(result),
        truncated=result.truncated,
        duration_ms=round(result.duration_ms, 1),
        snapshot=project.snapshot if project is not None else None,
    )


@dataclass
class _Subject:
    """What a profile runs: a program's code or a project's tests, and what the toolchain
    is handed for it (the code's text, or the (root, target) view of the project)."""

    language: str
    toolchain: Toolchain
    executor: Executor
    shown: str
    view: AbstractAsyncContextManager[tuple[Path, Path] | str]
    project: Project | None = None


def _snippet(ctx: ToolContext, code: str, language: str | None) -> _Subject:
    language = snippet_language(language, ctx.services.toolchains.languages)
    check_code(ctx.settings, code)
    services = ctx.services
    return _Subject(
        language, services.toolchain(language), services.executor, "<code>", nullcontext(code)
    )


def _project(ctx: ToolContext, path: str, language: str | None) -> _Subject:
    project = resolve_project(ctx, path, language)
    return _Subject(
        project.language,
        project.toolchain,
        project.executor,
        project.display,
        sandbox_view(ctx, project),
        project,
    )
