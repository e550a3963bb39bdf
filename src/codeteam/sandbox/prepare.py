"""Checks and pieces every backend needs from a :class:`SandboxSpec`: the scrubbed
environment, safe file names, and whether a host path is reachable by the sandbox uid.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from pathlib import Path

from codeteam.permissions import SEARCH, permitted
from codeteam.sandbox.spec import SandboxSpec

WORK = "/work"
TMP = "/tmp"  # noqa: S108 - the sandbox's private tmpfs, not the host's /tmp
MAX_FILES = 128

#: The only variables the code sees besides the spec's own: never the server's environment.
BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": WORK, "TMPDIR": TMP, "LANG": "C.UTF-8"}


def build_env(spec: SandboxSpec) -> dict[str, str]:
    env = dict(BASE_ENV)
    for key, value in spec.env.items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(f"bad environment variable {key!r}: no '=' or NUL allowed")
        env[key] = value
    return env


def check_file_name(name: str) -> str:
    """A path relative to /work, normalised; refuses escapes and oddities."""
    norm = posixpath.normpath(name)
    if not name or "\0" in name or norm.startswith(("/", "..")) or norm == ".":
        raise ValueError(f"bad sandbox file name {name!r}: use a relative path inside /work")
    return norm


def check_sandbox_path(path: str) -> str:
    """An absolute, normalised path inside the sandbox (bind targets, collect paths, cwd)."""
    norm = posixpath.normpath(path)
    if not path.startswith("/") or "\0" in path or norm == "/":
        raise ValueError(f"bad sandbox path {path!r}: use an absolute path such as /work/x")
    return norm


def check_spec(spec: SandboxSpec) -> None:
    if not spec.argv or not spec.argv[0].startswith("/"):
        raise ValueError("sandbox argv must start with an absolute program path")
    if any("\0" in a for a in spec.argv):
        raise ValueError("sandbox argv must not contain NUL bytes")
    if len(spec.files) > MAX_FILES:
        raise ValueError(f"too many files for one sandbox ({len(spec.files)} > {MAX_FILES})")
    unknown = set(spec.executables) - set(spec.files)
    if unknown:
        raise ValueError(f"executables not among files: {sorted(unknown)}")
    check_sandbox_path(spec.cwd)
    for path in spec.collect:
        check_sandbox_path(path)
    for bind in spec.binds:
        check_sandbox_path(bind.target)


def unreachable_by(path: Path, uid: int, gid: int) -> Path | None:
    """The first directory on the way to ``path`` that ``uid``/``gid`` cannot search."""
    current = Path("/")
    for part in path.resolve().parts[1:]:
        try:
            st = os.stat(current)
        except OSError:
            return current
        if not permitted(st, uid, frozenset([gid])) & SEARCH:
            return current
        current = current / part
    return None


def read_collected(collect: Mapping[str, Path], cap: int) -> dict[str, bytes]:
    """The non-empty collected files, at most ``cap`` bytes each; a file the code replaced
    by a symlink (or removed) is skipped rather than followed."""
    got: dict[str, bytes] = {}
    for target, host in collect.items():
        try:
            fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            data = os.read(fd, cap)
        finally:
            os.close(fd)
        if data:
            got[target] = data
    return got
