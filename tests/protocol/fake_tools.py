"""A test-only tool catalog (served via ``CODETEAM_CATALOG=tests.protocol.fake_tools:catalog``).

``sleep_then_echo`` reports progress and starts a real ``sleep`` child whose pid it writes to
a file, so a test can prove that cancelling the request killed the child.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Annotated

from codeteam.tools.base import Annotations, Doc, ToolContext, ToolError, ToolSpec


@dataclass
class EchoResult:
    status: str
    text: str

    def render(self) -> str:
        return f"echo: {self.text}"


async def echo(ctx: ToolContext, *, text: Annotated[str, Doc("what to echo")]) -> EchoResult:
    if text == "reject me":
        raise ToolError("text 'reject me' is refused; send something else")
    return EchoResult("ok", text)


async def sleep_then_echo(
    ctx: ToolContext,
    *,
    text: Annotated[str, Doc("what to echo")],
    seconds: Annotated[float, Doc("how long to sleep")] = 0.0,
    steps: Annotated[int, Doc("progress notifications to send")] = 0,
    pid_file: Annotated[str | None, Doc("where to write the sleeping child's pid")] = None,
) -> EchoResult:
    for i in range(steps):
        await ctx.progress(i + 1, steps, f"step {i + 1}")
        await asyncio.sleep(0.01)
    if seconds > 0:
        child = await asyncio.create_subprocess_exec("sleep", str(seconds))
        if pid_file:
            with open(pid_file + ".tmp", "w") as f:
                f.write(str(child.pid))
            os.replace(pid_file + ".tmp", pid_file)
        try:
            await child.wait()
        except asyncio.CancelledError:
            child.kill()
            await child.wait()
            raise
    return EchoResult("ok", text)


async def boom(ctx: ToolContext) -> EchoResult:
    raise RuntimeError("a bug in the tool")


def catalog() -> list[ToolSpec]:
    ann = Annotations(title="Echo", read_only=True, destructive=False, idempotent=True)
    return [
        ToolSpec.from_function(echo, description="Echo text back.", annotations=ann),
        ToolSpec.from_function(
            sleep_then_echo, description="Sleep, report progress, echo.", annotations=ann
        ),
        ToolSpec.from_function(boom, description="Always fails.", annotations=ann),
    ]
