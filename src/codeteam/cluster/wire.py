"""Frames between the server and its cluster agent: a 4-byte length, then a pickle.

Only ever spoken over a socket pair the server made for the agent it started itself, so
the pickles come from a process of the same installation (never from the network).
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct

_HEADER = struct.Struct("!I")
#: A frame larger than this is a bug (a spec holds at most the code and stdin caps plus
#: collected files): refused rather than allocated.
MAX_FRAME = 1 << 30


def encode(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


async def read(reader: asyncio.StreamReader) -> object:
    """The next message; :class:`asyncio.IncompleteReadError` at the end of the stream."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is over {MAX_FRAME}")
    return pickle.loads(await reader.readexactly(size))  # noqa: S301 - our own child's frames


def read_blocking(sock: socket.socket) -> object:
    """The next message from a blocking socket (start-up, before any event loop runs)."""
    header = _recv_exactly(sock, _HEADER.size)
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is over {MAX_FRAME}")
    return pickle.loads(_recv_exactly(sock, size))  # noqa: S301 - our own child's frames


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = sock.recv(min(left, 1 << 20))
        if not part:
            raise EOFError("the other end closed the connection")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
