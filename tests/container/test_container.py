"""The deploy path for real: scripts/build-image.sh builds the image, the README's
``docker run`` line starts it, and the official MCP SDK client uses it over Streamable HTTP
with the token. The sandbox's guarantees must hold inside the container too."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.container.conftest import (
    CANARY,
    HOST_UID,
    Container,
    mcp_client,
    start_container,
)

# The first test's time includes the image build (minutes on a cold machine).
pytestmark = pytest.mark.timeout(3000)


async def call(c: Container, tool: str, **arguments: Any) -> dict[str, Any]:
    async with mcp_client(c.url, c.token) as client:
        r = await client.call_tool(tool, arguments)
    assert r.structured_content is not None, r
    return dict(r.structured_content)


async def run_py(c: Container, code: str, **kw: Any) -> dict[str, Any]:
    return await call(c, "execute_code", language="python", code=code, **kw)


def processes_named(name: str) -> list[int]:
    """Processes anywhere on this machine (the container's too) whose comm is ``name``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                pass
    return found


async def test_tools_list_answers_with_the_token(container: Container) -> None:
    async with mcp_client(container.url, container.token) as client:
        listed = await client.list_tools()
    names = {t.name for t in listed.tools}
    assert {"execute_code", "run_tests", "code_review", "list_toolchains"} <= names


async def test_a_request_without_the_token_gets_401(container: Container) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    r = httpx2.post(container.url, json=body, headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx2.post(
        container.url,
        json=body,
        headers={"Authorization": "Bearer wrong", "Accept": "application/json"},
    )
    assert wrong.status_code == 401


async def test_execute_code_python_prints_42(container: Container) -> None:
    s = await run_py(container, "print(6*7)")
    assert s["status"] == "ok" and s["stdout"] == "42\n", s


async def test_execute_code_go_compiles_and_runs(container: Container) -> None:
    code = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(6 * 7) }\n'
    s = await call(container, "execute_code", language="go", code=code, timeout_s=240)
    assert s["status"] == "ok" and s["stdout"] == "42\n", s


#: How long ago this process started: in a pre-started sandbox, at least the idle time
#: before the call (``/proc/uptime`` is the machine's in every pid namespace).
AGE_PY = (
    "import os\n"
    "start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
    "print(float(open('/proc/uptime').read().split()[0]) - start / os.sysconf('SC_CLK_TCK'))\n"
)
AGE_GO = """package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	stat, _ := os.ReadFile("/proc/self/stat")
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	start, _ := strconv.ParseFloat(fields[19], 64)
	uptime, _ := os.ReadFile("/proc/uptime")
	up, _ := strconv.ParseFloat(strings.Fields(string(uptime))[0], 64)
	fmt.Println(up - start/100)
}
"""


async def test_calls_in_the_container_are_served_by_pre_started_sandboxes(
    container: Container,
) -> None:
    """The server fills a waiting sandbox's file through its ``/proc/PID/root``, which a
    container's root (no CAP_SYS_PTRACE) may only do as the sandbox's own uid: if it could
    not, every call would quietly fall back to a fresh sandbox."""
    first = await run_py(container, AGE_PY)  # starts the pool
    assert first["status"] == "ok", first
    await asyncio.sleep(1.5)
    s = await run_py(container, AGE_PY)
    assert s["status"] == "ok" and float(s["stdout"]) >= 1.0, s
    go = await call(container, "execute_code", language="go", code=AGE_GO, timeout_s=240)
    assert go["status"] == "ok", go  # built, and the pool now holds the built-program kind
    await asyncio.sleep(1.5)
    go = await call(container, "execute_code", language="go", code=AGE_GO, timeout_s=240)
    assert go["status"] == "ok" and float(go["stdout"]) >= 1.0, go


async def test_run_tests_on_a_python_project_of_the_host_user(container: Container) -> None:
    s = await call(container, "run_tests", path="pyproj")
    assert s["status"] == "failed" and s["language"] == "python", s
    assert (s["passed"], s["failed"], s["errors"], s["skipped"]) == (2, 1, 0, 1), s


async def test_run_tests_on_a_go_project_of_the_host_user(container: Container) -> None:
    s = await call(container, "run_tests", path="goproj", timeout_s=240)
    assert s["status"] == "failed" and s["language"] == "go", s
    assert (s["passed"], s["failed"], s["errors"], s["skipped"]) == (3, 1, 0, 1), s


async def test_go_race_detector_builds_with_the_images_cgo(container: Container) -> None:
    s = await call(
        container, "run_tests", path="goproj", select=["TestAdd"], race=True, timeout_s=300
    )
    assert s["status"] == "ok" and s["passed"] == 1, s


async def test_files_written_back_belong_to_the_host_user(container: Container) -> None:
    s = await call(container, "write_file", path="notes/hello.txt", content="hi\n")
    assert s["status"] == "ok", s
    written = container.workspace / "notes" / "hello.txt"
    assert written.read_text() == "hi\n"
    # the server is root in the container; what it writes takes the workspace's owner
    for path in (written, written.parent):
        assert (path.stat().st_uid, path.stat().st_gid) == (HOST_UID, HOST_UID), path


async def test_sandbox_has_no_network_not_even_the_servers_port(container: Container) -> None:
    code = (
        "import socket\n"
        "print(sorted(name for _, name in socket.if_nameindex()))\n"
        "for host, port in (('127.0.0.1', 8080), ('1.1.1.1', 53)):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=3).close()\n"
        "        print('reached', host)\n"
        "    except OSError:\n"
        "        print('blocked', host)\n"
    )
    s = await run_py(container, code)
    assert s["stdout"] == "['lo']\nblocked 127.0.0.1\nblocked 1.1.1.1\n", s


async def test_code_runs_as_a_slot_uid_without_capabilities(container: Container) -> None:
    code = (
        "import os\n"
        "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')]\n"
        "print(os.getuid(), os.geteuid(), caps[0])\n"
    )
    s = await run_py(container, code)
    uid, euid, caps = s["stdout"].split()
    # the image's CODETEAM_SANDBOX_UID_BASE: clear of a native install's 61000 range
    assert 2_000_000 <= int(uid) == int(euid) < 2_000_000 + 4096, s
    assert int(caps, 16) == 0, s


async def test_no_secret_of_the_containers_environment_reaches_the_code(
    container: Container,
) -> None:
    code = (
        "import os\n"
        "print(sorted(os.environ.items()))\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try:\n"
        "            print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "        except OSError:\n"
        "            pass\n"
    )
    s = await run_py(container, code)
    assert s["status"] == "ok", s
    assert CANARY not in s["stdout"] and container.token not in s["stdout"]
    assert "CODETEAM" not in s["stdout"]


async def test_bombs_are_contained_and_the_next_call_is_fine(container: Container) -> None:
    name = f"cbomb{os.getpid()}"
    named = f"open('/proc/self/comm', 'w').write({name!r})\n"
    fork_bomb = (
        named
        + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    memory_bomb = named + "x = []\nwhile True:\n    x.append(bytearray(50 * 1024 * 1024))\n"
    fork, memory = await asyncio.gather(
        run_py(container, fork_bomb, timeout_s=5), run_py(container, memory_bomb, timeout_s=30)
    )
    assert fork["status"] in ("killed", "timeout", "error"), fork
    assert memory["status"] in ("killed", "error"), memory
    assert "MemoryError" in memory["stderr"] or memory["limit"] == "memory", memory
    assert processes_named(name) == []
    after = await run_py(container, "print(6*7)")
    assert after["status"] == "ok" and after["stdout"] == "42\n", after


async def test_the_log_says_which_limit_a_read_only_cgroup_leaves_out(container: Container) -> None:
    await run_py(container, "pass")  # memory cgroups are looked up with the first sandbox
    writable = container.exec("sh", "-c", "test -w /sys/fs/cgroup/memory && echo yes").stdout
    logs = container.logs()
    if writable.strip() != "yes":
        assert "no memory cgroup for calls" in logs, logs
        assert "a call's processes together are not" in logs, logs


def test_healthcheck_pings_the_server(container: Container) -> None:
    done = container.exec("/usr/bin/python3", "-I", "/opt/codeteam/libexec/healthcheck.py")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done
    assert container.inspect("{{json .Config.Healthcheck.Test}}").endswith('healthcheck.py"]')


def test_the_root_file_system_is_read_only(container: Container) -> None:
    done = container.exec("touch", "/usr/codeteam-probe")
    assert done.returncode != 0 and "Read-only file system" in done.stderr, done


def test_the_container_refuses_to_start_without_a_token(docker: str, image: str) -> None:
    done = subprocess.run(
        [docker, "run", "--rm", "-e", "CODETEAM_TOKEN=", image],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "without a token" in done.stderr, done


async def test_docker_stop_ends_the_server_within_10_s_mid_call(
    docker: str, image: str, tmp_path: Path
) -> None:
    c = start_container(docker, tmp_path)
    try:
        name = f"cstop{os.getpid()}"
        code = f"open('/proc/self/comm', 'w').write({name!r})\nimport time\ntime.sleep(300)\n"
        call_task = asyncio.create_task(run_py(c, code, timeout_s=290))
        deadline = time.monotonic() + 120
        while not processes_named(name):
            assert time.monotonic() < deadline, "the sandboxed sleep never started"
            assert not call_task.done(), call_task.result()
            await asyncio.sleep(0.1)
        start = time.monotonic()
        await asyncio.to_thread(
            subprocess.run,
            [docker, "stop", "--time", "10", c.name],
            check=True,
            capture_output=True,
        )
        took = time.monotonic() - start
        call_task.cancel()
        await asyncio.gather(call_task, return_exceptions=True)
        assert c.inspect("{{.State.Running}}") == "false"
        # ended by its own shutdown on SIGTERM, not killed by docker after the 10 s grace
        assert c.inspect("{{.State.ExitCode}}") != "137", c.logs()
        assert took < 10, f"docker stop took {took:.1f} s"
        assert processes_named(name) == []
        print(f"docker stop with a sandbox running: {took:.2f} s")
    finally:
        c.remove()
