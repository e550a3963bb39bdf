"""The bubblewrap command line for one :class:`SandboxSpec`, and the file descriptors that
carry its files in (memfds read by ``--file``), so no code or data is on a command line.

What the sandbox sees: a read-only root (``--remount-ro /``) holding ``/usr`` and its
``/bin``/``/lib*`` links, an ``/etc`` of a handful of harmless host files (not the host's
``/etc``, which can hold credentials) and generated ``passwd``/``group``/``hosts``
(:mod:`codeteam.sandbox.etc`, one bind mount), its own
``/proc`` and ``/dev``, size-capped tmpfs at ``/work``, ``/tmp`` and ``/dev/shm``, the
runtime prefix and the spec's binds read-only. Every namespace is unshared (no network,
own pid 1), nested user namespaces are refused, and the launcher dies with us.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeteam.sandbox import procs
from codeteam.sandbox.cgroup import join_file
from codeteam.sandbox.launch import prefix
from codeteam.sandbox.prepare import (
    TMP,
    WORK,
    build_env,
    check_file_name,
    read_collected,
    unreachable_by,
)
from codeteam.sandbox.runner import Launch
from codeteam.sandbox.spec import SandboxSpec

BWRAP = "/usr/bin/bwrap"
UNSHARE = "/usr/bin/unshare"

#: Bind sources the sandbox uid cannot reach (a project under /root, pytest's 0700 tmp
#: dirs) are bind-mounted here first, by root, in a private mount namespace that only this
#: one sandbox launch lives in; the host only ever sees an empty directory.
STAGE = "/run/codeteam-stage"
_STAGE_SCRIPT = r"""set -e
stage=$1; n=$2; shift 2
mount -t tmpfs -o size=64k,mode=0755 codeteam-stage "$stage"
i=0
while [ "$i" -lt "$n" ]; do
  if [ -d "$1" ]; then mkdir "$stage/$i"; else : > "$stage/$i"; fi
  mount --rbind "$1" "$stage/$i"
  shift; i=$((i + 1))
done
exec "$@"
"""


@functools.cache
def system_args() -> tuple[str, ...]:
    """Mounts of the host system, computed once (the layout does not change under us)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/", top)
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{top}"]
    return tuple(args)


def _namespace(pid: int) -> tuple[int, int]:
    st = os.stat(f"/proc/{pid}/ns/pid")
    return st.st_dev, st.st_ino


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    _write_all(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@dataclass
class Prepared:
    """A ready-to-spawn sandbox and the host resources to release after it."""

    launch: Launch
    info_fd: int  # read end of bubblewrap's --info-fd (the sandbox pid 1's host pid)
    collect: dict[str, Path] = field(default_factory=dict)  # sandbox path -> host file
    _child_fds: list[int] = field(default_factory=list)
    _collect_dir: str | None = None
    _ns_pid: int | None = None
    _info: bytes = b""  # what bubblewrap has written to the info pipe so far
    _info_done: bool = False  # the info pipe is at its end
    _staged: list[str] = field(default_factory=list)  # host sources mounted under STAGE
    _ns_id: tuple[int, int] | None = None  # its pid namespace, once :meth:`pin`ned
    _owner: tuple[int, int] | None = None  # its (uid, gid) when not ours (see :meth:`pin`)

    def source(self, path: Path, *, uid: int, gid: int, switch_user: bool) -> str:
        """The path bubblewrap (running as ``uid``) should bind ``path`` from."""
        if not switch_user or unreachable_by(path, uid, gid) is None:
            return str(path)
        self._staged.append(str(path.resolve()))
        return f"{STAGE}/{len(self._staged) - 1}"

    def spawned(self) -> None:
        """Close our copies of what only the child needed."""
        for fd in self._child_fds:
            os.close(fd)
        self._child_fds.clear()

    def ns_pid(self) -> int | None:
        """Host pid of the sandbox's pid 1, once bubblewrap has reported it."""
        while self._ns_pid is None and not self._info_done:
            try:
                chunk = os.read(self.info_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._info_done = True
            self._info += chunk
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self._ns_pid = int(json.loads(self._info)["child-pid"])
        return self._ns_pid

    def pin(self) -> bool:
        """Remember which pid namespace the sandbox is; call it while the sandbox surely
        runs (its process has just answered us). False if it cannot be told."""
        ns_pid = self.ns_pid()
        if ns_pid is None:
            return False
        try:
            with self._as_owner():
                self._ns_id = _namespace(ns_pid)
        except OSError:
            return False
        return True

    def fill_file(self, name: str, data: bytes) -> None:
        """Write ``data`` into the empty ``/work/NAME`` the running sandbox made (see
        :meth:`pin`), through its pid 1's root: one copy into its tmpfs, and the file
        stays the sandbox uid's own (root cannot create files there: its uid is not
        mapped in the sandbox's user namespace).

        The directory is opened first and the pid's namespace checked after: a pid that
        still names the pinned namespace was that sandbox's pid 1 when opened (it cannot
        come back once dead), so a reused pid is never written into. Raises OSError when
        the sandbox is gone, the file is not an empty regular file, or the data does not fit.
        """
        ns_pid = self._ns_pid
        if ns_pid is None or self._ns_id is None:
            raise OSError(f"the sandbox was never pinned, cannot write {name}")
        with self._as_owner():
            work = os.open(
                f"/proc/{ns_pid}/root{WORK}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
            )
            try:
                if _namespace(ns_pid) != self._ns_id:
                    raise OSError(f"the sandbox is gone, cannot write {name}")
                flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                fd = os.open(check_file_name(name), flags, dir_fd=work)
            finally:
                os.close(work)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size:
                raise OSError(f"/work/{name} in the sandbox is not an empty file")
            _write_all(fd, data)
        finally:
            os.close(fd)

    def _as_owner(self) -> contextlib.AbstractContextManager[None]:
        """A root server reaches into the sandbox as the uid that owns its user namespace
        (:func:`procs.thread_as`): root itself would need CAP_SYS_PTRACE, which a
        container's root does not have."""
        if self._owner is None:
            return contextlib.nullcontext()
        return procs.thread_as(*self._owner)

    def read_collected(self, cap: int) -> dict[str, bytes]:
        return read_collected(self.collect, cap)

    def close(self) -> None:
        self.spawned()
        with contextlib.suppress(OSError):
            os.close(self.info_fd)
        if self._collect_dir is not None:
            shutil.rmtree(self._collect_dir, ignore_errors=True)
            self._collect_dir = None


def prepare(
    spec: SandboxSpec,
    *,
    uid: int,
    gid: int,
    switch_user: bool,
    runtime: Path | None,
    etc: Path,
    pass_fds: Sequence[int] = (),
    cgroup_procs: Path | None = None,
) -> Prepared:
    """Build the bubblewrap invocation; the caller must :meth:`Prepared.close` it.

    ``pass_fds`` reach the sandboxed command under the same numbers; the returned
    :class:`Prepared` owns them from now on (closes them once the tree is spawned).
    With ``cgroup_procs``, the launcher moves itself into that cgroup before it starts
    bubblewrap, so every process of the call is in it.
    """
    env = build_env(spec)
    info_r, info_w = os.pipe()
    os.set_blocking(info_r, False)
    prepared = Prepared(
        launch=Launch(argv=(), env=env, cwd="/"),
        info_fd=info_r,
        _child_fds=[info_w, *pass_fds],
        _owner=(uid, gid) if switch_user else None,
    )
    try:
        argv = _argv(
            spec, prepared, uid=uid, gid=gid, switch_user=switch_user, runtime=runtime, etc=etc
        )
    except BaseException:
        prepared.close()
        raise
    argv[argv.index("--info-fd") + 1] = str(info_w)
    join = None if cgroup_procs is None else str(join_file(cgroup_procs))
    user = uid if switch_user else None
    keep = prepared._child_fds
    argv = [*prefix(spec.limits, user=user, group=gid, join=join, keep=keep), *argv]
    if prepared._staged:  # root mounts first, then the prefix drops to the sandbox uid
        os.makedirs(STAGE, mode=0o755, exist_ok=True)
        argv = [
            *(UNSHARE, "--mount", "--propagation", "private", "--", "/bin/sh", "-c"),
            *(_STAGE_SCRIPT, "stage", STAGE, str(len(prepared._staged)), *prepared._staged),
            *argv,
        ]
    prepared.launch = Launch(argv=argv, env=env, cwd="/", pass_fds=tuple(prepared._child_fds))
    return prepared


def _argv(
    spec: SandboxSpec,
    prepared: Prepared,
    *,
    uid: int,
    gid: int,
    switch_user: bool,
    runtime: Path | None,
    etc: Path,
) -> list[str]:
    size = str(spec.limits.tmpfs_bytes)
    argv = [
        BWRAP,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--info-fd",
        "-1",
        *system_args(),
    ]

    def add_file(dest: str, data: bytes, perms: str) -> None:
        fd = _memfd("f", data)
        prepared._child_fds.append(fd)
        argv.extend(["--perms", perms, "--file", str(fd), dest])

    reach = functools.partial(prepared.source, uid=uid, gid=gid, switch_user=switch_user)
    argv += ["--ro-bind", reach(etc), "/etc"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm"]  # noqa: S108
    argv += ["--size", size, "--tmpfs", WORK, "--size", size, "--tmpfs", TMP]
    if runtime is not None and runtime.is_dir():
        argv += ["--ro-bind", reach(runtime), str(runtime)]
    for bind in spec.binds:
        source = Path(bind.source)
        if not source.exists():
            raise ValueError(f"bind source {source} does not exist: check the path")
        option = "--bind" if bind.writable else "--ro-bind"
        argv += [option, reach(source), bind.target]
    for name, data in spec.files.items():
        rel = check_file_name(name)
        add_file(f"{WORK}/{rel}", data, "0755" if name in spec.executables else "0644")
    if spec.collect:
        _add_collect(spec, prepared, argv, uid=uid, gid=gid, switch_user=switch_user)
    argv += ["--remount-ro", "/", "--chdir", spec.cwd, "--", *spec.argv]
    return argv


def _add_collect(
    spec: SandboxSpec,
    prepared: Prepared,
    argv: list[str],
    *,
    uid: int,
    gid: int,
    switch_user: bool,
) -> None:
    """Bind an empty host file, owned by the sandbox uid, at each collected path.

    The file is read after the whole tree is dead, so nothing can change it behind our
    back; but whatever runs in the sandbox may write it (a reporter such as pytest's
    junitxml runs in the same process as the code under test), so collected bytes are
    untrusted input. Tools that replace files by rename cannot write a collected path.
    """
    base = tempfile.mkdtemp(prefix="codeteam-collect-")
    prepared._collect_dir = base
    if switch_user:
        os.chown(base, uid, gid)
    for i, target in enumerate(spec.collect):
        host = Path(base, str(i))
        fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            if switch_user:
                os.fchown(fd, uid, gid)
        finally:
            os.close(fd)
        prepared.collect[target] = host
        argv += ["--bind", str(host), target]
