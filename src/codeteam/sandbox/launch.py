"""How a sandbox's first process starts: as its slot uid (when the server is root), under
its rlimits, before any user code runs.

One exec of ``codeteam-launch`` (``launch.c``, built static by ``scripts/install.sh``) does
both. Where it is not installed (``pipx install``, a checkout), ``setpriv`` and ``prlimit``
do the same in two execs, about 1.7 ms more CPU per sandbox. Not Popen's ``user=``: that
makes CPython fork the whole server instead of vfork-ing it, and uvloop has no such option.
"""

from __future__ import annotations

import functools
import os
from resource import RLIM_INFINITY

from codeteam.sandbox.limits import rlimits
from codeteam.sandbox.spec import Limits

LAUNCHER = "/opt/codeteam/libexec/codeteam-launch"
SETPRIV = "/usr/bin/setpriv"
PRLIMIT = "/usr/bin/prlimit"


@functools.cache
def launcher_installed() -> bool:
    return os.access(LAUNCHER, os.X_OK)


def prefix(limits: Limits, *, user: int | None, group: int | None = None) -> list[str]:
    """The command line to put in front of a sandbox's command: as ``user`` (and ``group``,
    default the same number; no supplementary groups) when given, with ``limits``."""
    return prefix_with(LAUNCHER if launcher_installed() else None, limits, user=user, group=group)


def prefix_with(
    launcher: str | None, limits: Limits, *, user: int | None, group: int | None = None
) -> list[str]:
    """:func:`prefix` through ``launcher``, or through setpriv and prlimit when None."""
    options = [
        f"--{name}={_number(soft)}" if soft == hard else f"--{name}={_number(soft)}:{_number(hard)}"
        for name, soft, hard in rlimits(limits, shared_uid=user is None)
    ]
    gid = user if group is None else group
    if launcher is not None:
        ids = [f"--reuid={user}", f"--regid={gid}"] if user is not None else []
        return [launcher, *ids, *options, "--"]
    drop = [SETPRIV, f"--reuid={user}", f"--regid={gid}", "--clear-groups", "--"]
    return [*(drop if user is not None else []), PRLIMIT, *options, "--"]


def needed_tools() -> list[tuple[str, str]]:
    """(program, Debian package) that sandboxes start with, besides an installed launcher."""
    return [] if launcher_installed() else [(SETPRIV, "util-linux"), (PRLIMIT, "util-linux")]


def _number(value: int) -> str:
    return "unlimited" if value == RLIM_INFINITY else str(value)
