"""The cluster lost while serving (its head killed): calls answer isError saying so, the
server keeps serving, and once a cluster is back at the address it reconnects by itself.
Its own one-node cluster: the test kills it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.conftest import node_of, ray_client, require_cluster_parts
from tests.cluster.raycluster import RayCluster

CODE = {"language": "python", "code": "print('up')"}


@pytest.fixture(scope="module")
def lone_head() -> Iterator[RayCluster]:
    require_cluster_parts()
    cluster = RayCluster(workers=0).start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_a_lost_cluster_is_an_error_then_the_server_reconnects(
    lone_head: RayCluster, workspace: Path
) -> None:
    async with ray_client(lone_head, workspace) as client:
        first = await client.call_tool("execute_code", CODE)
        assert not first.is_error and node_of(first)
        lone_head.node("head").kill()
        deadline = time.monotonic() + 60
        while True:  # the driver notices within RAY_gcs_rpc_server_reconnect_timeout_s (10)
            lost = await client.call_tool("execute_code", CODE)
            text = lost.content[0].text
            if "lost the Ray cluster" in text or "cannot reach the Ray cluster" in text:
                assert lost.is_error
                break
            # meanwhile: the host's process outlives its node for a moment, then no node is up
            assert not lost.is_error or "no node of the Ray cluster is up" in text, text
            assert time.monotonic() < deadline, text
            await asyncio.sleep(1)
        listed = await client.call_tool("list_toolchains", {})  # still serving
        assert not listed.is_error

        lone_head.restart_head()
        deadline = time.monotonic() + 90
        while True:
            again = await client.call_tool("execute_code", CODE)
            if not again.is_error:
                break
            assert time.monotonic() < deadline, again.content[0].text
            await asyncio.sleep(1)
        assert again.structured_content["stdout"] == "up\n"
        assert node_of(again) not in (None, node_of(first))  # the new cluster's node
