"""Capped capture of one output stream: head and tail kept, the middle counted, not stored.

A child that floods its pipe must never block (we keep reading and discard), and the
memory we hold stays bounded by the cap whatever the child writes.
"""

from __future__ import annotations


class CappedBuffer:
    """Keeps the first ``cap // 2`` and last ``cap - cap // 2`` bytes of everything fed."""

    def __init__(self, cap: int) -> None:
        self._head_cap = max(cap, 0) // 2
        self._tail_cap = max(cap, 0) - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk or self._tail_cap == 0:
            return
        self._tail += chunk
        if len(self._tail) > self._tail_cap:
            del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def truncated(self) -> bool:
        return self.total > len(self._head) + len(self._tail)

    def getvalue(self) -> bytes:
        """The kept bytes, with a marker line saying how much was dropped in between."""
        dropped = self.total - len(self._head) - len(self._tail)
        if dropped <= 0:
            return bytes(self._head + self._tail)
        marker = f"\n... [{dropped} bytes truncated] ...\n".encode()
        return bytes(self._head) + marker + bytes(self._tail)
