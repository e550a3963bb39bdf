"""Whether a uid may read, write or search a host file, from its POSIX permission bits: what
the sandbox checks before binding a path, and what a project snapshot checks per file."""

from __future__ import annotations

import os

READ, WRITE, SEARCH = 4, 2, 1


def permitted(st: os.stat_result, uid: int, gids: frozenset[int]) -> int:
    """The rwx bits (:data:`READ`, :data:`WRITE`, :data:`SEARCH`) that ``uid`` with groups
    ``gids`` has on a file (never root: code does not run as root)."""
    if st.st_uid == uid:
        return (st.st_mode >> 6) & 7
    if st.st_gid in gids:
        return (st.st_mode >> 3) & 7
    return st.st_mode & 7
