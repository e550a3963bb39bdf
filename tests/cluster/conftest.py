"""Fixtures of the cluster tests: a real Ray cluster per test module (a head and two workers,
each ``ray start`` in its own process group, token authentication on), and real
``codeteam serve --executor ray`` servers reached by the official MCP SDK client."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.cluster.raycluster import RayCluster

PYTHON = sys.executable
#: The nodes' state (Go build cache, unpacked snapshots): the machine's default, so the Go
#: build cache is the one every other suite's servers warm (a cold one costs minutes).
STATE = Path("/var/tmp/codeteam")


def require_cluster_parts() -> None:
    missing = [p for p in ("/usr/bin/bwrap",) if not os.path.exists(p)]
    try:
        import ray  # noqa: F401
    except ImportError:
        missing.append("ray (pip install 'codeteam[ray]')")
    if missing or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the cluster tests need root and {', '.join(missing)}")
        pytest.skip(f"the cluster tests need root and {', '.join(missing) or 'bubblewrap'}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    require_cluster_parts()
    ray_cluster = RayCluster(workers=2).start()
    try:
        yield ray_cluster
    finally:
        ray_cluster.stop()


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    """World-searchable, so every slot uid of every node can read the projects."""
    path = Path(tempfile.mkdtemp(prefix="codeteam-cluster-", dir="/var/tmp"))
    path.chmod(0o755)
    (path / "ws").mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def serve_args(cluster: RayCluster, workspace: Path, *extra: str) -> list[str]:
    return [
        "-m", "codeteam", "serve", "--executor", "ray", "--ray-address", cluster.address,
        "--root", str(workspace / "ws"), *extra,
    ]


@asynccontextmanager
async def ray_client(
    cluster: RayCluster, workspace: Path, *extra: str, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The official SDK client on a ``codeteam serve --executor ray`` over stdio."""
    env = {**cluster.env, "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    target: Any = StdioServerParameters(
        command=PYTHON, args=serve_args(cluster, workspace, *extra), env=env,
        cwd=str(workspace / "ws"),
    )
    async with Client(target, mode=mode, read_timeout_seconds=300) as client:
        yield client


def node_of(result: Any) -> str | None:
    meta = result.meta or {}
    node = meta.get("codeteam/node")
    return str(node) if node else None
