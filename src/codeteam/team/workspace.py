"""Isolated copies of the workspace, and the three-way merge that brings a task's work back.

Each task works on a copy made from the workspace as its dependencies left it (its
*base*). When it ends, every file it changed relative to that base is merged into the
workspace: a file nobody else touched is applied; a file both changed is merged line by
line (``git merge-file``); when that fails it is a conflict — the workspace keeps the
version merged first and this task's version is kept beside it as
``NAME.conflict-TASK``. Nothing is ever silently overwritten.

These functions are synchronous; the team runs them in a thread under one lock, so a
snapshot never sees a half-applied merge and the event loop keeps serving other tasks.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from codeteam.team import crashpoints

#: Never copied nor merged: version control and caches the tools recreate.
SKIP = frozenset(
    {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".venv", "node_modules"}
)

#: A merge note names at most this many files.
MAX_NAMED = 10

#: A task's recorded diffs: at most this many files, each cut to this many characters.
MAX_DIFFS = 200
DIFF_CAP = 64 * 1024


@dataclass(frozen=True)
class Conflict:
    path: str  # relative path; the workspace keeps the version merged first
    other: str  # relative path where this task's version was kept ("" if it deleted it)
    detail: str


@dataclass
class MergeResult:
    applied: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # both changed, merged line by line
    conflicts: list[Conflict] = field(default_factory=list)

    def describe(self) -> str:
        """The note added to the task's summary (the lead reads it; ``runs show`` too)."""
        parts = []
        files = sorted(self.applied + self.merged)
        if files:
            names = ", ".join(files[:MAX_NAMED]) + (
                f" and {len(files) - MAX_NAMED} more" if len(files) > MAX_NAMED else ""
            )
            parts.append(f"merged {len(files)} changed file(s): {names}")
        for c in self.conflicts:
            parts.append(f"CONFLICT {c.path}: {c.detail}")
        return "; ".join(parts)


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP}


def snapshot(src: Path, dst: Path) -> None:
    """Copy ``src`` to a fresh ``dst`` (replaced if present), symlinks kept as links."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, symlinks=True, ignore=_ignore)
    dst.chmod(0o755)  # the sandbox runs code as an unprivileged uid: it must get in


def digest(root: Path) -> str:
    """A name for a tree's content: paths, file bytes and link targets (not times or modes)."""
    h = hashlib.sha256()
    for rel, p in sorted(_files(root).items()):
        h.update(rel.encode() + b"\0")
        h.update(b"L" + os.readlink(p).encode() if p.is_symlink() else b"F" + p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:24]


def content_snapshot(src: Path, into: Path) -> Path:
    """A snapshot of ``src`` in ``into``, named by its content: a name never stands for
    two different states (not across a resume either), and it appears only complete."""
    tmp = into / f".tmp-{uuid.uuid4().hex}"
    snapshot(src, tmp)
    dst = into / digest(tmp)
    if dst.is_dir():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, dst)
    return dst


def _files(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for name in filenames:
            p = Path(dirpath, name)
            out[p.relative_to(root).as_posix()] = p
    return out


def _read(p: Path | None) -> bytes | None:
    if p is None:
        return None
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return None


def _write(p: Path, data: bytes | None) -> None:
    if data is None:
        p.unlink(missing_ok=True)
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.merge-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, p)


def _line_merge(ours: bytes, base: bytes, theirs: bytes) -> bytes | None:
    """A clean three-way line merge, or None (conflicting hunks, binary, no git)."""
    if b"\0" in ours + base + theirs:
        return None
    git = shutil.which("git")
    if git is None:
        return None
    with tempfile.TemporaryDirectory(prefix="codeteam-merge-") as d:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(d, name)
            path.write_bytes(data)
            paths.append(str(path))
        done = subprocess.run(
            [git, "merge-file", "-p", "--quiet", *paths], capture_output=True, check=False
        )
    return done.stdout if done.returncode == 0 else None


def _text(data: bytes | None) -> list[str] | None:
    if data is None:
        return []
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def changes(base: Path, work: Path) -> list[tuple[str, str]]:
    """What a task changed in its copy ``work`` relative to ``base``: (path, unified diff)
    per changed file, for the records (binary files named, not diffed)."""
    base_files, work_files = _files(base), _files(work)
    out: list[tuple[str, str]] = []
    for rel in sorted(set(base_files) | set(work_files)):
        b, t = _read(base_files.get(rel)), _read(work_files.get(rel))
        if b == t:
            continue
        if len(out) == MAX_DIFFS:
            out.append(("…", "more files changed; diffs are kept for the first ones only"))
            break
        old, new = _text(b), _text(t)
        if old is None or new is None:
            out.append((rel, "binary file changed\n"))
            continue
        a_name = f"a/{rel}" if b is not None else "/dev/null"
        b_name = f"b/{rel}" if t is not None else "/dev/null"
        diff = "".join(difflib.unified_diff(old, new, a_name, b_name))
        if len(diff) > DIFF_CAP:
            diff = diff[:DIFF_CAP] + f"\n[... {len(diff) - DIFF_CAP} characters cut ...]\n"
        out.append((rel, diff))
    return out


def merge_back(base: Path, work: Path, target: Path, task: str) -> MergeResult:
    """Merge the changes ``work`` made relative to ``base`` into ``target``."""
    result = MergeResult()
    base_files, work_files = _files(base), _files(work)
    for rel in sorted(set(base_files) | set(work_files)):
        b, t = _read(base_files.get(rel)), _read(work_files.get(rel))
        if b == t:
            continue  # this task did not change it
        dest = target / rel
        o = _read(dest)
        if o == b:
            _write(dest, t)
            result.applied.append(rel)
            crashpoints.reached("merging", task)
            continue
        if o == t:
            continue  # the same change is already there
        if o is not None and t is not None:
            merged = _line_merge(o, b or b"", t)
            if merged is not None:
                _write(dest, merged)
                result.merged.append(rel)
                continue
        if t is None:
            result.conflicts.append(
                Conflict(rel, "", f"task {task} deleted it, another task changed it; kept")
            )
            continue
        other = f"{rel}.conflict-{task}"
        _write(target / other, t)
        detail = (
            f"changed by another task and by {task} in overlapping ways; the workspace keeps "
            f"the version merged first, {task}'s version is in {other}"
        )
        result.conflicts.append(Conflict(rel, other, detail))
    return result
