"""The README's commands carry no ``sudo``: ``scripts/install.sh`` and ``scripts/test.sh``
run as root as they are, re-run themselves through sudo for an ordinary user, and stop with
one line when there is neither (a root shell has no need of sudo, and Debian's base system
and container images have none).

Only the privilege step runs here: the fake sudo records how it was asked and stops."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SCRIPTS = ["install.sh", "test.sh"]
NOBODY = 65534
#: What the scripts run before they know whether they are root.
TOOLS = ("dirname", "id", "basename")


@pytest.fixture
def fake_path() -> Iterator[Path]:
    """A PATH directory holding only the tools the privilege step needs (no real sudo)."""
    base = Path(tempfile.mkdtemp(prefix="codeteam-sudo-"))
    base.chmod(0o777)
    bin_dir = base / "bin"
    bin_dir.mkdir(mode=0o755)
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(f"/usr/bin/{tool}")
    yield bin_dir
    shutil.rmtree(base)


def add_fake_sudo(bin_dir: Path) -> Path:
    record = bin_dir.parent / "sudo-argv"
    sudo = bin_dir / "sudo"
    sudo.write_text(f"#!/bin/bash\nprintf '%s\\n' \"$@\" > {record}\n")
    sudo.chmod(0o755)
    return record


def run_as_ordinary_user(script: str, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    as_user = []
    if os.geteuid() == 0:
        as_user = ["/usr/bin/setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {"PATH": str(bin_dir), "CODETEAM_PREFIX": "/opt/elsewhere", "CI": "true", "OTHER": "x"}
    return subprocess.run(
        [*as_user, "/bin/bash", f"scripts/{script}", "--dev"],
        cwd=CHECKOUT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_an_ordinary_user_s_run_is_handed_to_sudo_with_its_settings(
    script: str, fake_path: Path
) -> None:
    record = add_fake_sudo(fake_path)
    done = run_as_ordinary_user(script, fake_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert record.read_text().splitlines() == [
        "--",
        "env",
        "CI=true",
        "CODETEAM_PREFIX=/opt/elsewhere",
        "/bin/bash",
        f"{CHECKOUT}/scripts/{script}",
        "--dev",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_without_root_or_sudo_the_script_stops_with_one_line(script: str, fake_path: Path) -> None:
    done = run_as_ordinary_user(script, fake_path)
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr == f"{script}: needs root, and sudo is not installed: run it in a root shell\n"
    )


def test_root_goes_on_without_sudo(fake_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    done = subprocess.run(
        ["/bin/bash", "-c", "source scripts/as-root.sh; as_root scripts/x.sh; echo went on"],
        cwd=CHECKOUT,
        env={"PATH": str(fake_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "went on\n", "")
