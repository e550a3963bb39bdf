"""``run_benchmarks``: a project's benchmarks (pytest-benchmark / ``go test -bench``),
sandboxed, parsed into per-benchmark figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from codeteam.sandbox.spec import SandboxResult
from codeteam.toolchains.base import Benchmark
from codeteam.tools.base import Doc, ToolContext
from codeteam.tools.checks import check_select, check_timeout
from codeteam.tools.outcome import stopped_by
from codeteam.tools.project import (
    DEFAULT_TIMEOUT_S,
    SnapshotNote,
    output,
    output_lines,
    resolve_project,
    sandbox_view,
    snapshot_lines,
    translated,
)

Status = Literal["ok", "error", "no_benchmarks", "timeout", "killed"]


@dataclass
class BenchmarkResult:
    status: Annotated[
        Status,
        Doc(
            "ok: benchmarks ran; error: they could not build/run (see output); "
            "no_benchmarks: none found; timeout/killed: a limit stopped the run"
        ),
    ]
    language: str
    path: str
    benchmarks: list[Benchmark] = field(default_factory=list)
    output: Annotated[str, Doc("the runner's own output, capped (head and tail kept)")] = ""
    truncated: bool = False
    duration_ms: float = 0.0
    snapshot: SnapshotNote = None

    def render(self) -> str:
        lines = [
            f"{self.language} benchmarks in {self.path}: {self.status}, "
            f"{len(self.benchmarks)} benchmark(s) ({self.duration_ms:.0f} ms)",
            *snapshot_lines(self.snapshot),
        ]
        for b in self.benchmarks:
            row = f"  {b.name}: {_fmt(b.ns_per_op)} ns/op"
            if b.bytes_per_op is not None:
                row += f", {_fmt(b.bytes_per_op)} B/op, {_fmt(b.allocs_per_op)} allocs/op"
            if b.rounds is not None:
                row += f", {b.rounds} rounds"
            if b.iterations is not None:
                row += f", {b.iterations} iterations"
            if b.stddev_ns is not None:
                row += f", stddev {_fmt(b.stddev_ns)} ns"
            lines.append(row)
        if self.status != "ok":
            lines += output_lines(self.output)
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:,.1f}"


def outcome(found: int, result: SandboxResult, collected_nothing: bool) -> Status:
    stopped = stopped_by(result)
    if stopped is not None:
        return stopped
    if result.exit_code != 0 and not (collected_nothing and not found):
        return "error"
    return "ok" if found else "no_benchmarks"


async def run_benchmarks(
    ctx: ToolContext,
    path: Annotated[str, Doc("a project directory or test file inside the workspace")],
    language: Annotated[
        str | None, Doc("python or go; detected from the path when omitted")
    ] = None,
    select: Annotated[
        list[str] | None,
        Doc("only these benchmarks: pytest names/node ids, or Go BenchmarkX names"),
    ] = None,
    timeout_s: Annotated[float | None, Doc("wall-clock limit for the run, seconds")] = None,
) -> BenchmarkResult:
    from codeteam.tools.progress import ticking

    chosen = check_select(select)
    timeout = check_timeout(ctx.settings, timeout_s, DEFAULT_TIMEOUT_S)
    project = resolve_project(ctx, path, language)
    with translated():
        async with (
            ticking(ctx, f"benchmarking {path}"),
            sandbox_view(ctx, project) as (root, target),
        ):
            found, result = await project.toolchain.benchmark(
                project.executor, root, target, chosen, timeout
            )
    return BenchmarkResult(
        status=outcome(len(found), result, project.toolchain.collected_nothing(result.exit_code)),
        language=project.language,
        path=project.display,
        benchmarks=found,
        output=output(result),
        truncated=result.truncated,
        duration_ms=round(result.duration_ms, 1),
        snapshot=project.snapshot,
    )
