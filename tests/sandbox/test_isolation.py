"""What sandboxed code can see and reach: no network, no host home, no secrets, no
privileges, a read-only system and private size-capped scratch space."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from codeteam.sandbox import Bind, Limits, Sandbox, SandboxSpec
from tests.sandbox.conftest import PY, UID_BASE
from tests.sandbox.signals import Signals

CANARY = "sk-canary-5b0c2e17"


def py(code: str, **kw: object) -> SandboxSpec:
    return SandboxSpec(argv=[PY, "/work/main.py"], files={"main.py": code.encode()}, **kw)  # type: ignore[arg-type]


async def test_code_runs_and_sees_its_stdin_and_files(sandbox: Sandbox) -> None:
    spec = SandboxSpec(
        argv=[PY, "/work/main.py"],
        files={
            "main.py": b"import sys\nprint(sys.stdin.read().upper())\n"
            b"print(open('sub/d.txt').read())",
            "sub/d.txt": b"data",
        },
        stdin=b"hello",
    )
    r = await sandbox.run(spec)
    assert (r.exit_code, r.stdout, r.limit, r.timed_out) == (0, b"HELLO\ndata\n", None, False)
    assert sandbox.backend == "bubblewrap"


async def test_a_loopback_listener_in_the_host_receives_nothing(sandbox: Sandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"x")
    print("connected")
except OSError as e:
    print("refused", e.errno)
"""
    try:
        r = await sandbox.run(py(code))
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert r.stdout.startswith(b"refused"), r
    assert accepted == []


async def test_no_host_home_and_a_read_only_system(sandbox: Sandbox) -> None:
    code = """
import os
print(sorted(os.listdir('/')))
for p in ('/root', '/home', '/etc/shadow', '/etc/ssh', '/var'):
    print(p, os.path.exists(p))
for p in ('/usr/x', '/x', '/etc/x'):
    try:
        open(p, 'w'); print(p, 'writable')
    except OSError as e:
        print(p, 'refused')
open('/work/ok', 'w').write('1'); open('/tmp/ok', 'w').write('1'); print('scratch ok')
"""
    r = await sandbox.run(py(code))
    out = r.stdout.decode()
    assert "writable" not in out and "scratch ok" in out, out
    for p in ("/root", "/home", "/etc/shadow", "/etc/ssh", "/var"):
        assert f"{p} False" in out


async def test_the_system_files_code_needs_look_as_on_the_host(sandbox: Sandbox) -> None:
    """A host symlink such as /etc/localtime stays the same link (readlink names the time
    zone), a file stays the same bytes, and neither can be written."""
    names = ("localtime", "os-release", "nsswitch.conf", "ld.so.cache")
    present = [n for n in names if os.path.lexists(f"/etc/{n}")]
    code = f"""
import json, os
seen = {{}}
for name in {present!r}:
    path = '/etc/' + name
    link = os.readlink(path) if os.path.islink(path) else None
    data = open(path, 'rb').read()
    try:
        open(path, 'ab'); writable = True
    except OSError:
        writable = False
    seen[name] = [link, len(data), data[:64].hex(), writable]
print(json.dumps(seen))
"""
    r = await sandbox.run(py(code))
    assert r.exit_code == 0, r
    seen = json.loads(r.stdout)
    for name in present:
        path = f"/etc/{name}"
        data = Path(path).read_bytes()
        link = os.readlink(path) if os.path.islink(path) else None
        assert seen[name] == [link, len(data), data[:64].hex(), False], name


async def test_the_server_environment_never_reaches_the_code(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    code = """
import os
print(sorted(os.environ))
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            print(open(f'/proc/{pid}/environ', 'rb').read())
            print(open(f'/proc/{pid}/cmdline', 'rb').read())
        except OSError:
            pass
"""
    r = await sandbox.run(py(code, env={"EXTRA": "yes"}))
    assert CANARY.encode() not in r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == b"['EXTRA', 'HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']"
    assert b"PATH=/usr/bin:/bin\\x00HOME=/work" in r.stdout  # pid 1's own environment


async def test_code_runs_as_an_unprivileged_host_uid_without_capabilities(
    sandbox: Sandbox,
) -> None:
    code = "print(open('/proc/self/status').read())"
    r = await sandbox.run(py(code))
    fields = dict(line.split(":", 1) for line in r.stdout.decode().splitlines() if ":" in line)
    uids = {int(u) for u in fields["Uid"].split()}
    assert uids and all(u >= UID_BASE for u in uids), fields["Uid"]
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0
    assert fields["Groups"].strip() == ""


async def test_code_is_never_on_a_command_line_and_a_200k_program_runs(
    sandbox: Sandbox, state_dir: Path
) -> None:
    signals = Signals(state_dir / "signal")
    marker = "unique_marker_9f41c"
    body = "x = 1\n" * (200 * 1024 // 6)
    wait = f"{signals.report('started')}\n{signals.await_release('go')}\n"
    code = f"# {marker}\n{body}{wait}print('{marker}'[::-1])\n"
    assert len(code) > 200 * 1024
    task = asyncio.ensure_future(sandbox.run(py(code, binds=[signals.bind], timeout_s=120)))
    await signals.reached("started", task)  # the program runs: its command line exists now
    command_lines = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):  # a process that has just ended
                command_lines.append(Path(f"/proc/{entry}/cmdline").read_bytes())
    signals.release("go")
    r = await task
    assert r.exit_code == 0 and r.stdout == marker[::-1].encode() + b"\n", r
    assert any(b"/work/main.py" in line for line in command_lines)  # the scan sees it
    assert [line for line in command_lines if marker.encode() in line] == []


async def test_scratch_space_is_size_capped(sandbox: Sandbox) -> None:
    code = """
try:
    with open('/work/big', 'wb') as f:
        for _ in range(64):
            f.write(b'x' * (1 << 20))
    print('wrote all')
except OSError as e:
    print('stopped', e.errno)
"""
    r = await sandbox.run(py(code, limits=Limits(tmpfs_bytes=8 << 20)))
    assert r.stdout.startswith(b"stopped 28"), r  # ENOSPC


async def test_binds_are_read_only_unless_writable(sandbox: Sandbox, state_dir: Path) -> None:
    src = state_dir / "proj"
    src.mkdir()
    (src / "a.txt").write_text("content")
    out = state_dir / "out"
    out.mkdir()
    out.chmod(0o777)
    code = """
print(open('/proj/a.txt').read())
try:
    open('/proj/b.txt', 'w'); print('proj writable')
except OSError:
    print('proj read-only')
open('/out/c.txt', 'w').write('written')
"""
    r = await sandbox.run(py(code, binds=[Bind(src, "/proj"), Bind(out, "/out", writable=True)]))
    assert r.stdout == b"content\nproj read-only\n", r
    assert (out / "c.txt").read_text() == "written"


async def test_binds_from_directories_the_sandbox_uid_cannot_cross_still_work(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    assert tmp_path.parent.stat().st_mode & 0o001 == 0  # pytest's base dir is 0700
    proj = tmp_path / "proj"
    proj.mkdir()
    proj.chmod(0o755)
    (proj / "a.txt").write_text("deep")
    r = await sandbox.run(py("print(open('/proj/a.txt').read())", binds=[Bind(proj, "/proj")]))
    assert (r.exit_code, r.stdout) == (0, b"deep\n"), r
    assert os.listdir("/run/codeteam-stage") == []  # the host never sees the staged mount


async def test_latency_of_a_trivial_python_stays_small(sandbox: Sandbox) -> None:
    await sandbox.run(SandboxSpec(argv=["/usr/bin/true"]))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        r = await sandbox.run(SandboxSpec(argv=[PY, "-c", "pass"]))
        times.append(time.perf_counter() - start)
        assert r.exit_code == 0
    assert sorted(times)[2] < 0.25  # generous: CI machines are slow and shared
