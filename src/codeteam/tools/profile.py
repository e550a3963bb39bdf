"""``profile``: where the time goes, for a program's code or a project's tests, as the
top functions by time spent in them (cProfile for Python, pprof for Go), sandboxed."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from codeteam.toolchains.base import ProfileEntry
from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.project import (
    SnapshotNote,
    output,
    resolve_project,
    run_timeout,
    sandbox_view,
    snapshot_lines,
    translated,
)
from codeteam.tools.tests import check_select

Status = Literal["ok", "error", "timeout", "killed"]
DEFAULT_TOP = 25


@dataclass
class ProfileResult:
    status: Annotated[
        Status,
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
        if self.status != "ok" and self.output:
            lines.append(f"--- output\n{self.output.rstrip()}")
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

    settings = ctx.settings
    if (code is None) == (path is None):
        raise ToolError("give exactly one of code or path")
    count = DEFAULT_TOP if top is None else top
    if not 1 <= count <= 200:
        raise ToolError("top must be between 1 and 200")
    chosen = check_select(select)
    timeout = run_timeout(ctx, timeout_s)
    services = ctx.services
    project = None
    view: AbstractAsyncContextManager[tuple[Path, Path] | str]
    if code is not None:
        if language is None:
            raise ToolError("language is required with code: python or go")
        if not code.strip():
            raise ToolError("code is empty; pass the program's source text")
        if len(code.encode("utf-8")) > settings.max_code_bytes:
            raise ToolError(f"code is over the {settings.max_code_bytes}-byte limit")
        if chosen:
            raise ToolError("select applies to path (tests), not to code")
        toolchain, run, shown, view = (
            services.toolchain(language),
            services.executor,
            "<code>",
            nullcontext(code),
        )
    else:
        assert path is not None
        project = resolve_project(ctx, path, language)
        language, toolchain, run, shown = (
            project.language,
            project.toolchain,
            project.executor,
            project.display,
        )
        view = sandbox_view(ctx, project)
    with translated():
        async with ticking(ctx, f"profiling {shown}"), view as source:
            entries, result = await toolchain.profile(run, source, chosen, timeout, count)
    status: Status
    if result.timed_out or result.limit == "wall_clock":
        status = "timeout"
    elif result.limit is not None:
        status = "killed"
    else:
        status = "ok" if result.exit_code == 0 and entries else "error"
    return ProfileResult(
        status=status,
        language=language,
        target=shown,
        entries=entries,
        exit_code=result.exit_code,
        output=output(result),
        truncated=result.truncated,
        duration_ms=round(result.duration_ms, 1),
        snapshot=project.snapshot if project is not None else None,
    )
