"""The sandbox launcher: ``codeteam-launch`` (built from launch.c) and the setpriv + prlimit
fallback give a command the same uid, groups and limits; bad usage is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from codeteam.sandbox import Limits, Sandbox, SandboxSpec, launch
from codeteam.sandbox.cgroup import MemoryCgroups, join_file
from codeteam.sandbox.runner import Outcome
from tests.sandbox.conftest import UID_BASE, make_settings, require_bwrap

SOURCE = Path(launch.__file__).with_name("launch.c")
LIMITS = Limits(cpu_s=7, memory_bytes=300 << 20, processes=40, file_size_bytes=5 << 20)
UID = UID_BASE + 90
#: The identity and limits a started process sees: ``id`` and its /proc/self/limits rows.
REPORT = "id -u; id -g; id -G; grep -E '^Max (cpu|file size|processes|open|address|core)' /proc/self/limits"


@pytest.fixture(scope="module")
def launcher() -> Iterator[str]:
    """The launcher as install.sh builds it, from this checkout's source."""
    if shutil.which("gcc") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("gcc is missing: scripts/install.sh installs it")
        pytest.skip("gcc is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "codeteam-launch")
        subprocess.run(
            ["gcc", "-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o", binary, str(SOURCE)],
            check=True,
        )
        os.chmod(tmp, 0o755)
        yield binary


def report(prefix: list[str]) -> str:
    done = subprocess.run(
        [*prefix, "/bin/sh", "-c", REPORT], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_launcher_and_setpriv_with_prlimit_start_a_command_alike(launcher: str) -> None:
    user = UID if os.geteuid() == 0 else None
    ours = report(launch.prefix_with(launcher, LIMITS, user=user))
    util_linux = report(launch.prefix_with(None, LIMITS, user=user))
    assert ours == util_linux
    rows = ours.splitlines()
    if user is not None:
        assert rows[:3] == [str(UID), str(UID), str(UID)]  # no supplementary groups
    limits = {" ".join(r.split()[:-3]): r.split()[-3:-1] for r in rows[3:]}
    assert limits["Max cpu time"] == ["7", "8"]  # SIGKILL one second after SIGXCPU
    assert limits["Max address space"] == [str(300 << 20)] * 2
    assert limits["Max file size"] == [str(5 << 20)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max open files"] == ["256", "256"]


@pytest.mark.parametrize("through", ["launcher", "setpriv and prlimit"])
def test_the_first_process_joins_the_cgroup_before_it_drops_root(
    launcher: str, through: str
) -> None:
    """The command (and all it starts) is in the cgroup; a cgroup that cannot be joined
    stops the command from running at all, with the one line the server recognises."""
    cgroups = MemoryCgroups.find()
    if isinstance(cgroups, str):
        pytest.skip(f"no memory cgroups here: {cgroups}")
    try:
        procs = cgroups.procs(0, 64 << 20)
        chosen = launcher if through == "launcher" else None
        user = UID if os.geteuid() == 0 else None
        join = str(join_file(procs))
        prefix = launch.prefix_with(chosen, LIMITS, user=user, join=join)
        done = subprocess.run([*prefix, "/bin/cat", "/proc/self/cgroup"], capture_output=True)
        assert done.returncode == 0, done
        memory = [line for line in done.stdout.decode().splitlines() if "memory" in line]
        assert memory and memory[0].endswith("/" + procs.parent.name), memory
        gone = str(procs.parent.with_name("codeteam-no-such-cgroup") / "tasks")
        prefix = launch.prefix_with(chosen, LIMITS, user=user, join=gone)
        done = subprocess.run([*prefix, "/bin/echo", "ran"], capture_output=True)
        outcome = Outcome(done.returncode, done.stdout, done.stderr, False, False, None, 0.0)
        assert done.stdout == b"" and done.returncode == 125, done
        assert launch.join_refused(outcome) == f"cannot join cgroup {gone}" + (
            ": No such file or directory" if chosen else ""
        )
    finally:
        cgroups.close()


def test_no_address_space_limit_is_unlimited(launcher: str) -> None:
    unbounded = Limits(memory_bytes=(1 << 64) - 1)
    ours = report(launch.prefix_with(launcher, unbounded, user=None))
    assert "Max address space unlimited unlimited bytes" in [
        " ".join(r.split()) for r in ours.splitlines()
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus=1", "--", "/bin/true"], "unknown option: --bogus=1"),
        (["--nofile=ten", "--", "/bin/true"], "not a number: --nofile=ten"),
        (["--nofile=-1", "--", "/bin/true"], "not a number: --nofile=-1"),
        (["--reuid=5", "--", "/bin/true"], "--reuid and --regid go together"),
        (
            ["--reuid=unlimited", "--regid=unlimited", "--", "/bin/true"],
            "not an id: --reuid=unlimited",
        ),
        (["--reuid=4294967295", "--regid=1", "--", "/bin/true"], "not an id: --reuid=4294967295"),
        (["--nofile=9", "--", "true"], "the command must be an absolute path: true"),
        (["--nofile=9", "--"], "no command after --"),
        (["--nofile=9", "/bin/true"], "unknown argument: /bin/true"),
        (
            ["--join=tasks", "--", "/bin/true"],
            "the cgroup file must be an absolute path: --join=tasks",
        ),
    ],
)
def test_bad_usage_is_refused_with_one_line(launcher: str, args: list[str], message: str) -> None:
    done = subprocess.run([launcher, *args], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (125, f"codeteam-launch: {message}\n")


def test_a_command_that_cannot_run_exits_127(launcher: str) -> None:
    done = subprocess.run([launcher, "--", "/nonexistent"], capture_output=True, text=True)
    assert done.returncode == 127
    assert done.stderr == "codeteam-launch: cannot run /nonexistent: No such file or directory\n"


async def test_a_sandbox_without_the_launcher_uses_setpriv_and_prlimit(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_bwrap()
    monkeypatch.setattr(launch, "launcher_installed", lambda: False)
    sandbox = Sandbox.from_settings(make_settings(state_dir, max_concurrency=2))
    try:
        spec = SandboxSpec(argv=["/bin/sh", "-c", REPORT], limits=LIMITS)
        result = await sandbox.run(spec)
    finally:
        await sandbox.aclose()
    assert result.exit_code == 0, result
    rows = [" ".join(row.split()) for row in result.stdout.decode().splitlines()]
    assert rows[0] != "0"  # a slot uid, not root
    assert "Max cpu time 7 8 seconds" in rows
    assert "Max address space 314572800 314572800 bytes" in rows


def test_the_launcher_closes_every_descriptor_it_is_not_told_to_keep(launcher: str) -> None:
    """uvloop leaves inherited descriptors and copies of a child's pipes open in it; the
    launcher passes on only the standard streams and ``keep``."""
    held = [os.open("/dev/null", os.O_RDONLY) for _ in range(4)]
    try:
        for fd in held:
            os.set_inheritable(fd, True)
        keep = [held[1], held[3]]
        prefix = launch.prefix_with(launcher, LIMITS, user=None, keep=keep)
        listing = "ls /proc/$$/fd"
        done = subprocess.run(
            [*prefix, "/bin/sh", "-c", listing], capture_output=True, text=True, close_fds=False
        )
        assert done.returncode == 0, done
        assert sorted(map(int, done.stdout.split())) == sorted([0, 1, 2, *keep])
        unkept = launch.prefix_with(launcher, LIMITS, user=None)
        done = subprocess.run(
            [*unkept, "/bin/sh", "-c", listing], capture_output=True, text=True, close_fds=False
        )
        assert sorted(map(int, done.stdout.split())) == [0, 1, 2]
    finally:
        for fd in held:
            os.close(fd)


@pytest.mark.parametrize("keep", ["2", "5,x", "-4", ","])
def test_the_launcher_refuses_a_bad_keep(launcher: str, keep: str) -> None:
    done = subprocess.run([launcher, f"--keep={keep}", "--", "/bin/true"], capture_output=True)
    assert done.returncode == 125 and b"--keep takes descriptor numbers" in done.stderr, done


async def test_a_sandbox_with_a_hundred_files_keeps_every_one(state_dir: Path) -> None:
    """Each file reaches bubblewrap on a descriptor of its own, all named by ``--keep``."""
    require_bwrap()
    sandbox = Sandbox.from_settings(make_settings(state_dir, max_concurrency=2))
    files = {f"f{i}.txt": str(i).encode() for i in range(120)}  # a spec may hold 128
    try:
        spec = SandboxSpec(argv=["/bin/sh", "-c", "cat /work/*.txt | wc -c; ls /work | wc -l"])
        result = await sandbox.run(replace(spec, files=files))
    finally:
        await sandbox.aclose()
    assert result.exit_code == 0, result
    assert result.stdout.split() == [str(sum(map(len, files.values()))).encode(), b"120"]
