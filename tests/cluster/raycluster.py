"""A real local Ray cluster for the tests: a head and worker nodes, each started with
``ray start --block`` as its own process group, token authentication on, everything on
loopback addresses (each node its own 127.0.0.x), stopped by killing the process groups
(never ``ray stop``, which would stop every Ray cluster on the machine)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
#: What every node, driver and server of a test cluster needs in its environment.
STARTED = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Node:
    name: str
    ip: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the node's whole process group (raylet, workers, the host actor)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class RayCluster:
    workers: int = 2
    cpus: int = 1
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    port: int = field(default_factory=free_port)
    temp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rt", dir="/tmp")))
    nodes: list[Node] = field(default_factory=list)
    head_ip: str = "127.0.0.2"
    pin: int | None = None  # the head's processes on this core only (taskset)

    @property
    def address(self) -> str:
        return f"{self.head_ip}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of anything that talks to this cluster (token auth on)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=self.token,
            RAY_USAGE_STATS_ENABLED="0",
            # a lost control store ends a driver after this long (Ray's default: 60 s)
            RAY_gcs_rpc_server_reconnect_timeout_s="10",
        )
        return env

    def start(self) -> RayCluster:
        self.restart_head()
        for i in range(self.workers):
            self.add_worker(f"worker{i + 1}")
        return self

    def restart_head(self) -> Node:
        """A new head at the same address (a new cluster, as after the head's machine died)."""
        head = ["--head", f"--port={self.port}", f"--temp-dir={self.temp}"]
        return self._start("head", self.head_ip, [*head, "--include-dashboard=false"], self.pin)

    def add_worker(self, name: str, ip: str | None = None, pin: int | None = None) -> Node:
        ip = ip or f"127.0.0.{len(self.nodes) + 2}"
        return self._start(name, ip, [f"--address={self.address}"], pin)

    def _start(self, name: str, ip: str, args: list[str], pin: int | None = None) -> Node:
        log = self.temp / f"{name}-{secrets.token_hex(3)}.log"
        pinned = ["taskset", "-c", str(pin)] if pin is not None else []
        argv = [
            *pinned,  # taskset execs ray: the process group and its pid are ray's
            RAY,
            "start",
            "--block",
            *args,
            f"--node-ip-address={ip}",
            f"--num-cpus={self.cpus}",
            "--object-store-memory=100000000",
            "--disable-usage-stats",
        ]
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        node = Node(name, ip, proc, log)
        self.nodes.append(node)
        deadline = time.monotonic() + 90
        while STARTED not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-3000:]
                self.stop()
                raise RuntimeError(f"ray node {name} did not start:\n{text}")
            time.sleep(0.2)
        return node

    def live(self) -> list[Node]:
        """The nodes still running (tests kill and add nodes)."""
        return [n for n in self.nodes if n.proc.poll() is None]

    def node(self, name: str) -> Node:
        return next(n for n in self.live() if n.name == name)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.temp, ignore_errors=True)
