"""Confining user-given paths to the workspace roots.

A path is taken relative to the first root unless absolute; ``..`` components, a leading
``-`` in any component (a runner would read it as an option), and anything that resolves
(symlinks followed) outside every root are refused with a one-line reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codeteam.tools.base import ToolError


@dataclass(frozen=True)
class Confined:
    root: Path  # the workspace root (resolved) that holds ``path``
    path: Path  # resolved, inside ``root``


def _check_syntax(raw: str) -> PurePosixPath:
    if raw == "":
        raise ToolError("path is empty; give a path relative to the workspace root")
    if "\x00" in raw:
        raise ToolError("path contains a NUL byte; remove it")
    pure = PurePosixPath(raw)
    for part in pure.parts:
        if part == "..":
            raise ToolError(f"path {raw!r} contains '..'; give a path inside the workspace root")
        if part.startswith("-"):
            raise ToolError(
                f"path {raw!r} has a component starting with '-' ({part!r}), which a runner "
                "would read as an option; rename it"
            )
    return pure


def confine(roots: tuple[Path, ...], raw: str, *, must_exist: bool = True) -> Confined:
    """Resolve ``raw`` inside one of ``roots`` or raise :class:`ToolError` saying why not.

    With ``must_exist=False`` (writing), the longest existing prefix is resolved strictly
    and the rest, free of ``..`` and symlinks by construction, is appended.
    """
    pure = _check_syntax(raw)
    resolved_roots = [r.resolve() for r in roots]
    candidate = Path(pure) if pure.is_absolute() else resolved_roots[0] / pure
    try:
        if must_exist:
            real = candidate.resolve(strict=True)
        else:
            existing, rest = candidate, []
            while not existing.exists() and not existing.is_symlink():
                rest.append(existing.name)
                existing = existing.parent
            real = existing.resolve(strict=True).joinpath(*reversed(rest))
    except FileNotFoundError:
        raise ToolError(f"{raw!r} does not exist in the workspace") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a permission problem
        raise ToolError(f"{raw!r} cannot be resolved: {exc}") from None
    for root in resolved_roots:
        if real == root or real.is_relative_to(root):
            rel_parts = real.relative_to(root).parts
            bad = next((p for p in rel_parts if p.startswith("-")), None)
            if bad is not None:
                raise ToolError(
                    f"{raw!r} resolves to a name starting with '-' ({bad!r}), which a runner "
                    "would read as an option; rename it"
                )
            return Confined(root, real)
    where = ", ".join(str(r) for r in resolved_roots)
    raise ToolError(f"{raw!r} is outside the workspace roots ({where}); use a path inside them")


def display(confined: Confined, roots: tuple[Path, ...]) -> str:
    """How to show a confined path back to the caller: relative to the first root when
    inside it, else absolute."""
    first = roots[0].resolve()
    if confined.path.is_relative_to(first):
        return confined.path.relative_to(first).as_posix() or "."
    return os.fspath(confined.path)
