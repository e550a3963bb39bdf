"""What the project tools (benchmarks, profile, build) share: a confined path resolved to
its language and toolchain, the run timeout, and toolchain failures turned into tool errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from codeteam.sandbox.spec import SandboxResult
from codeteam.toolchains.base import Toolchain, ToolchainMissing
from codeteam.tools.base import ToolContext, ToolError
from codeteam.tools.paths import Confined, confine, display

DEFAULT_TIMEOUT_S = 120.0


@dataclass
class Project:
    language: str
    toolchain: Toolchain
    target: Confined
    display: str
    run: Any  # the services' SandboxRunner (a toolchains.base.Run)


def run_timeout(ctx: ToolContext, timeout_s: float | None) -> float:
    limit = ctx.settings.max_timeout_s
    if timeout_s is not None and not 0 < timeout_s <= limit:
        raise ToolError(f"timeout_s must be more than 0 and at most {limit:g} seconds")
    return timeout_s or min(DEFAULT_TIMEOUT_S, limit)


def resolve_project(ctx: ToolContext, path: str, language: str | None) -> Project:
    """Confine ``path`` to the roots and pick its toolchain (detected unless given)."""
    settings = ctx.settings
    target = confine(settings.roots, path)
    services = ctx.services
    if language is None:
        language = services.toolchains.for_path(target.root, target.path)
        if language is None:
            raise ToolError(f"cannot tell the language of {path!r}; pass language")
    return Project(
        language,
        services.toolchain(language),
        target,
        display(target, settings.roots),
        services.runner(),
    )


@contextmanager
def translated() -> Iterator[None]:
    """A missing toolchain becomes ``unavailable``; a toolchain's ValueError (bad
    selection, not a project) ``rejected``; both one line."""
    from codeteam.tools.services import missing

    try:
        yield
    except ToolchainMissing as exc:
        raise missing(exc) from None
    except ValueError as exc:
        raise ToolError(str(exc)) from None


def output(result: SandboxResult) -> str:
    """stdout then stderr of a run, as text."""
    joined = result.stdout + (b"\n" if result.stdout and result.stderr else b"") + result.stderr
    return joined.decode("utf-8", errors="replace")
