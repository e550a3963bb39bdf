"""Calling tools the way the server does: through their ToolSpec (validation included)."""

from __future__ import annotations

from typing import Any

from codeteam.tools.base import Outcome, ToolSpec
from codeteam.tools.catalog import builtin_tools

SPECS: dict[str, ToolSpec] = {spec.name: spec for spec in builtin_tools()}


async def call(ctx: Any, tool: str, **arguments: Any) -> Outcome:
    return await SPECS[tool].call(ctx, arguments)
