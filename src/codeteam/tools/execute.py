"""``execute_code``: run a program in the sandbox and report how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.checks import check_code, check_timeout
from codeteam.tools.outcome import RunStatus, run_status


@dataclass
class ExecutionResult:
    status: Annotated[
        RunStatus,
        Doc(
            "ok: exit 0; error: non-zero exit or compile error; timeout: wall-clock limit; "
            "killed: another limit or a cancel (see limit)"
        ),
    ]
    language: str
    exit_code: Annotated[int | None, Doc("null when killed by a signal")]
    signal: int | None
    limit: Annotated[
        str | None,
        Doc(
            "the limit that stopped it: cpu, memory, processes, file_size, output, "
            "cancelled or wall_clock"
        ),
    ]
    stdout: str
    stderr: str
    truncated: Annotated[bool, Doc("stdout or stderr was over the cap; head and tail kept")]
    duration_ms: float

    def render(self) -> str:
        head = f"{self.language}: {self.status}"
        if self.exit_code is not None:
            head += f", exit {self.exit_code}"
        if self.signal is not None:
            head += f", signal {self.signal}"
        if self.limit:
            head += f", limit {self.limit}"
        head += f", {self.duration_ms:.0f} ms" + (", output truncated" if self.truncated else "")
        parts = [head]
        if self.stdout:
            parts.append(f"--- stdout\n{self.stdout.rstrip()}")
        if self.stderr:
            parts.append(f"--- stderr\n{self.stderr.rstrip()}")
        return "\n".join(parts)


async def execute_code(
    ctx: ToolContext,
    language: Annotated[str, Doc("python or go (list_toolchains shows what is installed)")],
    code: Annotated[
        str, Doc("the whole program: a Python script, or a Go file with package main and func main")
    ],
    stdin: Annotated[str | None, Doc("text fed to the program's standard input")] = None,
    timeout_s: Annotated[float | None, Doc("wall-clock limit in seconds (default 30)")] = None,
) -> ExecutionResult:
    from codeteam.sandbox.spec import SandboxResult
    from codeteam.tools.progress import ticking
    from codeteam.tools.project import translated

    settings = ctx.settings
    check_code(settings, code)
    stdin_bytes = (stdin or "").encode("utf-8")
    if len(stdin_bytes) > settings.max_stdin_bytes:
        raise ToolError(
            f"stdin is {len(stdin_bytes)} bytes, over the {settings.max_stdin_bytes}-byte limit"
        )
    timeout = check_timeout(settings, timeout_s, settings.default_timeout_s)
    services = ctx.services
    toolchain = services.toolchain(language)
    with translated():
        async with ticking(ctx, f"running {language}"):
            result: SandboxResult = await toolchain.execute(
                services.executor, code, stdin_bytes, timeout
            )
    return ExecutionResult(
        status=run_status(result, result.exit_code == 0),
        language=language,
        exit_code=result.exit_code,
        signal=result.signal,
        limit=result.limit,
        stdout=result.stdout.decode("utf-8", errors="replace"),
        stderr=result.stderr.decode("utf-8", errors="replace"),
        truncated=result.truncated,
        duration_ms=round(result.duration_ms, 1),
    )
