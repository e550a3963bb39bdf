"""The sandbox's guarantees, proven through the tool over a real MCP session: no network, no
secret, no write outside, bombs and floods contained while another call still succeeds,
nothing outliving its call."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.conftest import CANARY, HttpServer, connect, require_sandbox

pytestmark = pytest.mark.usefixtures("sandbox_required")


@pytest.fixture
def sandbox_required() -> None:
    require_sandbox()


async def run_py(client: Any, code: str, **kw: Any) -> dict[str, Any]:
    r = await client.call_tool("execute_code", {"language": "python", "code": code, **kw})
    assert r.structured_content is not None
    s = dict(r.structured_content)
    assert r.is_error is (s["status"] != "ok")
    return s


def processes_where(part: str, match: Callable[[bytes], bool]) -> list[int]:
    """Processes, anywhere on the host, whose ``/proc/PID/<part>`` matches."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/{part}", "rb") as f:
                    if match(f.read()):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def processes_with(token: str) -> list[int]:
    """Processes whose command line holds ``token``."""
    return processes_where("cmdline", lambda cmdline: token.encode() in cmdline)


async def test_no_network_a_loopback_listener_receives_nothing(workspace: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    received: list[Any] = []

    def accept() -> None:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                received.append(listener.accept())
            except TimeoutError:
                continue

    t = threading.Thread(target=accept)
    t.start()
    async with connect("stdio", "auto", workspace) as client:
        s = await run_py(client, (
            "import socket\n"
            f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('CONNECTED')\n"
            "except OSError as e:\n    print('refused', e)\n"
            "try:\n    socket.getaddrinfo('pypi.org', 443)\n    print('DNS')\nexcept OSError as e:\n    print('nodns')\n"
        ))
    t.join()
    listener.close()
    assert received == []
    assert "CONNECTED" not in s["stdout"] and "refused" in s["stdout"] and "nodns" in s["stdout"]


async def test_no_secret_reaches_the_code(workspace: Path) -> None:
    async with connect("stdio", "auto", workspace) as client:
        s = await run_py(client, (
            "import os, glob\n"
            "print(dict(os.environ))\n"
            "for p in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline'):\n"
            "    try:\n        print(open(p, 'rb').read())\n    except OSError as e:\n        print(p, e)\n"
        ))
    assert s["status"] == "ok", s
    assert "/proc/1/environ" in s["stdout"] or "b'" in s["stdout"]
    assert CANARY not in s["stdout"] and CANARY not in s["stderr"]
    assert "ANTHROPIC_API_KEY" not in s["stdout"]


#: The descriptors a call's code holds (its listing's own is closed by the readlink).
OPEN_FDS = (
    "import os\n"
    "fds = []\n"
    "for fd in sorted(os.listdir('/proc/self/fd'), key=int):\n"
    "    try:\n        fds.append((int(fd), os.readlink('/proc/self/fd/' + fd)))\n"
    "    except OSError:\n        pass\n"
    "print([fd for fd, _ in fds])\n"
)


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_code_gets_no_descriptor_but_its_standard_streams(
    workspace: Path, transport: str
) -> None:
    """Whatever the server inherited (an open pipe here) or its event loop leaves open in
    children (uvloop, over HTTP, passed both on), a call's code holds fds 0-2 only: fresh
    and pre-started sandboxes alike."""
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    http = HttpServer(workspace, pass_fds=(write_end,)) if transport == "http" else None
    try:
        async with connect(transport, "auto", workspace, http=http) as client:
            outs = []
            for _ in range(3):  # the first in a fresh sandbox, then pre-started ones
                s = await run_py(client, OPEN_FDS)
                assert s["status"] == "ok", s
                outs.append(s["stdout"])
                await asyncio.sleep(0.5)
    finally:
        if http is not None:
            http.stop()
        os.close(read_end)
        os.close(write_end)
    assert outs == ["[0, 1, 2]\n"] * 3


async def test_no_write_outside_the_sandbox(workspace: Path) -> None:
    targets = [str(workspace / "escaped.txt"), "/root/escaped.txt", "/etc/escaped.txt",
               "/opt/codeteam/escaped.txt", "/usr/escaped.txt", "/var/tmp/escaped.txt"]
    async with connect("stdio", "auto", workspace) as client:
        s = await run_py(client, (
            f"for p in {targets!r}:\n"
            "    try:\n        open(p, 'w').write('x')\n        print('WROTE', p)\n"
            "    except OSError as e:\n        print('denied', p, type(e).__name__)\n"
            "import os\nprint('home visible:', os.path.exists('/root/.bashrc') or os.path.exists('/root'))\n"
        ))
    assert "WROTE" not in s["stdout"], s["stdout"]
    for p in targets:
        assert not os.path.exists(p), p
    assert "home visible: False" in s["stdout"]


def processes_named(comm: str) -> list[int]:
    """Processes whose name (``/proc/PID/comm``) is ``comm``."""
    return processes_where("comm", lambda name: name.strip() == comm.encode())


async def test_bombs_are_contained_while_another_call_succeeds(workspace: Path) -> None:
    # The program text never reaches a command line (it runs from a file), so each bomb
    # renames itself, and its forks inherit the name: the host sees them by that name.
    name = f"bomb{os.getpid()}"
    named = f"open('/proc/self/comm', 'w').write({name!r})\n"
    fork_bomb = named + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    memory_bomb = named + "x = []\nwhile True:\n    x.append(bytearray(50 * 1024 * 1024))\n"
    busy_loop = named + "while True:\n    pass\n"
    flood = named + "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n"
    probe = named + "import time\ntime.sleep(1)\nprint(open('/proc/self/comm').read().strip())"
    async with connect("stdio", "auto", workspace) as client:
        results = await asyncio.gather(
            run_py(client, fork_bomb, timeout_s=5),
            run_py(client, memory_bomb, timeout_s=20),
            run_py(client, busy_loop, timeout_s=2),
            run_py(client, flood, timeout_s=10),
            run_py(client, probe),
        )
        fork, memory, loop, flooded, normal = results
        # the renaming works (so the check below can see a survivor) ...
        assert normal["status"] == "ok" and normal["stdout"] == f"{name}\n", normal
        # ... and no bomb outlives its call, even while the server is still running
        assert processes_named(name) == []
    assert fork["status"] in ("killed", "timeout", "error"), fork
    assert memory["status"] in ("killed", "error") and memory["limit"] in ("memory", None), memory
    assert "MemoryError" in memory["stderr"] or memory["limit"] == "memory"
    assert loop["status"] == "timeout" and loop["limit"] == "wall_clock", loop
    assert flooded["truncated"] is True and flooded["status"] in ("killed", "timeout"), flooded
    assert len(flooded["stdout"]) <= 64 * 1024 + 200
    assert "truncated" in flooded["stdout"]
    assert processes_named(name) == []


async def test_a_call_cannot_hold_more_memory_by_spreading_it_over_processes(
    workspace: Path,
) -> None:
    """Each child stays far under the per-process limit; together they would hold 900 MiB
    against the call's 512 MiB (``--call-memory``): the kernel kills one, and the server
    and the next call are unharmed."""
    from codeteam.sandbox.cgroup import MemoryCgroups

    found = MemoryCgroups.find()
    if isinstance(found, str):
        pytest.skip(f"no memory cgroups for calls here: {found}")
    code = (
        "import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n"
        "    if pid == 0:\n        b = bytearray(300 << 20)\n"
        "        for i in range(0, len(b), 4096):\n            b[i] = 1\n"
        "        time.sleep(1.5)\n        os._exit(0)\n    kids.append(pid)\n"
        "print([os.waitpid(pid, 0)[1] for pid in kids])\n"
    )
    args = ("--call-memory", str(512 << 20))
    async with connect("stdio", "auto", workspace, server_args=args) as client:
        spread = await run_py(client, code, timeout_s=30)
        after = await run_py(client, "print('after')")
    assert spread["signal"] == 9 or "9" in spread["stdout"], spread
    assert after["status"] == "ok" and after["stdout"] == "after\n"


async def test_daemonised_child_is_gone_after_the_call(workspace: Path) -> None:
    token = "4242.4242"
    async with connect("stdio", "auto", workspace) as client:
        s = await run_py(client, (
            "import os, subprocess\n"
            f"subprocess.Popen(['sleep', '{token}'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n"
            f"    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{token}1'])\n"
            "    os._exit(0)\n"
            "print('spawned')\n"
        ))
        assert s["status"] == "ok" and "spawned" in s["stdout"], s
        await asyncio.sleep(0.3)
        assert processes_with(token) == []


async def test_cancelled_call_kills_its_tree(workspace: Path) -> None:
    token = "3131.3131"
    async with connect("stdio", "auto", workspace) as client:
        with anyio.move_on_after(2):
            await client.call_tool("execute_code", {
                "language": "python",
                "code": f"import subprocess\nsubprocess.run(['sleep', '{token}'])\n",
                "timeout_s": 60,
            })
        deadline = time.monotonic() + 5
        while processes_with(token) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert processes_with(token) == []
        s = await run_py(client, "print('still serving')")
        assert s["stdout"] == "still serving\n"


async def test_large_program_and_no_root_inside(workspace: Path) -> None:
    big = "x = 1\n" * 35000 + "import os\nprint(os.getuid() != 0, len(open(__file__).read()))\n"
    assert len(big) > 200 * 1024
    async with connect("stdio", "auto", workspace) as client:
        s = await run_py(client, big)
    assert s["status"] == "ok", s
    assert s["stdout"].startswith("True")
