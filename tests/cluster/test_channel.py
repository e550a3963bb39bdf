"""The agent-to-host channel over real TCP connections: calls answer by id, a peer
without the key never reaches the handler, and a lost host fails the calls in flight."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codeteam.cluster import wire
from codeteam.cluster.channel import Channel, Lost, listen


async def test_calls_answer_by_id_and_only_with_the_key() -> None:
    handled: list[tuple[Any, ...]] = []

    async def handle(args: tuple[Any, ...]) -> object:
        handled.append(args)
        await asyncio.sleep(0.05 if args[0] == "slow" else 0)
        return ("did", *args)

    address, server = await listen("127.0.0.1", handle)
    try:
        channel = await Channel.connect(address)
        slow = asyncio.ensure_future(channel.call("slow", 1))
        assert await channel.call("fast", 2) == ("did", "fast", 2)
        assert not slow.done()  # calls do not wait for each other
        assert await slow == ("did", "slow", 1)

        ip, port, _ = address
        wrong = await Channel.connect((ip, port, bytes(32)))
        with pytest.raises(Lost):  # the host hangs up: nothing of it was unpickled
            await asyncio.wait_for(wrong.call("evil"), 5)
        # nor by one that skips the challenge and sends a frame at once
        reader, writer = await asyncio.open_connection(ip, port)
        await reader.readexactly(32)
        writer.write(wire.encode((1, "evil")) + bytes(32))
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert sorted(a[0] for a in handled) == ["fast", "slow"]
        channel.close()
    finally:
        server.close()


async def test_a_lost_host_fails_the_calls_in_flight() -> None:
    async def host(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(bytes(32))  # a challenge; this host takes any answer
        await reader.readexactly(32)
        await wire.read(reader)  # a call arrives, and the host dies before answering
        writer.transport.abort()

    server = await asyncio.start_server(host, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        channel = await Channel.connect(("127.0.0.1", port, b"k"))
        with pytest.raises(Lost):
            await asyncio.wait_for(channel.call("x"), 5)
        assert channel.closed
        with pytest.raises(Lost):
            await channel.call("y")
    finally:
        server.close()
