"""What the project tools (tests, review, benchmarks, profile, build) share: a confined
path resolved to its language and toolchain, the view of it the sandbox gets (the project,
or a read-only snapshot when the sandbox's user cannot enter it), the default run timeout, and
toolchain failures turned into tool errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from codeteam.executor import Executor
from codeteam.sandbox.spec import SandboxResult
from codeteam.toolchains.base import Toolchain, ToolchainMissing
from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.paths import Confined, confine, display

#: The wall clock a project tool's run gets when the call names none (capped by
#: ``--max-timeout``); a program's run gets ``--timeout``.
DEFAULT_TIMEOUT_S = 120.0


@dataclass
class Project:
    language: str
    toolchain: Toolchain
    target: Confined
    home: Path  # the project directory the toolchain works in (its markers' directory)
    display: str
    executor: Executor
    snapshot: str | None = None  # set by :func:`sandbox_view` when it made a copy


#: The results' ``snapshot`` field.
SnapshotNote = Annotated[
    str | None,
    Doc(
        "set when the sandbox's user could not read the project directory: the tool ran on "
        "a read-only copy the server made (what it left out: files the sandbox could not "
        "read, .git, virtualenvs, caches); says which directory and why"
    ),
]


def snapshot_lines(note: str | None) -> list[str]:
    """The line a result's text form gets for its ``snapshot`` note."""
    return [f"note: {note}"] if note else []


def output_lines(output: str) -> list[str]:
    """The section a result's text form gets for the runner's output (shown when the run
    did not do what was asked)."""
    return [f"--- output\n{output.rstrip()}"] if output else []


def resolve_project(ctx: ToolContext, path: str, language: str | None) -> Project:
    """Confine ``path`` to the roots and pick its toolchain (detected unless given)."""
    from codeteam.toolchains.common import project_dir

    settings = ctx.settings
    target = confine(settings.roots, path)
    services = ctx.services
    try:
        if language is None:
            language = services.toolchains.for_path(target.root, target.path)
            if language is None:
                raise ToolError(f"cannot tell the language of {path!r}; pass language")
        toolchain = services.toolchain(language)
        home = project_dir(target.root, target.path, toolchain.project_markers)
    except PermissionError as exc:
        folder = target.path if target.path.is_dir() else target.path.parent
        raise ToolError(
            f"{folder} cannot be read by the server ({exc.strerror}: {exc.filename}), so "
            f"neither can the sandbox: run chmod -R o+rX {folder}"
        ) from None
    return Project(
        language, toolchain, target, home, display(target, settings.roots), services.executor
    )


@asynccontextmanager
async def sandbox_view(ctx: ToolContext, project: Project) -> AsyncIterator[tuple[Path, Path]]:
    """The (root, target) to hand the toolchain: the project's own, or those of a read-only
    snapshot of it (removed afterwards) when the sandbox's user cannot list or enter the
    project directory or a directory on the way to the target (see
    :mod:`codeteam.tools.snapshot`). Raises a one-line :class:`ToolError` when the copy
    would be over ``--snapshot-cap`` or the server cannot read the project either."""
    import asyncio
    import threading

    from codeteam.tools import snapshot

    root, target, proj = project.target.root, project.target.path, project.home
    uid, gids = ctx.services.executor.code_identity()
    reader = snapshot.Reader(uid, gids)
    blocked = snapshot.blocking(proj, target, reader)
    if blocked is None:
        yield root, target
        return
    cap, stop = ctx.settings.snapshot_cap, threading.Event()
    copying = asyncio.ensure_future(
        asyncio.to_thread(snapshot.take, proj, target, blocked, reader, cap, stop)
    )
    try:
        snap = await asyncio.shield(copying)
    except asyncio.CancelledError:
        stop.set()  # the copy stops at its next file and removes itself; one that had
        copying.add_done_callback(_discard)  # just finished is removed when it reports
        raise
    except snapshot.SnapshotError as exc:
        raise ToolError(str(exc)) from None
    try:
        project.snapshot = (
            f"ran on a read-only snapshot of {proj} ({snap.files} files, "
            f"{snap.size / 1024:.0f} KiB): the sandbox's user cannot read {blocked} "
            f"({snapshot.why(blocked)}); files it could not read, .git, virtualenvs and "
            "caches were left out"
        )
        yield snap.path, snap.path / target.relative_to(proj)
    finally:
        await asyncio.shield(_remove(snap.path.parent))  # done even if cancelled again


def _remove(path: Path) -> Any:
    """Remove a snapshot in a thread (a large one takes seconds): never on the event loop."""
    import asyncio
    import shutil

    return asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, path, True)


def _discard(copying: Any) -> None:
    if not copying.cancelled() and copying.exception() is None:
        _remove(copying.result().path.parent)


@contextmanager
def translated() -> Iterator[None]:
    """A missing toolchain becomes ``unavailable``; a toolchain's ValueError (bad
    selection, not a project) ``rejected``; both one line."""
    try:
        yield
    except ToolchainMissing as exc:
        raise ToolError(str(exc), "unavailable") from None
    except ValueError as exc:
        raise ToolError(str(exc)) from None


def output(result: SandboxResult) -> str:
    """stdout then stderr of a run, as text."""
    joined = result.stdout + (b"\n" if result.stdout and result.stderr else b"") + result.stderr
    return joined.decode("utf-8", errors="replace")
