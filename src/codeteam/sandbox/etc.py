"""The sandbox's ``/etc``: one read-only directory per identity, prepared on the host and
bound whole, instead of a bind mount per host file plus generated files.

bubblewrap re-reads ``/proc/self/mountinfo`` for every bind mount it makes; the eight
``/etc`` entries a sandbox had (five host files bound, three generated) cost about 2 ms of
CPU per sandbox here, one bind of a prepared tree a fraction of that (issue 16).

What a tree holds: a handful of harmless host files (not ``/etc`` wholesale, which can hold
credentials), copied; links into ``/usr`` (which the sandbox sees whole) kept as the same
link; and the identity's generated ``passwd``, ``group`` and ``hosts``. A tree is rebuilt
when one of its host files changes (their modification times are checked per sandbox),
so the sandbox sees what the host has now, as with bind mounts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from codeteam.sandbox.prepare import WORK

#: The host files a sandbox sees under /etc.
HOST_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "localtime",
    "alternatives",
    "os-release",
    "mime.types",
)
PREFIX = "codeteam-etc-"


def identity_files(uid: int, gid: int) -> dict[str, bytes]:
    return {
        "passwd": (
            f"sandbox:x:{uid}:{gid}:sandbox:{WORK}:/usr/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ).encode(),
        "group": f"sandbox:x:{gid}:\nnogroup:x:65534:\n".encode(),
        "hosts": b"127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n",
    }


class EtcTrees:
    """The prepared ``/etc`` trees of one server (under a world-searchable directory of
    its own, removed by :meth:`close`; a dead server's are removed by the next one)."""

    def __init__(self, source: Path = Path("/etc"), parent: str | None = None) -> None:
        self._source = source
        self._parent = parent
        self._dir: Path | None = None
        #: (uid, gid) -> (the host files' stamp it was built from, the tree)
        self._trees: dict[tuple[int, int], tuple[tuple[int, ...], Path]] = {}
        self._built = 0

    def tree(self, uid: int, gid: int) -> Path:
        """The ``/etc`` for a sandbox running as ``uid``/``gid``, up to date."""
        stamp = self._stamp()
        known = self._trees.get((uid, gid))
        if known is not None and known[0] == stamp and known[1].is_dir():
            return known[1]
        # An outdated tree stays until close: a running sandbox has it bound, and removing
        # its files would remove them under that sandbox too.
        tree = self._build(uid, gid)
        self._trees[(uid, gid)] = (stamp, tree)
        return tree

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._trees.clear()

    def _stamp(self) -> tuple[int, ...]:
        stamp = []
        for name in HOST_FILES:
            try:
                st = os.lstat(self._source / name)
                stamp += [st.st_mtime_ns, st.st_ino]
            except FileNotFoundError:
                stamp += [-1, -1]
        return tuple(stamp)

    def _build(self, uid: int, gid: int) -> Path:
        if self._dir is None or not self._dir.is_dir():
            remove_stale(self._parent)
            self._dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=self._parent))
            self._dir.chmod(0o755)
        self._built += 1
        tree = self._dir / str(self._built)
        tree.mkdir(mode=0o755)
        for name in HOST_FILES:
            host = self._source / name
            if _links_into_usr(host):
                # e.g. localtime -> /usr/share/zoneinfo/...: the same link (readlink names
                # the zone), which works inside because /usr is there
                os.symlink(os.readlink(host), tree / name)
            elif host.is_dir():
                shutil.copytree(host, tree / name, symlinks=True)
            elif host.exists():
                shutil.copyfile(host, tree / name)
                (tree / name).chmod(0o644)
        for name, data in identity_files(uid, gid).items():
            (tree / name).write_bytes(data)
            (tree / name).chmod(0o644)
        return tree


def _links_into_usr(path: Path) -> bool:
    """Whether ``path`` is a symlink straight into /usr (which the sandbox sees whole), so
    the same link works inside; a link through anything else is copied as a file instead."""
    if not path.is_symlink():
        return False
    target = os.path.normpath(os.path.join(path.parent, os.readlink(path)))
    return target.startswith("/usr/") and os.path.realpath(path).startswith("/usr/")


def remove_stale(parent: str | None = None) -> None:
    """Trees left by servers that died without closing theirs."""
    base = Path(parent or tempfile.gettempdir())
    for entry in base.glob(f"{PREFIX}*-*"):
        pid = entry.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)
