"""Workspace tools: read, write and list files under the workspace roots (the server
process does the I/O; every path is confined first)."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.paths import confine, display

READ_CAP_BYTES = 256 * 1024
LIST_CAP = 1000
SKIP_DIRS = frozenset(
    {".git", "__pycache__", "node_modules", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)


@dataclass
class FileContent:
    status: Literal["ok"]
    path: str
    content: str
    offset: Annotated[int, Doc("the first line returned (0-based)")]
    lines: Annotated[int, Doc("how many lines were returned")]
    total_lines: int
    size: int
    truncated: Annotated[bool, Doc("more lines follow; read again with a larger offset")]

    def render(self) -> str:
        more = (
            f"\n[... {self.total_lines - self.offset - self.lines} more lines; "
            f"read with offset={self.offset + self.lines}]"
            if self.truncated
            else ""
        )
        return self.content + more


@dataclass
class WriteResult:
    status: Literal["ok"]
    path: str
    bytes_written: int
    created: bool

    def render(self) -> str:
        return (
            f"{'created' if self.created else 'replaced'} {self.path} ({self.bytes_written} bytes)"
        )


@dataclass
class FileEntry:
    path: str
    type: Literal["file", "dir", "symlink"]
    size: int


@dataclass
class FileList:
    status: Literal["ok"]
    path: str
    entries: list[FileEntry] = field(default_factory=list)
    truncated: bool = False

    def render(self) -> str:
        lines = [f"{e.path}{'/' if e.type == 'dir' else ''}" for e in self.entries]
        if self.truncated:
            lines.append(f"[... stopped at {LIST_CAP} entries; narrow path or pattern]")
        return "\n".join(lines) or f"{self.path}: no matching files"


async def read_file(
    ctx: ToolContext,
    path: Annotated[str, Doc("file to read, relative to the workspace root")],
    offset: Annotated[int | None, Doc("first line to return, 0-based (default 0)")] = None,
    limit: Annotated[
        int | None, Doc("at most this many lines (default: all, up to 256 KiB)")
    ] = None,
) -> FileContent:
    if offset is not None and offset < 0:
        raise ToolError("offset must be 0 or more")
    if limit is not None and limit < 1:
        raise ToolError("limit must be 1 or more")
    target = confine(ctx.settings.roots, path)
    if not target.path.is_file():
        raise ToolError(f"{path!r} is not a regular file; use list_files for directories")
    data = target.path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{path!r} is a binary file; read_file returns text only")
    all_lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    start = offset or 0
    chosen: list[str] = []
    size = 0
    for line in all_lines[start : start + limit if limit else None]:
        size += len(line.encode("utf-8"))
        if size > READ_CAP_BYTES and chosen:
            break
        chosen.append(line)
    return FileContent(
        status="ok",
        path=display(target, ctx.settings.roots),
        content="".join(chosen),
        offset=start,
        lines=len(chosen),
        total_lines=len(all_lines),
        size=len(data),
        truncated=start + len(chosen) < len(all_lines),
    )


async def write_file(
    ctx: ToolContext,
    path: Annotated[str, Doc("file to write, relative to the workspace root")],
    content: Annotated[str, Doc("the complete new text of the file")],
) -> WriteResult:
    from codeteam.tools.writing import replace_file

    settings = ctx.settings
    data = content.encode("utf-8")
    if len(data) > settings.max_code_bytes:
        raise ToolError(
            f"content is {len(data)} bytes, over the {settings.max_code_bytes}-byte limit"
        )
    target = confine(settings.roots, path, must_exist=False)
    if target.path.is_dir():
        raise ToolError(f"{path!r} is a directory; give a file path")
    if target.path == target.root:
        raise ToolError("give a file path, not the workspace root")
    created = not target.path.exists()
    mode = target.path.stat().st_mode & 0o777 if not created else 0o644
    replace_file(settings.roots, target, data, mode)
    return WriteResult("ok", display(target, settings.roots), len(data), created)


async def list_files(
    ctx: ToolContext,
    path: Annotated[str | None, Doc("directory to list, relative to the workspace root")] = None,
    pattern: Annotated[
        str | None, Doc("glob on the relative path, e.g. *.py or src/*.go (default: everything)")
    ] = None,
) -> FileList:
    roots = ctx.settings.roots
    target = confine(roots, "." if path is None else path)
    if not target.path.is_dir():
        raise ToolError(f"{path!r} is not a directory; use read_file for files")
    entries: list[FileEntry] = []
    truncated = False
    for folder, dirs, files in os.walk(target.path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        here = Path(folder)
        for name in [*dirs, *sorted(files)]:
            full = here / name
            rel = full.relative_to(target.path).as_posix()
            if pattern and not (fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)):
                continue
            kind: Literal["file", "dir", "symlink"] = (
                "symlink" if full.is_symlink() else "dir" if full.is_dir() else "file"
            )
            size = full.lstat().st_size if kind == "file" else 0
            entries.append(FileEntry(rel, kind, size))
            if len(entries) >= LIST_CAP:
                truncated = True
                break
        if truncated:
            break
    entries.sort(key=lambda e: e.path)
    return FileList("ok", display(target, roots), entries, truncated)
