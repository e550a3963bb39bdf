"""The pool of pre-started sandboxes: a pooled call ends exactly as a fresh
``python -I -B /work/main.py`` (or a fresh run of a handed-over program) would, shares nothing
with the call before it, is limited and killed like any run, and the pool starts lazily,
refills per kind, and yields its slots."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codeteam.sandbox import Limits, Prestart, Sandbox, SandboxResult, SandboxSpec, procs
from codeteam.sandbox.pool import Pool
from codeteam.toolchains import binary_prestart
from codeteam.toolchains.python_prestart import prestart
from tests.sandbox.conftest import (
    PY,
    UID_BASE,
    make_settings,
    outside_slot_cgroups,
    require_bwrap,
    zombie_children,
)

RUNTIME_PY = "/opt/codeteam/runtime/bin/python"
PYTHON = RUNTIME_PY if os.path.exists(RUNTIME_PY) else PY
#: Apart from the other sandbox tests' uids, in case both run at once.
BASE = UID_BASE + 100
SLOTS = 4


async def pooled_sandbox(state_dir: Path, **kw: object) -> Sandbox:
    require_bwrap()
    kw.setdefault("max_concurrency", SLOTS)
    kw.setdefault("pool_size", 2)
    return Sandbox.from_settings(make_settings(state_dir, sandbox_uid_base=BASE, **kw))


@pytest.fixture
async def sandbox(state_dir: Path) -> AsyncIterator[Sandbox]:
    sb = await pooled_sandbox(state_dir)
    yield sb
    await sb.aclose()


async def run_python(
    sb: Sandbox,
    code: str | bytes,
    stdin: bytes = b"",
    *,
    timeout_s: float = 20.0,
    limits: Limits = Limits(),  # noqa: B008 - frozen
    output_cap: int = 64 * 1024,
    python: str = PYTHON,
) -> SandboxResult:
    """``python -I -B /work/main.py`` of ``code``, given Python's :class:`Prestart`."""
    spec = SandboxSpec(
        argv=[python, "-I", "-B", "/work/main.py"],
        files={"main.py": code.encode() if isinstance(code, str) else code},
        stdin=stdin,
        timeout_s=timeout_s,
        limits=limits,
        output_cap=output_cap,
    )
    return await sb.run(spec, prestart(spec.argv))


async def warm_pool(sb: Sandbox) -> Pool:
    """A pool with every sandbox ready (the first call starts it)."""
    if sb._pool is None:
        await run_python(sb, "pass")
    pool = sb._pool
    assert pool is not None
    for _ in range(100):
        if await pool.ready() == 2:
            return pool
        await asyncio.sleep(0.02)
    raise AssertionError("the pool never filled")


async def pooled(sb: Sandbox, code: str, stdin: bytes = b"", **kw: float) -> SandboxResult:
    """Run ``code`` and prove a pooled sandbox served it."""
    pool = await warm_pool(sb)
    hits = pool.hits
    result = await run_python(sb, code, stdin, **kw)
    assert pool.hits == hits + 1, "a pooled sandbox should have served this call"
    return result


async def fresh(sb: Sandbox, code: str, stdin: bytes = b"") -> SandboxResult:
    spec = SandboxSpec(
        argv=[PYTHON, "-I", "-B", "/work/main.py"], files={"main.py": code.encode()}, stdin=stdin
    )
    return await sb.run(spec)


def ending(r: SandboxResult) -> tuple[object, ...]:
    return (r.exit_code, r.signal, r.stdout, r.stderr, r.limit, r.timed_out, r.truncated)


def age_s(pid: int) -> float:
    """How long ago ``pid`` started, by the kernel's clock."""
    with open(f"/proc/{pid}/stat") as f:
        started = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) - started


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def command(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode(errors="replace").split("\0")


#: In a pooled interpreter's command line (its call's own); no other process of a slot
#: has it while no call runs.
POOLED = "/work/main.py"


def processes_with(marker: str, sb: Sandbox | list[int]) -> list[int]:
    """Processes of ``sb``'s slot uids (or of these uids) whose command line holds
    ``marker``: other test runs on the machine may use uids of the same range."""
    uids = set(sb if isinstance(sb, list) else sb.slot_uids())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid not in uids:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


async def wait_for_sleep(token: str, sb: Sandbox, deadline_s: float = 30.0) -> int:
    """The ``sleep TOKEN`` a call of ``sb`` started (the event that says it is running)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for pid in processes_with(token, sb):
            if command(pid)[:2] == ["sleep", token]:
                return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"no sleep {token} within {deadline_s} s")


def sleeping(token: str) -> str:
    """A program that sleeps until its ``sleep TOKEN`` is killed, then prints its status."""
    return f"import subprocess\nprint(subprocess.run(['sleep', '{token}']).returncode)"


def kill_slot(sb: Sandbox, slot: int) -> list[int]:
    """SIGKILL every process of a slot's uid, as an operator's ``kill -9`` would."""
    pids = procs.pids_of_uid(sb.slot_uids()[slot])
    for pid in pids:
        procs.kill(pid)
    return pids


FIDELITY = {
    "ok output": "print('hello'); print('to err', file=__import__('sys').stderr)",
    "stdin echo": "import sys\nprint(sys.stdin.read()[::-1])",
    "sys.exit(3)": "import sys\nprint('before')\nsys.exit(3)",
    "sys.exit(message)": "raise SystemExit('bye')",
    "uncaught exception": "def f():\n    return 1 / 0\n\nprint('x')\nf()\n",
    "keyboard interrupt": "raise KeyboardInterrupt",
    "syntax error": "def broken(:\n    pass\n",
    "name and file": "print(__name__, __file__)",
    "main globals": (
        "import sys\n"
        "print(sorted(globals()), type(__loader__).__name__, __loader__.name, __loader__.path)\n"
        "print(sys.argv, sys.orig_argv[1:], sys.path, sys.flags)\n"
        "print(sorted(sys.modules))\n"
    ),
    "inspect and traceback": (
        "import inspect, traceback\n"
        "def f():\n    traceback.print_stack()\n    return inspect.getsource(f)\n"
        "print(f())\nprint(inspect.getfile(f))\n"
    ),
    "the process itself": (
        "import inspect, os\n"
        "print(open('/proc/self/cmdline', 'rb').read().split(b'\\0'), len(inspect.stack()))\n"
        "print(sorted(os.listdir('/proc/self/fd')), [k for k in os.environ if 'CODETEAM' in k])\n"
        "print(open('/proc/self/environ', 'rb').read().count(b'CODETEAM'))\n"
    ),
    "atexit after an error": (
        "import atexit\natexit.register(lambda: print('atexit ran'))\nraise ValueError('v')"
    ),
    "main file": (
        "import os\nst = os.stat(__file__)\n"
        "print(oct(st.st_mode), st.st_size, os.listdir('.'))\n"
        "print(st.st_uid == os.getuid(), st.st_gid == os.getgid())\n"
    ),
    "what the code can see": (
        "import os, sys\n"
        "print(sorted(os.listdir('/')), sorted(os.environ.items()), os.getcwd())\n"
        "print([line for line in open('/proc/self/status') if line.startswith('Cap')])\n"
        "print([line.split(':')[0].strip() for line in open('/proc/net/dev')][2:])\n"
        "print(sys.stdin.isatty(), os.access('/usr', os.W_OK), os.path.exists('/root/.bashrc'))\n"
        "import resource\n"
        "print([resource.getrlimit(getattr(resource, n)) for n in\n"
        "       ('RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE')])\n"
    ),
}


@pytest.mark.parametrize("name", FIDELITY)
async def test_a_pooled_run_ends_exactly_as_a_fresh_interpreter(
    sandbox: Sandbox, name: str
) -> None:
    code = FIDELITY[name]
    want = await fresh(sandbox, code, b"abc")
    got = await pooled(sandbox, code, b"abc")
    assert ending(got) == ending(want)
    if name == "main file":
        assert got.stdout.endswith(b"True True\n"), got


async def test_an_uncaught_exception_points_at_main_py_not_the_runner(sandbox: Sandbox) -> None:
    r = await pooled(sandbox, "def f():\n    raise ValueError('boom')\nf()\n")
    assert r.exit_code == 1
    lines = r.stderr.decode().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == '  File "/work/main.py", line 3, in <module>'
    assert lines[-1] == "ValueError: boom"
    assert "<string>" not in r.stderr.decode() and "_codeteam" not in r.stderr.decode()


async def test_consecutive_pooled_calls_share_nothing(sandbox: Sandbox) -> None:
    first = (
        "import json, os\njson.MARK = 'first'\nopen('/tmp/left', 'w').write('x')\n"
        "open('/work/left', 'w').write('x')\nos.environ['LEFT'] = '1'\nprint(os.getpid())"
    )
    second = (
        "import json, os\nprint(hasattr(json, 'MARK'), os.path.exists('/tmp/left'),\n"
        "      os.path.exists('/work/left'), 'LEFT' in os.environ, os.listdir('/work'))"
    )
    assert (await pooled(sandbox, first)).exit_code == 0
    r = await pooled(sandbox, second)
    assert r.stdout == b"False False False False ['main.py']\n", r


async def test_a_timeout_kills_the_pooled_tree(sandbox: Sandbox) -> None:
    pool = await warm_pool(sandbox)
    used = pool._idle[0]
    ns_pid = used.tree.prepared.ns_pid()
    assert ns_pid is not None and alive(ns_pid)
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '301.5'])\ntime.sleep(300)"
    start = time.monotonic()
    r = await pooled(sandbox, code, timeout_s=1.0)
    assert time.monotonic() - start < 5
    assert (r.timed_out, r.limit, r.exit_code, r.signal) == (True, "wall_clock", None, 9)
    assert not alive(ns_pid) and processes_with("301.5", sandbox) == []


async def test_the_wall_clock_counts_from_dispatch_not_from_the_pool_start(
    sandbox: Sandbox,
) -> None:
    pool = await warm_pool(sandbox)
    ns_pid = pool._idle[0].tree.prepared.ns_pid()  # the sandbox the call will get
    assert ns_pid is not None
    while age_s(ns_pid) <= 1.2:  # until it is older than the call's whole timeout
        await asyncio.sleep(0.05)
    r = await pooled(sandbox, "import time; time.sleep(0.3); print('done')", timeout_s=1.0)
    assert (r.stdout, r.timed_out, r.exit_code) == (b"done\n", False, 0)


async def test_cancelling_a_pooled_call_kills_its_tree_and_reraises(sandbox: Sandbox) -> None:
    pool = await warm_pool(sandbox)
    ns_pid = pool._idle[0].tree.prepared.ns_pid()
    assert ns_pid is not None
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '302.5'])\ntime.sleep(300)"
    task = asyncio.ensure_future(run_python(sandbox, code, timeout_s=60))
    for _ in range(100):
        if processes_with("302.5", sandbox):
            break
        await asyncio.sleep(0.02)
    assert processes_with("302.5", sandbox) and pool.idle == 1  # a pooled sandbox took the call
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(ns_pid) and processes_with("302.5", sandbox) == []
    assert (await pooled(sandbox, "print(1)")).stdout == b"1\n"


async def test_limits_hold_in_a_pooled_sandbox(sandbox: Sandbox) -> None:
    r = await pooled(sandbox, "x = bytearray(4 << 30)")
    assert (r.exit_code, r.limit) == (1, "memory"), r
    r = await pooled(sandbox, "print('y' * 1_000_000)")
    assert r.truncated and b"bytes truncated" in r.stdout


async def test_the_pool_refills_in_the_background(sandbox: Sandbox) -> None:
    pool = await warm_pool(sandbox)
    before = {id(e) for e in pool._idle}
    start = time.monotonic()
    await pooled(sandbox, "print(1)")
    assert time.monotonic() - start < 2
    assert await warm_pool(sandbox) is pool and pool.idle == 2
    assert {id(e) for e in pool._idle} != before  # a new sandbox took the used one's place


async def test_nothing_starts_before_the_first_call(state_dir: Path) -> None:
    sb = await pooled_sandbox(state_dir)
    try:
        # The sandbox has started, probed and served a run of its own: a pool started with
        # the sandbox, or by its first use, would exist by now.
        assert (await fresh(sb, "print('not pooled')")).stdout == b"not pooled\n"
        assert sb._pool is None and processes_with(POOLED, sb) == []
        r = await run_python(sb, "print('first')")
        assert r.stdout == b"first\n"
        assert sb._pool is not None and sb._pool.misses == 1  # the first call cannot wait
        assert await warm_pool(sb) is sb._pool
    finally:
        await sb.aclose()


async def test_pool_size_zero_disables_the_pool(state_dir: Path) -> None:
    """Beside it, the same calls on a sandbox with a pool of one: once that pool's sandbox
    is up, a pool of the first would be too."""
    sb = await pooled_sandbox(state_dir, pool_size=0)
    control = await pooled_sandbox(state_dir, pool_size=1)  # leases other uids than sb's
    try:
        for _ in range(2):
            got = await asyncio.gather(run_python(sb, "print(2)"), run_python(control, "print(2)"))
            assert [r.stdout for r in got] == [b"2\n", b"2\n"]
        assert control._pool is not None and await control._pool.ready() == 1
        assert processes_with(POOLED, control) != []
        assert sb._pool is None and processes_with(POOLED, sb) == []
    finally:
        await sb.aclose()
        await control.aclose()


async def test_idle_pooled_sandboxes_give_their_slots_to_calls(state_dir: Path) -> None:
    sb = await pooled_sandbox(state_dir, max_concurrency=3)
    try:
        pool = await warm_pool(sb)
        assert pool.idle == 2  # two of the three slots held by idle sandboxes
        tokens = [f"309.{i}5" for i in range(3)]
        specs = [SandboxSpec(argv=[PYTHON, "-c", sleeping(t)]) for t in tokens]
        calls = asyncio.gather(*(sb.run(spec) for spec in specs))
        # All three are running at once (none queued behind another): each one's sleep is
        # up while the others' still are; a queued one would never start, and time out.
        sleepers = [await wait_for_sleep(t, sb) for t in tokens]
        for pid in sleepers:
            os.kill(pid, signal.SIGKILL)
        assert [r.stdout for r in await calls] == [b"-9\n"] * 3
    finally:
        await sb.aclose()


async def test_a_call_with_other_limits_does_not_use_a_mismatched_sandbox(
    sandbox: Sandbox,
) -> None:
    pool = await warm_pool(sandbox)
    hits = pool.hits
    r = await run_python(
        sandbox,
        b"import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE))",
        limits=Limits(open_files=77),
        output_cap=1024,
    )
    assert r.stdout == b"(77, 77)\n" and pool.hits == hits


async def test_aclose_leaves_no_process_and_no_zombie(sandbox: Sandbox) -> None:
    await warm_pool(sandbox)
    uids = sandbox.slot_uids()
    assert processes_with(POOLED, sandbox) != []
    await sandbox.aclose()
    assert processes_with(POOLED, uids) == []
    assert zombie_children() == []


async def test_an_interpreter_that_cannot_start_falls_back_without_a_retry_loop(
    sandbox: Sandbox,
) -> None:
    broken = "/nonexistent/py"
    kind = Prestart("python", (broken, "-I", "-B", "/work/main.py"), fd_arg=False)

    async def call() -> SandboxResult:
        spec = SandboxSpec(
            argv=[broken, "-I", "-B", "/work/main.py"], files={"main.py": b"pass"}, output_cap=1024
        )
        return await sandbox.run(spec, kind)

    first = await call()
    assert first.exit_code != 0 and b"/nonexistent/py" in first.stderr
    pool = sandbox._pool
    assert pool is not None
    await pool.ready()
    await pool.settled()  # failed starts are discarded in the background
    second = await call()
    assert ending(second) == ending(first)
    assert (pool.hits, pool.idle) == (0, 0) and processes_with(POOLED, sandbox) == []


async def test_a_burst_of_calls_beyond_the_slots_all_complete(sandbox: Sandbox) -> None:
    await warm_pool(sandbox)
    codes = [f"import time; time.sleep(0.05); print({i})" for i in range(3 * SLOTS)]
    results = await asyncio.gather(*(run_python(sandbox, code) for code in codes))
    assert [r.stdout for r in results] == [f"{i}\n".encode() for i in range(3 * SLOTS)]
    assert await warm_pool(sandbox) is sandbox._pool  # and the pool comes back afterwards


async def test_no_refill_starts_while_a_pooled_call_runs(sandbox: Sandbox) -> None:
    """The call's program is running (its ``sleep`` is up), so any refill would have been
    started by now; the call ends when that ``sleep`` is killed."""
    pool = await warm_pool(sandbox)
    token = "305.25"
    call = asyncio.ensure_future(pooled(sandbox, sleeping(token)))
    sleeper = await wait_for_sleep(token, sandbox)
    assert not call.done() and pool.idle == 1, "a refill would slow the running call"
    runners = [p for p in processes_with(POOLED, sandbox) if command(p)[0] == PYTHON]
    assert len(runners) == 2  # the call's runner and the idle one: none starting
    os.kill(sleeper, signal.SIGKILL)
    assert (await call).stdout == b"-9\n"
    assert await warm_pool(sandbox) is pool and pool.idle == 2  # refilled afterwards


async def test_a_daemon_of_a_pooled_call_is_gone_when_the_result_arrives(
    sandbox: Sandbox,
) -> None:
    token = "4343.4343"
    code = (
        "import os, subprocess\n"
        "if os.fork() == 0:\n    os.setsid()\n"
        f"    subprocess.Popen(['sleep', '{token}'], start_new_session=True)\n"
        "    os._exit(0)\n"
        "print('spawned')\n"
    )
    r = await pooled(sandbox, code)
    assert r.stdout == b"spawned\n", r
    assert (
        processes_with(token, sandbox) == []
    )  # at once: the uid sweep after the result is a backstop


async def test_a_pooled_call_runs_inside_its_slot_s_memory_cgroup(sandbox: Sandbox) -> None:
    """The pooled sandbox joined the cgroup before its runner started, so the call's own
    processes are capped as a whole too."""
    if isinstance(sandbox.memory_cgroups, str):
        pytest.skip(f"no memory cgroups for calls here: {sandbox.memory_cgroups}")
    code = "import os, time\nos.fork()\ntime.sleep(0.3)\nprint('ran')"
    r, outside, inside = await outside_slot_cgroups(sandbox, pooled(sandbox, code))
    assert r.exit_code == 0 and b"ran" in r.stdout, r
    assert inside > 0 and outside == [], "every process of the call is in its slot's cgroup"


async def test_an_idle_pooled_sandbox_killed_from_outside_is_replaced_at_once(
    sandbox: Sandbox,
) -> None:
    pool = await warm_pool(sandbox)
    victim = pool._idle[0]
    assert kill_slot(sandbox, victim.tree.slot)
    end = time.monotonic() + 30
    while victim in pool._idle or pool.idle < 2:  # the pool hears of it without a call
        assert time.monotonic() < end, "the dead sandbox was never replaced"
        await asyncio.sleep(0.02)
    hits = pool.hits
    r = await pooled(sandbox, "print('after')")
    assert (r.stdout, r.limit, pool.hits) == (b"after\n", None, hits + 1)


async def test_a_pooled_sandbox_that_dies_as_its_call_arrives_hands_it_to_a_fresh_one(
    sandbox: Sandbox,
) -> None:
    """Killed and taken with no await in between (the pool cannot have heard of the death
    yet): the runner never confirmed receipt, so the call runs again, in a fresh sandbox."""
    pool = await warm_pool(sandbox)
    hits, misses = pool.hits, pool.misses
    assert kill_slot(sandbox, pool._idle[0].tree.slot)
    r = await run_python(sandbox, "print('ran once')")
    assert (r.exit_code, r.signal, r.limit, r.stdout) == (0, None, None, b"ran once\n"), r
    assert (pool.hits, pool.misses) == (hits, misses + 1)
    assert await warm_pool(sandbox) is pool


async def test_a_program_the_pooled_tmpfs_cannot_hold_ends_as_in_a_fresh_sandbox(
    sandbox: Sandbox,
) -> None:
    """The server fills the handed-over file from outside: when it does not fit, the
    pooled sandbox is told nothing but the channel's end, exits without its receipt, and
    the call runs in a fresh sandbox, which reports it as any run would."""
    small = Limits(tmpfs_bytes=64 << 10)
    await run_python(sandbox, "pass", limits=small)  # the pool now holds this kind
    pool = await warm_kinds(sandbox, 2)
    hits, misses = pool.hits, pool.misses
    big = "x = 1\n" + "#" * (100 << 10) + "\nprint('ran')\n"
    r = await run_python(sandbox, big, limits=small)
    assert (pool.hits, pool.misses) == (hits, misses + 1), "a fresh sandbox ran it"
    spec = SandboxSpec(
        argv=[PYTHON, "-I", "-B", "/work/main.py"], files={"main.py": big.encode()}, limits=small
    )
    want = await sandbox.run(spec)
    assert ending(r) == ending(want)
    assert r.exit_code != 0 and b"ran" not in r.stdout, r
    ok = await run_python(sandbox, "print('small')", limits=small)
    assert (ok.stdout, pool.hits) == (b"small\n", hits + 1), "the next call is pooled again"


async def test_a_pooled_sandbox_that_is_gone_is_never_written_into(sandbox: Sandbox) -> None:
    """A pid names the sandbox's pid 1 only while it lives: once that process is dead,
    a write through ``/proc/PID/root`` is refused, even if the pid were reused."""
    pool = await warm_pool(sandbox)
    entry, other = pool._idle[0], pool._idle[1]
    stranger = other._prepared()
    stranger._ns_id = (0, 0)  # as if its pid had been reused by a process of another namespace
    with pytest.raises(OSError, match="the sandbox is gone"):
        stranger.fill_file("main.py", b"print(1)")
    prepared = entry._prepared()
    ns_pid = prepared.ns_pid()
    assert ns_pid is not None and prepared._ns_id is not None
    prepared.fill_file("main.py", b"pass")  # alive: the empty file takes it
    with pytest.raises(OSError, match="not an empty file"):
        prepared.fill_file("main.py", b"print(1)")  # filled once: never again
    assert kill_slot(sandbox, entry.tree.slot)
    procs.kill(ns_pid)
    end = time.monotonic() + 10
    while alive(ns_pid):
        assert time.monotonic() < end, "the sandbox's pid 1 did not die"
        await asyncio.sleep(0.01)
    with pytest.raises(OSError):
        prepared.fill_file("main.py", b"print(1)")


async def test_every_pooled_sandbox_killed_then_five_calls_all_run_normally(
    sandbox: Sandbox,
) -> None:
    pool = await warm_pool(sandbox)
    for entry in list(pool._idle):
        assert kill_slot(sandbox, entry.tree.slot)
    for i in range(5):
        r = await run_python(sandbox, f"print({i})")
        assert (r.exit_code, r.signal, r.limit, r.stdout) == (0, None, None, f"{i}\n".encode())
    assert await warm_pool(sandbox) is pool


#: A pre-started kind that is not Python: a shell keeps the Prestart protocol (the empty
#: file, ready byte, ``go`` until end of file, receipt) and then runs the program as
#: ``sh /work/main.sh`` (bash: dash cannot name a descriptor above 9).
SHELL = Prestart(
    "sh",
    (
        "/bin/bash",
        "-c",
        ': > /work/main.sh; printf R >&"$1"; [ "$(cat <&"$1")" = go ] || exit 125; '
        'printf G >&"$1"; exec sh /work/main.sh',
        "sh",
    ),
    handover="main.sh",
)


async def test_the_pool_serves_any_kind_of_pre_started_tree(sandbox: Sandbox) -> None:
    spec = SandboxSpec(
        argv=["/bin/sh", "/work/main.sh"],
        files={"main.sh": b'read line; echo "got $line from $0"; exit 3\n'},
        stdin=b"hello\n",
    )
    first = await sandbox.run(spec, SHELL)  # starts the pool: a normal run
    pool = sandbox._pool
    assert pool is not None
    for _ in range(100):
        if await pool.ready() == 2:
            break
        await asyncio.sleep(0.02)
    hits = pool.hits
    second = await sandbox.run(spec, SHELL)
    assert pool.hits == hits + 1, "a pre-started shell should have served this call"
    for r in (first, second):
        assert (r.exit_code, r.stdout, r.limit) == (3, b"got hello from /work/main.sh\n", None)


async def test_a_call_of_another_command_line_is_not_served_by_a_tree_started_as_one(
    sandbox: Sandbox,
) -> None:
    """A Python tree is started as the call's own command: one started as
    ``python -I -B /work/main.py`` cannot run ``python -I -B -X dev /work/main.py``."""
    pool = await warm_pool(sandbox)
    hits, misses = pool.hits, pool.misses
    kind = prestart([PYTHON, "-I", "-B", "/work/main.py"])
    spec = SandboxSpec(
        argv=[PYTHON, "-I", "-B", "-X", "dev", "/work/main.py"],
        files={"main.py": b"import sys; print(sys.flags.dev_mode)"},
    )
    r = await sandbox.run(spec, kind)
    assert (r.exit_code, r.stdout) == (0, b"True\n"), r
    assert (pool.hits, pool.misses) == (hits, misses)


async def test_a_spec_a_pre_started_tree_cannot_hold_runs_normally(sandbox: Sandbox) -> None:
    await warm_pool(sandbox)
    pool = sandbox._pool
    assert pool is not None
    hits, misses = pool.hits, pool.misses
    spec = SandboxSpec(
        argv=[PYTHON, "-I", "-B", "/work/main.py"],
        files={"main.py": b"open('/tmp/out', 'w').write('collected')"},
        collect=["/tmp/out"],
    )
    r = await sandbox.run(spec, prestart(spec.argv))
    assert r.files == {"/tmp/out": b"collected"} and (pool.hits, pool.misses) == (hits, misses)


#: A program the exec runner hands over: what it was started as, with and from what.
SCRIPT = (
    b'#!/bin/sh\necho "$0 $# $*"; tr "\\0" "\\n" < /proc/$$/environ; stat -c "%a %s" /work/main\n'
    b"[ -O /work/main ] && [ -G /work/main ] && echo owned\n"
    b"ls -A /work; ls /proc/self/fd; cat; exit 7\n"
)
EXEC_CASES = {
    "script": SCRIPT,
    "not a program": b"\x00\x01 not an executable format",
}


def exec_spec(program: bytes, stdin: bytes = b"") -> SandboxSpec:
    return SandboxSpec(
        argv=["/work/main"],
        files={"main": program},
        executables=frozenset({"main"}),
        stdin=stdin,
    )


async def warm_kinds(sb: Sandbox, want: int) -> Pool:
    pool = sb._pool
    assert pool is not None
    for _ in range(200):
        if await pool.ready() == want:
            return pool
        await asyncio.sleep(0.02)
    raise AssertionError(f"the pool never had {want} ready")


@pytest.mark.parametrize("name", EXEC_CASES)
async def test_a_pre_started_exec_ends_exactly_as_a_fresh_sandbox_running_the_file(
    sandbox: Sandbox, name: str
) -> None:
    runner = binary_prestart.prestart()
    assert runner is not None, "perl-base is part of every Debian system"
    spec = exec_spec(EXEC_CASES[name], b"the input\n")
    want = await sandbox.run(spec)  # no Prestart: a fresh sandbox runs /work/main
    await sandbox.run(spec, runner)  # starts the pool
    pool = await warm_kinds(sandbox, 2)
    hits = pool.hits
    got = await sandbox.run(spec, runner)
    assert pool.hits == hits + 1, "a pre-started sandbox should have served this call"
    assert ending(got) == ending(want)
    if name == "script":
        assert got.exit_code == 7 and got.stdout.endswith(b"the input\n"), got
        assert b"\n755 " in got.stdout and b"\nowned\n" in got.stdout, got


async def test_calls_of_two_kinds_in_turn_each_find_their_own_ready(state_dir: Path) -> None:
    """Python and a built program alternating: neither kind's call empties the other's."""
    sb = await pooled_sandbox(state_dir, max_concurrency=6, pool_size=2)
    try:
        runner = binary_prestart.prestart()
        assert runner is not None
        await run_python(sb, "pass")
        await sb.run(exec_spec(b"#!/bin/sh\n"), runner)
        pool = await warm_kinds(sb, 4)
        hits, misses = pool.hits, pool.misses
        for i in range(3):
            r = await run_python(sb, f"print({i})")
            assert r.stdout == f"{i}\n".encode()
            r = await sb.run(exec_spec(f"#!/bin/sh\necho {i}\n".encode()), runner)
            assert r.stdout == f"{i}\n".encode()
            await warm_kinds(sb, 4)
        assert (pool.hits, pool.misses) == (hits + 6, misses)
    finally:
        await sb.aclose()


def test_thread_as_changes_only_the_calling_thread_and_comes_back(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching ids needs root")
    seen: list[int] = []
    other_ready, other_look = threading.Event(), threading.Event()

    def other() -> None:
        other_ready.set()
        other_look.wait(10)
        seen.append(os.geteuid())

    thread = threading.Thread(target=other)
    thread.start()
    other_ready.wait(10)
    private = tmp_path / "root-only"
    private.mkdir(mode=0o700)
    with procs.thread_as(BASE + 7, BASE + 8):
        inside = (os.geteuid(), os.getegid(), os.getuid())
        other_look.set()
        thread.join(10)
        with pytest.raises(PermissionError):
            (private / "probe").write_text("x")
    assert inside == (BASE + 7, BASE + 8, 0)
    assert seen == [0], "another thread of the process stays root meanwhile"
    assert (os.geteuid(), os.getegid()) == (0, 0)
    (private / "probe").write_text("x")  # root's reach is back


#: A pooled sandbox used in a process that has no CAP_SYS_PTRACE (a container's root).
NO_PTRACE_SCRIPT = """
import asyncio, sys
from pathlib import Path
from codeteam.sandbox import Sandbox, SandboxSpec
from codeteam.config import Settings
from codeteam.toolchains.python_prestart import prestart

async def main() -> None:
    caps = int(Path("/proc/self/status").read_text().split("CapEff:")[1].split()[0], 16)
    assert not caps & (1 << 19), "CAP_SYS_PTRACE should be gone"
    base = Path(sys.argv[1])
    sb = Sandbox.from_settings(Settings(
        roots=(base,), state_dir=base / "state", sandbox_uid_base=int(sys.argv[2]), pool_size=1
    ))
    try:
        out = []
        for i in range(3):
            spec = SandboxSpec(argv=[sys.argv[3], "-I", "-B", "/work/main.py"],
                               files={"main.py": f"print({i})".encode()})
            r = await sb.run(spec, prestart(spec.argv))
            out.append(r.stdout.decode().strip())
            assert sb._pool is not None
            for _ in range(500):
                if await sb._pool.ready() == 1:
                    break
                await asyncio.sleep(0.02)
        print(" ".join(out), sb._pool.hits, sb._pool.misses)
    finally:
        await sb.aclose()

asyncio.run(main())
"""


def test_a_root_server_without_cap_sys_ptrace_still_fills_pooled_sandboxes(
    state_dir: Path,
) -> None:
    """Docker gives its root no CAP_SYS_PTRACE, which root needs to open another user's
    ``/proc/PID/root``; the server fills the file as the sandbox's own uid instead."""
    require_bwrap()
    if os.geteuid() != 0:
        pytest.skip("a root server is the case under test")
    setpriv = "/usr/bin/setpriv"
    drop = ["--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    argv = [sys.executable, "-c", NO_PTRACE_SCRIPT]
    args = [str(state_dir), str(BASE + 50), PYTHON]
    done = subprocess.run([setpriv, *drop, *argv, *args], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    # the first call starts the pool (a miss); the two after it are served from it
    assert done.stdout.decode().split() == ["0", "1", "2", "2", "1"], done.stdout


def test_only_a_runtime_with_this_version_s_hook_gets_pre_started_interpreters(
    tmp_path: Path,
) -> None:
    """The pre-started interpreter waits in the runtime's ``zzz-codeteam-prestart.pth``;
    without it (or with another version's) it would run an empty ``main.py`` at once."""
    from codeteam.toolchains import python_prestart as hook

    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    python = str(tmp_path / "bin" / "python")
    argv = [python, "-I", "-B", "/work/main.py"]
    assert hook.prestart(argv) is None
    hook.hook_installed.cache_clear()
    (site / hook.HOOK_NAME).write_text("import os  # an older hook\n")
    assert hook.prestart(argv) is None
    hook.hook_installed.cache_clear()
    (site / hook.HOOK_NAME).write_bytes(hook.HOOK.read_bytes())
    kind = hook.prestart(argv)
    assert kind is not None and kind.argv == tuple(argv)
    assert not kind.fd_arg and kind.handover == "main.py"
    if os.path.exists(RUNTIME_PY):  # scripts/install.sh put this version's hook there
        assert hook.prestart([RUNTIME_PY, "-I", "-B", "/work/main.py"]) is not None
