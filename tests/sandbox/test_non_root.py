"""A server run by an ordinary user: code runs as that user, whose own processes must not
eat the sandbox's process budget (RLIMIT_NPROC counts every thread of the uid)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import require_bwrap, uid_processes

SRC = Path(__file__).resolve().parents[2] / "src" / "codeteam"
USER = 60500  # an unprivileged uid of its own, below every sandbox range; no passwd entry
SCRIPT = """
import asyncio
from pathlib import Path
from codeteam.config import Settings
from codeteam.sandbox import Sandbox, SandboxSpec

async def main():
    work = Path({work!r})
    sandbox = Sandbox.from_settings(Settings(roots=(work,), state_dir=work / "state"))
    code = "import subprocess; print(subprocess.run(['echo', 'child ok'], capture_output=True).stdout.decode().strip())"
    result = await sandbox.run(SandboxSpec(argv=["/usr/bin/python3", "-c", code], timeout_s=20))
    print(result.exit_code, result.stdout.decode().strip(), result.limit)
    await sandbox.aclose()

asyncio.run(main())
"""


def as_user(*argv: str) -> list[str]:
    return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "--", *argv]


@pytest.fixture
def copy_of_package() -> Iterator[Path]:
    """The package where the unprivileged uid can read it (the checkout may be under /root)."""
    root = Path(tempfile.mkdtemp(prefix="codeteam-nonroot-", dir="/var/tmp"))
    shutil.copytree(SRC, root / "codeteam", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "work").mkdir()
    subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
    subprocess.run(["chown", f"{USER}:{USER}", str(root / "work")], check=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_busy_users_server_still_runs_code_with_children(copy_of_package: Path) -> None:
    require_bwrap()
    busy = subprocess.Popen(
        as_user("/bin/sh", "-c", "for i in $(seq 100); do sleep 60 & done; wait"),
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while len(uid_processes(USER)) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(uid_processes(USER)) >= 100  # more than the sandbox's own budget of 64
        script = SCRIPT.format(work=str(copy_of_package / "work"))
        done = subprocess.run(
            as_user("/usr/bin/python3", "-c", script),
            env={"PYTHONPATH": str(copy_of_package), "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        # the sleeps first, so their shell reaps them (killing it first would leave them
        # to be re-parented, as zombies, to this process: the sandbox made it a subreaper)
        subprocess.run(["pkill", "-KILL", "-u", str(USER), "-x", "sleep"], check=False)
        busy.wait(10)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 child ok None"


def test_an_ordinary_users_caches_live_in_their_own_cache_directory(
    copy_of_package: Path,
) -> None:
    """/var/tmp/codeteam belongs to root's build uid; a user's Go cache goes under ~/.cache."""
    home = copy_of_package / "work"
    probe = "from codeteam.config import Settings; print(Settings().state_dir)"
    done = subprocess.run(
        as_user("/usr/bin/python3", "-c", probe),
        env={"PYTHONPATH": str(copy_of_package), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stdout.strip() == f"{home}/.cache/codeteam"
