"""Slots, queueing, cancellation, reaping, collected files, the probe, the unsafe backend."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

import codeteam.sandbox.bwrap
from codeteam.sandbox import Sandbox, SandboxSpec, SandboxUnavailable
from tests.sandbox.conftest import (
    PY,
    UID_BASE,
    make_settings,
    require_bwrap,
    sandbox_processes,
    uid_processes,
    zombie_children,
)
from tests.sandbox.signals import Signals


def py(code: str, **kw: object) -> SandboxSpec:
    return SandboxSpec(argv=[PY, "/work/main.py"], files={"main.py": code.encode()}, **kw)  # type: ignore[arg-type]


async def test_many_runs_leave_no_zombie_children(sandbox: Sandbox) -> None:
    code = "import os\nif os.fork() == 0:\n    os.setsid(); os._exit(0)\nprint('ok')"
    for _ in range(5):
        assert (await sandbox.run(py(code))).exit_code == 0
    results = await asyncio.gather(*(sandbox.run(py(code)) for _ in range(6)))
    assert all(r.exit_code == 0 for r in results)
    r = await sandbox.run(py("import time; time.sleep(30)", timeout_s=0.5))
    assert r.timed_out
    assert zombie_children() == []
    # nothing left for the machine's init to reap
    assert sandbox_processes(sandbox, zombies=True) == []


async def test_queued_calls_wait_for_a_slot_instead_of_failing(state_dir: Path) -> None:
    require_bwrap()
    sandbox = Sandbox.from_settings(make_settings(state_dir, max_concurrency=1))
    start = time.monotonic()
    spec = py("import time; time.sleep(0.5); print('ok')")
    results = await asyncio.gather(*(sandbox.run(spec) for _ in range(3)))
    assert [r.stdout for r in results] == [b"ok\n"] * 3
    assert time.monotonic() - start >= 1.5


async def test_concurrent_calls_run_as_distinct_uids(sandbox: Sandbox) -> None:
    spec = py("import os, time; time.sleep(0.4); print(os.getuid())")
    results = await asyncio.gather(*(sandbox.run(spec) for _ in range(3)))
    uids = {int(r.stdout) for r in results}
    assert len(uids) == 3 and uids == set(sandbox.slot_uids())
    assert min(uids) >= UID_BASE


async def test_cancelling_a_run_kills_its_tree_and_reraises(
    sandbox: Sandbox, state_dir: Path
) -> None:
    signals = Signals(state_dir / "signal")
    code = (
        "import subprocess, time\nsubprocess.Popen(['sleep', '300'])\n"
        f"{signals.report('started')}\ntime.sleep(300)"
    )
    task = asyncio.ensure_future(sandbox.run(py(code, binds=[signals.bind], timeout_s=60)))
    await signals.reached("started", task)
    uid = sandbox.slot_uids()[0]
    assert len(uid_processes(uid)) >= 2  # the program and its child
    task.cancel()
    start = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - start < 3
    assert uid_processes(uid) == []
    assert (await sandbox.run(py("print(1)"))).stdout == b"1\n"  # the slot is usable again


async def test_aclose_stops_running_calls_as_cancelled(sandbox: Sandbox, state_dir: Path) -> None:
    signals = Signals(state_dir / "signal")
    code = f"import time\n{signals.report('started')}\ntime.sleep(60)"
    task = asyncio.ensure_future(sandbox.run(py(code, binds=[signals.bind], timeout_s=60)))
    await signals.reached("started", task)
    uid = sandbox.slot_uids()[0]
    assert uid_processes(uid) != []
    await sandbox.aclose()
    r = await asyncio.wait_for(task, 5)
    assert r.limit == "cancelled" and r.signal == 9
    assert uid_processes(uid) == []


async def test_collected_files_come_back_after_the_run(sandbox: Sandbox) -> None:
    code = "open('/tmp/report.xml', 'w').write('<ok/>')\nprint('ran')"
    r = await sandbox.run(py(code, collect=["/tmp/report.xml", "/work/absent.txt"]))
    assert r.exit_code == 0 and r.files == {"/tmp/report.xml": b"<ok/>"}, r


async def test_collected_files_are_capped(sandbox: Sandbox) -> None:
    code = "open('/work/out.bin', 'wb').write(b'y' * 5000)"
    r = await sandbox.run(py(code, collect=["/work/out.bin"], collect_cap=1000))
    assert r.files == {"/work/out.bin": b"y" * 1000}


async def test_executables_are_placed_with_mode_0755(sandbox: Sandbox) -> None:
    spec = SandboxSpec(
        argv=["/work/run.sh"],
        files={"run.sh": b"#!/bin/sh\necho from-script\n"},
        executables=frozenset({"run.sh"}),
    )
    r = await sandbox.run(spec)
    assert (r.exit_code, r.stdout) == (0, b"from-script\n"), r


async def test_bad_file_names_are_refused(sandbox: Sandbox) -> None:
    for name in ("../escape", "/abs", "", "a/../../b"):
        with pytest.raises(ValueError, match="bad sandbox file name"):
            await sandbox.run(SandboxSpec(argv=["/usr/bin/true"], files={name: b""}))


async def test_a_missing_bubblewrap_refuses_to_run_and_says_how_to_fix(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codeteam.sandbox.bwrap, "BWRAP", "/nonexistent/bwrap")
    sandbox = Sandbox.from_settings(make_settings(state_dir))
    for _ in range(2):  # the verdict is cached, the error stays
        with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
            await sandbox.run(SandboxSpec(argv=["/usr/bin/true"]))


async def test_a_failing_probe_refuses_to_run(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_bwrap()
    monkeypatch.setattr(codeteam.sandbox.bwrap, "BWRAP", "/usr/bin/false")
    sandbox = Sandbox.from_settings(make_settings(state_dir))
    with pytest.raises(SandboxUnavailable, match="unsafe-no-sandbox"):
        await sandbox.run(SandboxSpec(argv=["/usr/bin/true"]))


async def test_the_unsafe_backend_still_limits_and_warns_once(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = Sandbox.from_settings(make_settings(state_dir, unsafe_no_sandbox=True))
    assert sandbox.backend == "unsafe"
    r = await sandbox.run(
        py(
            "import os; print(os.getcwd() == os.environ['HOME'] != '/work', os.getuid())\n"
            "open(os.environ['TMPDIR'] + '/r.txt', 'w').write('back')",
            collect=["/tmp/r.txt"],
        )
    )
    assert r.exit_code == 0 and r.stdout == f"True {sandbox.slot_uids()[0]}\n".encode(), r
    assert r.files == {"/tmp/r.txt": b"back"}
    r2 = await sandbox.run(py("import time; time.sleep(30)", timeout_s=0.5))
    assert r2.timed_out and r2.limit == "wall_clock"
    assert capsys.readouterr().err.count("UNCONFINED") <= 1


async def _build_writes_into(sandbox: Sandbox, path: Path, text: str) -> bytes:
    spec = SandboxSpec(
        argv=[PY, "-c", f"import os; open('/cache/x', 'w').write({text!r}); print(os.getuid())"],
        binds=[codeteam.sandbox.Bind(path, "/cache", writable=True)],
        role="build",
    )
    r = await sandbox.run(spec)
    assert r.exit_code == 0, r
    return r.stdout


async def test_cache_dir_is_owned_by_the_build_uid(sandbox: Sandbox, state_dir: Path) -> None:
    path = sandbox.cache_dir("go-build")
    assert path.is_dir() and path.stat().st_uid == UID_BASE - 1
    assert await _build_writes_into(sandbox, path, "1") == f"{UID_BASE - 1}\n".encode()
    assert (path / "x").read_text() == "1"
    assert os.stat(path / "x").st_uid == UID_BASE - 1


async def test_a_cache_from_before_there_was_one_per_uid_is_kept(
    sandbox: Sandbox, state_dir: Path
) -> None:
    """An upgraded server keeps its warm Go build cache: the old ``cache/NAME`` of its own
    build uid moves under its uid; another uid's stays where it is."""
    caches = state_dir / "state" / "cache"
    for name, owner in (("go-build", UID_BASE - 1), ("theirs", UID_BASE + 499)):
        (caches / name).mkdir(parents=True)
        (caches / name / "x").write_text(name)
        os.chown(caches / name, owner, owner)
    assert (sandbox.cache_dir("go-build") / "x").read_text() == "go-build"
    assert not (caches / "go-build").exists()
    assert not (sandbox.cache_dir("theirs") / "x").exists()
    assert (caches / "theirs" / "x").read_text() == "theirs"


async def test_servers_with_other_uids_on_one_state_dir_keep_their_own_caches(
    sandbox: Sandbox, state_dir: Path
) -> None:
    """Each build uid its own cache: a second server with another ``sandbox_uid_base``
    on the same state directory once took the first one's over (a permission error in
    the first one's next Go build)."""
    mine = sandbox.cache_dir("go-build")
    await _build_writes_into(sandbox, mine, "first")
    other = Sandbox.from_settings(make_settings(state_dir, sandbox_uid_base=UID_BASE + 500))
    try:
        theirs = other.cache_dir("go-build")
        assert theirs != mine and theirs.stat().st_uid == UID_BASE + 499
        await _build_writes_into(other, theirs, "second")
    finally:
        await other.aclose()
    assert mine.stat().st_uid == UID_BASE - 1  # still the first server's
    assert await _build_writes_into(sandbox, mine, "again") == f"{UID_BASE - 1}\n".encode()
    assert (mine / "x").read_text() == "again" and (theirs / "x").read_text() == "second"
