"""Every limit contains hostile code and says which one fired, while other calls go on."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from codeteam.sandbox import Bind, Limits, Sandbox, SandboxSpec, SandboxUnavailable
from tests.sandbox.conftest import (
    PY,
    make_settings,
    outside_slot_cgroups,
    require_bwrap,
    sandbox_processes,
)
from tests.sandbox.signals import Signals, until


def py(code: str, **kw: object) -> SandboxSpec:
    return SandboxSpec(argv=[PY, "/work/main.py"], files={"main.py": code.encode()}, **kw)  # type: ignore[arg-type]


async def test_wall_clock_timeout_kills_the_whole_tree(sandbox: Sandbox) -> None:
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\ntime.sleep(300)"
    start = time.monotonic()
    r = await sandbox.run(py(code, timeout_s=1.0))
    assert time.monotonic() - start < 5
    assert (r.timed_out, r.limit, r.exit_code, r.signal) == (True, "wall_clock", None, 9)
    assert sandbox_processes(sandbox) == []


async def test_a_daemonised_child_does_not_outlive_the_call(sandbox: Sandbox) -> None:
    code = """
import os, subprocess
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        subprocess.Popen(['nohup', 'sleep', '300'], start_new_session=True)
    os._exit(0)
print('parent done')
"""
    r = await sandbox.run(py(code))
    assert r.exit_code == 0 and r.stdout == b"parent done\n", r
    assert sandbox_processes(sandbox) == []


async def test_a_fork_bomb_is_contained_while_a_concurrent_call_succeeds(
    sandbox: Sandbox, state_dir: Path
) -> None:
    signals = Signals(state_dir / "signal")
    bomb = f"""
import os, time
pids = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        pids += 1
except OSError as e:
    print('stopped after', pids, e.strerror)
    {signals.report("at_the_limit")}
    {signals.await_release("done")}
    raise
"""
    run = sandbox.run(py(bomb, timeout_s=60, limits=Limits(processes=32), binds=[signals.bind]))
    bombing = asyncio.ensure_future(run)
    await signals.reached("at_the_limit", bombing)  # its processes are all taken, and held
    normal = await sandbox.run(
        py("import subprocess; print(subprocess.run(['echo', 'fine'], capture_output=True).stdout)")
    )
    signals.release("done")
    r = await bombing
    assert normal.exit_code == 0 and normal.stdout == b"b'fine\\n'\n", normal
    assert r.limit == "processes" and b"stopped after" in r.stdout, r
    assert r.exit_code == 1


async def test_a_memory_bomb_is_reported_as_memory(sandbox: Sandbox) -> None:
    r = await sandbox.run(py("x = bytearray(600 << 20)", limits=Limits(memory_bytes=256 << 20)))
    assert r.limit == "memory" and b"MemoryError" in r.stderr, r


async def test_an_infinite_loop_hits_the_cpu_limit(sandbox: Sandbox) -> None:
    r = await sandbox.run(py("while True: pass", timeout_s=10, limits=Limits(cpu_s=1)))
    assert (r.limit, r.timed_out, r.exit_code) == ("cpu", False, None), r
    assert r.signal in (24, 9)


async def test_a_file_over_the_size_limit_is_reported(sandbox: Sandbox) -> None:
    code = "open('/tmp/f', 'wb').write(b'x' * (4 << 20))"
    r = await sandbox.run(py(code, limits=Limits(file_size_bytes=1 << 20)))
    assert r.limit == "file_size" and r.exit_code == 1, r


async def test_output_is_capped_head_and_tail_with_a_marker(sandbox: Sandbox) -> None:
    code = "import sys\nsys.stdout.write('A' * 5000 + 'B' * 90000 + 'C' * 5000)"
    r = await sandbox.run(py(code, output_cap=10000))
    assert r.exit_code == 0 and r.limit is None and r.truncated
    assert r.stdout == b"A" * 5000 + b"\n... [90000 bytes truncated] ...\n" + b"C" * 5000


async def test_an_output_flood_is_killed_and_reported(sandbox: Sandbox) -> None:
    r = await sandbox.run(py("while True: print('x' * 1000)", output_cap=4096, timeout_s=20))
    assert (r.limit, r.timed_out, r.truncated) == ("output", False, True), r
    assert len(r.stdout) < 4096 + 100


async def test_a_program_that_ignores_stdin_does_not_block_us(sandbox: Sandbox) -> None:
    r = await sandbox.run(py("print('done')", stdin=b"z" * (4 << 20), timeout_s=10))
    assert (r.exit_code, r.stdout, r.timed_out) == (0, b"done\n", False)


async def test_both_streams_are_drained_in_full_past_the_cap(sandbox: Sandbox) -> None:
    code = "import sys\nfor _ in range(200):\n    sys.stderr.write('e' * 1000); print('o' * 999)"
    r = await sandbox.run(py(code, output_cap=1000, timeout_s=10))
    assert r.exit_code == 0 and r.limit is None and r.truncated
    assert r.stderr.endswith(b"e" * 500) and b"[199000 bytes truncated]" in r.stderr


#: Forks children that each stay far under the per-process address-space limit but
#: together hold more than the call may: prints each child's wait status.
MANY_SMALL_ALLOCATIONS = """
import os, time
kids = []
for _ in range({n}):
    pid = os.fork()
    if pid == 0:
        block = bytearray({mib} << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1  # touch every page: resident, charged memory
        time.sleep(1.5)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    print(os.waitpid(pid, 0)[1])
print(open('/proc/self/cgroup').read())
"""


def memory_cgroups_or_skip(sandbox: Sandbox) -> None:
    found = sandbox.memory_cgroups
    if isinstance(found, str):
        pytest.skip(f"no memory cgroups for calls here: {found}")


async def test_a_call_s_memory_is_capped_as_a_whole_not_just_per_process(
    sandbox: Sandbox,
) -> None:
    memory_cgroups_or_skip(sandbox)
    limits = Limits(memory_bytes=1 << 30, call_memory_bytes=512 << 20)
    code = MANY_SMALL_ALLOCATIONS.format(n=3, mib=300)  # 900 MiB in all, 300 per process
    call = sandbox.run(py(code, limits=limits, timeout_s=30))
    r, outside, inside = await outside_slot_cgroups(sandbox, call)
    lines = r.stdout.decode().splitlines()
    statuses = [int(x) for x in lines[:3]] if r.exit_code == 0 else []
    # A child was killed by the kernel (SIGKILL from the cgroup's OOM killer), or the
    # whole call was: either way the three children never held 900 MiB at once.
    assert r.signal == 9 or 9 in statuses, r
    assert inside > 0 and outside == [], "every process of the call is in its slot's cgroup"
    if r.exit_code == 0:  # a cgroup namespace rooted at that cgroup: no host names inside
        assert "memory:/\n" in r.stdout.decode()


async def test_under_its_cap_a_call_with_several_processes_runs_normally(
    sandbox: Sandbox,
) -> None:
    memory_cgroups_or_skip(sandbox)
    limits = Limits(call_memory_bytes=512 << 20)
    r = await sandbox.run(py(MANY_SMALL_ALLOCATIONS.format(n=3, mib=60), limits=limits))
    assert r.exit_code == 0, r
    assert r.stdout.decode().splitlines()[:3] == ["0", "0", "0"]


async def test_the_slot_cgroups_are_removed_when_the_sandbox_closes(state_dir: Path) -> None:
    require_bwrap()
    sb = Sandbox.from_settings(make_settings(state_dir, max_concurrency=2))
    memory_cgroups_or_skip(sb)
    cgroups = sb.memory_cgroups
    assert not isinstance(cgroups, str)
    r = await sb.run(py("print('ran')"))
    assert r.exit_code == 0, r
    made = cgroups.made
    assert made and all(p.is_dir() and p.parent == cgroups.base for p in made)
    await sb.aclose()
    assert [p for p in made if p.exists()] == []


async def test_a_call_that_cannot_join_its_cgroup_never_starts(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the call's first process cannot join the slot's cgroup, the command must not run at all
    (it would run without the promised cap): the call fails and says why."""
    memory_cgroups_or_skip(sandbox)
    cgroups = sandbox.memory_cgroups
    assert not isinstance(cgroups, str)
    gone = cgroups.base / "codeteam-no-such-cgroup" / "cgroup.procs"
    monkeypatch.setattr(type(cgroups), "procs", lambda self, slot, limit: gone)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    spec = SandboxSpec(
        argv=["/bin/sh", "-c", "echo ran > /out/marker"],
        binds=[Bind(out, "/out", writable=True)],
    )
    with pytest.raises(SandboxUnavailable, match=r"cannot join cgroup .*codeteam-no-such-cgroup"):
        await sandbox.run(spec)
    # Once no process of the call is left, nothing can write the marker any more.
    await until(lambda: sandbox_processes(sandbox) == [], "the call's processes are gone")
    assert not (out / "marker").exists()
