"""Helpers every language needs: where the project sits inside the sandbox, and mapping
paths between the host and that read-only view."""

from __future__ import annotations

from pathlib import Path

from codeteam.sandbox.spec import Bind

#: Where the project is bound (read-only) inside the sandbox; tests run with cwd here.
PROJECT = "/work/project"


def project_dir(root: Path, target: Path, markers: tuple[str, ...]) -> Path:
    """The nearest directory from ``target`` up to ``root`` holding one of ``markers``
    (``go.mod``, ``pyproject.toml`` ...), else ``root``: what the runner treats as the project."""
    start = target if target.is_dir() else target.parent
    for folder in (start, *start.parents):
        if any((folder / m).is_file() for m in markers):
            return folder
        if folder == root or not folder.is_relative_to(root):
            break
    return root


def in_project(rel_dir: str) -> str:
    """A project directory (relative, ``.`` for the root) as the sandbox sees it."""
    return PROJECT if rel_dir == "." else f"{PROJECT}/{rel_dir}"


def project_bind(project: Path) -> Bind:
    return Bind(source=project, target=PROJECT, writable=False)


def inside(project: Path, path: Path) -> str:
    """``path`` (on the host, within ``project``) as the sandbox sees it."""
    rel = path.relative_to(project).as_posix()
    return PROJECT if rel == "." else f"{PROJECT}/{rel}"


def relative(path: str, base: str = PROJECT) -> str:
    """A path printed by a runner inside the sandbox, made relative to the project."""
    for prefix in (base + "/", "./"):
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def clip(message: str, limit: int = 4000) -> str:
    """A failure message short enough for a model: the end is where the reason is."""
    return message if len(message) <= limit else "...\n" + message[-limit:]
