"""Finding the programs sandboxed code runs with, without running anything.

The sandbox runs code as an unprivileged uid, so every program must live somewhere that
uid can read: the world-readable runtime prefix first (``settings.runtime``), then PATH.
Versions come from files (``pyvenv.cfg``, ``dist-info`` names, Go's ``VERSION``) where
possible, because spawning ``bandit --version`` costs half a second.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


def site_packages(runtime: Path) -> Path | None:
    """The runtime venv's site-packages directory, if the runtime exists."""
    found = sorted(runtime.glob("lib/python3*/site-packages"))
    return found[-1] if found else None


#: Host directories the sandbox binds read-only (besides the runtime): a program found on
#: PATH elsewhere (a pyenv shim under /root, say) cannot run inside it.
VISIBLE_PREFIXES = ("/usr/", "/bin/", "/sbin/", "/lib/")


def visible(path: str, runtime: Path) -> bool:
    """Whether ``path`` (symlinks resolved) can be reached from inside the sandbox."""
    real = os.path.realpath(path)
    return real.startswith(VISIBLE_PREFIXES) or Path(real).is_relative_to(runtime)


def find_program(runtime: Path, name: str) -> str | None:
    """``<runtime>/bin/<name>``, else ``name`` on PATH where the sandbox can see it."""
    candidate = runtime / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    return found if found and visible(found, runtime) else None


def dist_version(runtime: Path, distribution: str) -> str | None:
    """A package's version read from its ``dist-info`` directory name in the runtime."""
    site = site_packages(runtime)
    if site is None:
        return None
    norm = re.sub(r"[-_.]+", "_", distribution).lower()
    for info in site.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        if re.sub(r"[-_.]+", "_", name).lower() == norm:
            return version
    return None
