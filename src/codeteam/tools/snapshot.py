"""A read-only copy of a project whose own directory the sandbox's user cannot enter.

Code runs as an unprivileged uid. A directory *above* the project that it cannot cross
(``/root``, a 0700 home) is no obstacle: the project is bound in. But when the project
directory itself, or a directory between it and the path a tool was given, is closed to
that uid (``mktemp -d`` makes 0700 directories, and so do many private checkouts), the
sandbox cannot even start in it. Then the server, which can read it, copies it for the
call, and the tool says so.

What the copy holds is exactly what the sandbox's user could read if those blocking
directories were open: files it may read, directories it may list and enter; everything
else is left out, names included, so a file kept private inside the project (a 0600
secret) stays as unreadable as it was. Also left out: version control (``.git`` ...),
virtualenvs (any directory with a ``pyvenv.cfg``), caches (``__pycache__``,
``.mypy_cache`` ..., any directory tagged with a ``CACHEDIR.TAG``) and ``node_modules``.
Copied files are world-readable (executable if they were), directories 0755, all inside a
directory only the server may enter: the sandbox gets the copy through its bind (as it gets
a project under ``/root``), and no other user of the machine sees what the closed
directory hid from them. The copy is bound read-only like the project, and removed after
the call.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from codeteam.permissions import READ, SEARCH, permitted
from codeteam.tools.files import SKIP_DIRS

#: What list_files skips, plus other version control and virtualenv/tox directories.
SKIPPED = SKIP_DIRS | {".hg", ".svn", "venv", ".tox", ".nox"}


@dataclass(frozen=True)
class Reader:
    """Who sandboxed code runs as, for permission checks on host files."""

    uid: int
    gids: frozenset[int]

    def may(self, st: os.stat_result, want: int) -> bool:
        """Whether this reader has every ``want`` bit (``READ``, ``SEARCH``) on ``st``."""
        return permitted(st, self.uid, self.gids) & want == want


class SnapshotError(Exception):
    """The copy cannot be made; the message is one line naming the directory, the reason
    and the fix."""


def blocking(project: Path, target: Path, reader: Reader) -> Path | None:
    """The first directory from ``project`` down to ``target`` (its directory, for a
    file) that ``reader`` cannot list and enter, or None when all are open to it."""
    end = target if target.is_dir() else target.parent
    chain = [end, *end.parents]
    for folder in reversed(chain[: chain.index(project) + 1]):
        try:
            st = folder.stat()
        except OSError:
            return folder
        if not reader.may(st, READ | SEARCH):
            return folder
    return None


@dataclass(frozen=True)
class Snapshot:
    path: Path  # the copy of the project directory
    files: int
    size: int  # bytes copied


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class _OverCap(Exception):
    pass


class _Copier:
    """One copy, stoppable from another thread (a cancelled call).

    Reads go through directory descriptors and ``O_NOFOLLOW``, and every check is made on
    the opened file itself: a name swapped for a symlink meanwhile is never followed, so
    the copy cannot be made to hold anything from outside the project.
    """

    def __init__(
        self, reader: Reader, cap: int, keep: frozenset[Path], stop: threading.Event
    ) -> None:
        self.reader, self.cap, self.keep, self.stop = reader, cap, keep, stop
        self.files = 0
        self.size = 0

    def tree(self, fd: int, source: Path, dest: Path) -> None:
        """Copy the open directory ``fd`` (``source``) into the new directory ``dest``."""
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries)
        for name in names:
            if self.stop.is_set():
                raise SnapshotError("the call was cancelled")
            path = source / name
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    os.symlink(os.readlink(name, dir_fd=fd), dest / name)
                elif stat.S_ISDIR(st.st_mode):
                    self._dir(fd, path, dest / name)
                elif stat.S_ISREG(st.st_mode):
                    self._file(fd, path, dest / name)
            except PermissionError as exc:
                if path in self.keep:  # on the way to the target: the copy would be useless
                    raise PermissionError(exc.errno, exc.strerror, str(path)) from None
                continue  # the server cannot read it either: neither could the code
        dest.chmod(0o755)

    def _dir(self, parent: int, path: Path, dest: Path) -> None:
        fd = os.open(path.name, _DIR_FLAGS, dir_fd=parent)
        try:
            if path not in self.keep:
                if path.name in SKIPPED or not self.reader.may(os.fstat(fd), READ | SEARCH):
                    return
                if generated_tree(fd):
                    return
            dest.mkdir()
            self.tree(fd, path, dest)
        finally:
            os.close(fd)

    def _file(self, parent: int, path: Path, dest: Path) -> None:
        fd = os.open(path.name, _FILE_FLAGS, dir_fd=parent)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not self.reader.may(st, READ):
                return
            with open(dest, "xb") as out, os.fdopen(os.dup(fd), "rb") as src:
                while chunk := src.read(1 << 20):
                    self.size += len(chunk)
                    if self.size > self.cap:
                        raise _OverCap
                    out.write(chunk)
            dest.chmod(0o755 if st.st_mode & 0o111 else 0o644)
            self.files += 1
        finally:
            os.close(fd)


def generated_tree(dir_fd: int) -> bool:
    """A virtualenv or a tagged cache directory: generated, left out of every snapshot."""
    return any(_exists(dir_fd, marker) for marker in ("pyvenv.cfg", "CACHEDIR.TAG"))


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def take(
    project: Path,
    target: Path,
    blocked: Path,
    reader: Reader,
    cap: int,
    stop: threading.Event,
) -> Snapshot:
    """Copy ``project`` (the directories on the way to ``target`` open, ``blocked``
    among them) into a new temporary directory; the caller removes ``Snapshot.path``'s
    parent. Raises :class:`SnapshotError` over ``cap`` bytes, or when the server cannot
    read what it must copy."""
    end = target if target.is_dir() else target.parent
    keep = frozenset([end, *(p for p in end.parents if p.is_relative_to(project))])
    base = Path(tempfile.mkdtemp(prefix="codeteam-snapshot-"))  # 0700: the server's only
    copier = _Copier(reader, cap, keep, stop)
    dest = base / "project"
    reason = f"{blocked} cannot be read by the sandbox's user ({why(blocked)})"
    try:
        dest.mkdir()
        top = os.open(project, _DIR_FLAGS & ~os.O_NOFOLLOW)
        try:
            copier.tree(top, project, dest)
        finally:
            os.close(top)
    except _OverCap:
        shutil.rmtree(base, ignore_errors=True)
        raise SnapshotError(
            f"{reason}, and a read-only copy of {project} would be over the "
            f"{_mib(cap)} snapshot cap: run chmod -R o+rX {project}, or raise --snapshot-cap"
        ) from None
    except OSError as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise SnapshotError(
            f"{reason}, nor copied by the server ({exc.strerror or exc}: "
            f"{exc.filename or project}): run chmod -R o+rX {project}"
        ) from None
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return Snapshot(dest, copier.files, copier.size)


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


def why(folder: Path) -> str:
    """Why the sandbox's user cannot use ``folder``, in a few words."""
    try:
        mode = stat.S_IMODE(folder.stat().st_mode)
    except OSError as exc:
        return exc.strerror or str(exc)
    return f"mode {mode:04o}"
