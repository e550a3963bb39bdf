"""Writing a file into the workspace for a tool: atomically, and owned by the workspace's owner.

Readers see the old file or the new one, never a mix (a temporary file beside it, renamed
over it). A server running as root (the container, a system service) would otherwise leave
root-owned files in a user's workspace: what it creates takes the owner of the workspace
root, and a file it replaces keeps its owner.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from codeteam.tools.paths import Confined, confine


def replace_file(roots: tuple[Path, ...], target: Confined, data: bytes, mode: int) -> None:
    """Write ``data`` at ``target`` with ``mode``, creating its parent directories."""
    owner = _owner(target)
    _make_dirs(target.path.parent, owner)
    confine(roots, str(target.path.parent))  # nothing moved the parent outside meanwhile
    fd, tmp = tempfile.mkstemp(prefix=".codeteam-", dir=target.path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, target.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _owner(target: Confined) -> tuple[int, int] | None:
    """Who should own what we write: None when we are not root (we cannot give files away)."""
    if os.geteuid() != 0:
        return None
    try:
        st = target.path.stat()  # replacing: the file keeps its owner
    except FileNotFoundError:
        st = target.root.stat()
    return st.st_uid, st.st_gid


def _make_dirs(path: Path, owner: tuple[int, int] | None) -> None:
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        for directory in missing:
            os.chown(directory, *owner, follow_symlinks=False)
