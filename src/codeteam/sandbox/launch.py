"""How a sandbox's first process starts: in its slot's memory cgroup (when it has one), as
its slot uid (when the server is root), under its rlimits, before any user code runs.

One exec of ``codeteam-launch`` (``launch.c``, built static by ``scripts/install.sh``) does
all three. Where it is not installed (``pipx install``, a checkout), ``setpriv`` and
``prlimit`` do the same in two execs, about 1.7 ms more CPU per sandbox, behind a ``sh``
that joins the cgroup. Not Popen's ``user=``: that
makes CPython fork the whole server instead of vfork-ing it, and uvloop has no such option.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from resource import RLIM_INFINITY
from typing import TYPE_CHECKING

from codeteam.sandbox.limits import rlimits
from codeteam.sandbox.spec import Limits

if TYPE_CHECKING:
    from codeteam.sandbox.runner import Outcome

LAUNCHER = "/opt/codeteam/libexec/codeteam-launch"
SETPRIV = "/usr/bin/setpriv"
SH = "/bin/sh"
#: The fallback's cgroup join: the shell moves itself (``$0`` is the cgroup file).
_JOIN_SCRIPT = (
    '{ echo 0 > "$0"; } 2>/dev/null || { echo "codeteam: cannot join cgroup $0" >&2; exit 125; }'
    '; exec "$@"'
)
#: How the launcher (or the fallback's shell) says it could not join the call's cgroup.
_REFUSED = re.compile(rb"codeteam(?:-launch)?: (cannot join cgroup [^\n]*)")
PRLIMIT = "/usr/bin/prlimit"


@functools.cache
def launcher_installed() -> bool:
    return os.access(LAUNCHER, os.X_OK)


def prefix(
    limits: Limits,
    *,
    user: int | None,
    group: int | None = None,
    join: str | None = None,
    keep: Sequence[int] = (),
) -> list[str]:
    """The command line to put in front of a sandbox's command: in the cgroup whose
    ``tasks``/``cgroup.procs`` file is ``join`` when given, as ``user`` (and ``group``,
    default the same number; no supplementary groups) when given, with ``limits``, and
    (through the launcher) with no descriptor above 2 open but ``keep``."""
    launcher = LAUNCHER if launcher_installed() else None
    return prefix_with(launcher, limits, user=user, group=group, join=join, keep=keep)


def prefix_with(
    launcher: str | None,
    limits: Limits,
    *,
    user: int | None,
    group: int | None = None,
    join: str | None = None,
    keep: Sequence[int] = (),
) -> list[str]:
    """:func:`prefix` through ``launcher``, or through setpriv and prlimit when None (they
    close no descriptor: the asyncio loop's ``close_fds`` does, uvloop's does not)."""
    options = [
        f"--{name}={_number(soft)}" if soft == hard else f"--{name}={_number(soft)}:{_number(hard)}"
        for name, soft, hard in rlimits(limits, shared_uid=user is None)
    ]
    gid = user if group is None else group
    if launcher is not None:
        joins = [f"--join={join}"] if join is not None else []
        ids = [f"--reuid={user}", f"--regid={gid}"] if user is not None else []
        kept = [f"--keep={','.join(map(str, sorted(keep)))}"] if keep else []
        return [launcher, *joins, *ids, *kept, *options, "--"]
    joins = [SH, "-c", _JOIN_SCRIPT, join] if join is not None else []
    drop = [SETPRIV, f"--reuid={user}", f"--regid={gid}", "--clear-groups", "--"]
    return [*joins, *(drop if user is not None else []), PRLIMIT, *options, "--"]


def needed_tools() -> list[tuple[str, str]]:
    """(program, Debian package) that sandboxes start with, besides an installed launcher."""
    return [] if launcher_installed() else [(SETPRIV, "util-linux"), (PRLIMIT, "util-linux")]


def _number(value: int) -> str:
    return "unlimited" if value == RLIM_INFINITY else str(value)


def join_refused(outcome: Outcome | None) -> str | None:
    """Why the call's first process could not join its cgroup (then nothing of the call
    ran), or None. Code that prints the same line and exits 125 only fails its own call."""
    if outcome is None or outcome.returncode != 125:
        return None
    found = _REFUSED.match(outcome.stderr)
    return found.group(1).decode(errors="replace") if found else None
