"""Projects for calls that run on another node: content-addressed snapshots.

A spec binds host directories (the project, read-only). Another machine does not have
them, so the server packs each one into a tar archive named by its SHA-256 and puts it in
Ray's object store; the node that runs the call unpacks it once into its own cache (keyed
by that hash, so an unchanged project crosses the network once per node) and binds the
unpacked copy read-only at the same place in the sandbox.

What is packed follows the rules of a local snapshot (:mod:`codeteam.tools.snapshot`):
only what the sandbox's user may read (files it may read, directories it may list and
enter), without version control, virtualenvs, caches or ``node_modules``, never following
a symlink (it is packed as a symlink, resolved inside the sandbox as locally), and at most
``--snapshot-cap`` bytes. Unpacking refuses names outside the snapshot.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from codeteam.tools.snapshot import SKIPPED, Reader, generated_tree

_READ, _SEARCH = 4, 1
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: Snapshots a node keeps unpacked; the least recently used beyond this are removed.
KEPT_PER_NODE = 32


class PackError(Exception):
    """The project cannot be packed; the message says why and what to do."""


@dataclass(frozen=True)
class Packed:
    digest: str  # sha256 of ``data``: the snapshot's name on every node
    data: bytes  # a tar archive
    files: int


def pack(source: Path, reader: Reader, cap: int) -> Packed:
    """``source`` as the sandbox's user could read it, as a deterministic tar archive."""
    buffer = io.BytesIO()
    packer = _Packer(reader, cap)
    try:
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            packer.tar = tar
            top = os.open(source, _DIR_FLAGS & ~os.O_NOFOLLOW)
            try:
                packer.tree(top, PurePosixPath("."))
            finally:
                os.close(top)
    except OSError as exc:
        raise PackError(
            f"cannot pack {source} for another node ({exc.strerror or exc}: "
            f"{exc.filename or source})"
        ) from None
    data = buffer.getvalue()
    return Packed(hashlib.sha256(data).hexdigest(), data, packer.files)


class _Packer:
    def __init__(self, reader: Reader, cap: int) -> None:
        self.reader, self.cap = reader, cap
        self.size = self.files = 0
        self.tar: tarfile.TarFile | None = None

    def _add(self, name: PurePosixPath, kind: bytes, mode: int, data: bytes = b"") -> None:
        assert self.tar is not None
        info = tarfile.TarInfo(name.as_posix())
        info.type, info.mode, info.mtime = kind, mode, 0
        if kind == tarfile.SYMTYPE:
            info.linkname = data.decode("utf-8", "surrogateescape")
            self.tar.addfile(info)
        else:
            info.size = len(data)
            self.tar.addfile(info, io.BytesIO(data) if data else None)

    def tree(self, fd: int, name: PurePosixPath) -> None:
        with os.scandir(fd) as entries:
            names = sorted(e.name for e in entries)
        for entry in names:
            path = name / entry
            try:
                st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(entry, dir_fd=fd)
                    self._add(path, tarfile.SYMTYPE, 0o777, os.fsencode(target))
                elif stat.S_ISDIR(st.st_mode):
                    self._dir(fd, entry, path)
                elif stat.S_ISREG(st.st_mode):
                    self._file(fd, entry, path)
            except PermissionError:
                continue  # the server cannot read it: neither could the code

    def _dir(self, parent: int, entry: str, path: PurePosixPath) -> None:
        fd = os.open(entry, _DIR_FLAGS, dir_fd=parent)
        try:
            if entry in SKIPPED or not self.reader.may(os.fstat(fd), _READ | _SEARCH):
                return
            if generated_tree(fd):
                return
            self._add(path, tarfile.DIRTYPE, 0o755)
            self.tree(fd, path)
        finally:
            os.close(fd)

    def _file(self, parent: int, entry: str, path: PurePosixPath) -> None:
        fd = os.open(entry, _FILE_FLAGS, dir_fd=parent)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not self.reader.may(st, _READ):
                return
            with os.fdopen(os.dup(fd), "rb") as src:
                data = src.read(self.cap - self.size + 1)
            self.size += len(data)
            if self.size > self.cap:
                raise PackError(
                    f"the project is over the {self.cap / (1 << 20):g} MiB snapshot cap for "
                    "running on another node: raise --snapshot-cap, or run on a smaller "
                    "directory"
                )
            self._add(path, tarfile.REGTYPE, 0o755 if st.st_mode & 0o111 else 0o644, data)
            self.files += 1
        finally:
            os.close(fd)


class NodeProjects:
    """A node's unpacked snapshots under ``root``, by digest (world-readable, root-owned)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, asyncio.Lock] = {}
        self.unpacked = 0  # snapshots this node had to fetch (the rest were cached)

    async def path(self, digest: str, fetch: Callable[[], Awaitable[bytes]]) -> Path:
        """The unpacked snapshot ``digest``, fetched (``fetch``) and unpacked if new here."""
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"bad snapshot name {digest!r}")
        done = self.root / digest / "project"
        lock = self._locks.setdefault(digest, asyncio.Lock())
        async with lock:
            if not done.is_dir():
                data = await fetch()
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ValueError(f"snapshot {digest[:12]} arrived damaged")
                await asyncio.to_thread(self._unpack, digest, data)
                self.unpacked += 1
            os.utime(done.parent)
        return done

    def _unpack(self, digest: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=self.root))
        try:
            _extract(data, staging / "project")
            staging.chmod(0o755)
            try:
                staging.rename(self.root / digest)
            except OSError:  # another host on this machine unpacked it meanwhile
                if not (self.root / digest / "project").is_dir():
                    raise
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._evict()

    def _evict(self) -> None:
        kept = sorted(
            (p for p in self.root.iterdir() if len(p.name) == 64),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in kept[KEPT_PER_NODE:]:
            shutil.rmtree(old, ignore_errors=True)


def _extract(data: bytes, dest: Path) -> None:
    """Unpack a :func:`pack` archive into the new directory ``dest``: only plain files,
    directories and symlinks, every name inside ``dest`` and none through a symlink."""
    dest.mkdir(mode=0o755)
    links: set[PurePosixPath] = set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            name = PurePosixPath(info.name)
            if name.is_absolute() or ".." in name.parts or not name.parts:
                raise ValueError(f"snapshot entry {info.name!r} is outside the project")
            if any(parent in links for parent in name.parents):
                raise ValueError(f"snapshot entry {info.name!r} is under a symlink")
            path = dest / name
            if info.isdir():
                path.mkdir(mode=0o755)
                path.chmod(0o755)
            elif info.issym():
                os.symlink(info.linkname, path)
                links.add(name)
            elif info.isfile():
                source = tar.extractfile(info)
                assert source is not None
                with open(path, "xb") as out:
                    shutil.copyfileobj(source, out)
                path.chmod(0o755 if info.mode & 0o111 else 0o644)
            else:
                raise ValueError(f"snapshot entry {info.name!r} is not a file or directory")
