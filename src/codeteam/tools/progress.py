"""A heartbeat for long tools: progress notifications every few seconds while work runs,
so clients that asked for progress see the call is alive (the spec lets them time out)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from codeteam.tools.base import ToolContext

INTERVAL_S = 2.0


@asynccontextmanager
async def ticking(
    ctx: ToolContext, message: str, interval_s: float = INTERVAL_S
) -> AsyncIterator[None]:
    """Send ``progress = seconds elapsed`` every ``interval_s`` until the block ends."""
    import asyncio

    start = time.monotonic()

    async def tick() -> None:
        try:
            while True:
                await asyncio.sleep(interval_s)
                elapsed = round(time.monotonic() - start, 1)
                await ctx.progress(elapsed, None, f"{message} ({elapsed:.0f} s)")
        except Exception:  # noqa: S110 - a lost notification must not fail the tool
            pass

    await ctx.progress(0.0, None, message)
    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()  # not awaited: awaiting here could swallow the caller's own cancel
