"""How a sandboxed run ended, as the tools' ``status`` says it: one mapping for every tool.

A limit decides first (the wall clock: ``timeout``; any other limit or a cancel:
``killed``); otherwise the tool's own judgement of success gives ``ok`` or ``error``.
"""

from __future__ import annotations

from typing import Literal

from codeteam.sandbox.spec import SandboxResult

Stopped = Literal["timeout", "killed"]
RunStatus = Literal["ok", "error", "timeout", "killed"]


def stopped_by(result: SandboxResult) -> Stopped | None:
    """``timeout`` or ``killed`` when a limit ended the run, else None."""
    if result.timed_out or result.limit == "wall_clock":
        return "timeout"
    if result.limit is not None:
        return "killed"
    return None


def run_status(result: SandboxResult, succeeded: bool) -> RunStatus:
    """The limit that stopped the run, else ``ok`` when ``succeeded``, else ``error``."""
    return stopped_by(result) or ("ok" if succeeded else "error")
