"""stdio transport: newline-delimited JSON-RPC on stdin/stdout, logs on stderr.

Two phases. Until the first message that needs the event loop (a ``tools/call`` or a
batch), messages are answered synchronously from precomputed JSON and asyncio is never
imported: that keeps start-up to ``tools/list`` at the cost of the interpreter itself.
The settings are loaded (and validated: a bad one ends the server) right after the first
message that is neither ``initialize`` nor a notification, normally ``tools/list``.
Then the loop starts, a thread feeds it lines, and every call runs in its own task
(answers may come back out of order). EOF (after a short grace), SIGINT or SIGTERM stops
the running calls (their sandboxes kill their process trees), answers each that the server
is stopping, and exits 0.

The protocol owns private duplicates of fds 0 and 1; fd 1 is pointed at stderr and fd 0
at /dev/null, so nothing a library or child process prints can corrupt the stream.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from codeteam.protocol import jsonrpc
from codeteam.protocol.dispatcher import Answer, Call, Dispatcher, Session, run_batch, track

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    import asyncio
    from typing import Any

_CHUNK = 1 << 16
#: The message size accepted before the settings say more (every configuration allows this).
EARLY_CAP = 8 << 20
#: After stdin EOF, how long calls already running may take to answer before cancellation.
EOF_GRACE_S = 1.0
#: How long stopped calls, then the services' clean-up, may take (exit within 10 s).
STOP_S = 4.0


class Oversize:
    """Marker for a line longer than the cap (it is skipped up to its newline)."""


OVERSIZE = Oversize()


class LineReader:
    """Blocking line reader over a raw fd, with a size cap; keeps its own buffer so the
    async phase continues exactly where the synchronous phase stopped.

    ``final_cap``, if given, is asked once for the real cap when ``cap`` is first exceeded."""

    def __init__(self, fd: int, cap: int, final_cap: Callable[[], int] | None = None) -> None:
        self._fd = fd
        self.cap = cap
        self.final_cap = final_cap
        self._buf = bytearray()
        self._scan = 0
        self._discarding = False

    def settle_cap(self) -> None:
        """Ask ``final_cap`` for the real cap, once."""
        if self.final_cap is not None:
            self.cap, self.final_cap = max(self.cap, self.final_cap()), None

    def next_line(self) -> bytes | Oversize | None:
        """The next line without its newline, OVERSIZE, or None at end of input."""
        while True:
            idx = self._buf.find(b"\n", self._scan)
            if idx >= 0:
                line = bytes(self._buf[:idx])
                del self._buf[: idx + 1]
                self._scan = 0
                if self._discarding:
                    self._discarding = False
                    return OVERSIZE
                return line
            self._scan = len(self._buf)
            if self._scan > self.cap:
                self.settle_cap()
            if self._scan > self.cap:
                self._discarding = True
                self._buf.clear()
                self._scan = 0
            try:
                chunk = os.read(self._fd, _CHUNK)
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                continue
            if not chunk:
                if self._discarding:
                    self._discarding = False
                    return OVERSIZE
                if self._buf:
                    line = bytes(self._buf)
                    self._buf.clear()
                    self._scan = 0
                    return line
                return None
            self._buf += chunk


class Writer:
    """Writes whole frames (plus newline) to the protocol fd."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.broken = False

    def write(self, frame: bytes) -> None:
        if self.broken:
            return
        data = memoryview(frame + b"\n")
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            self.broken = True


def _claim_stdio() -> tuple[int, int]:
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return in_fd, out_fd


def serve_stdio(dispatcher: Dispatcher, max_frame_bytes: Callable[[], int]) -> int:
    """Serve one client on stdin/stdout until EOF or a signal; returns the exit status.

    ``max_frame_bytes`` settles the dispatcher's settings and returns the message size cap;
    it is called once, after the handshake (a ``ConfigError`` from it ends the server)."""
    in_fd, out_fd = _claim_stdio()
    reader = LineReader(in_fd, EARLY_CAP, max_frame_bytes)
    writer = Writer(out_fd)
    session = Session(id="stdio")
    while not writer.broken:
        line = reader.next_line()
        if line is None:
            break
        pending = _answer_sync(dispatcher, session, writer, line, reader)
        if pending is not None:
            import asyncio

            _watch_children_with_pidfds()
            return asyncio.run(_serve_async(dispatcher, session, reader, writer, pending))
    reader.settle_cap()  # a bad flag is reported (exit 2) even if no tool was ever listed
    return 0


def _watch_children_with_pidfds() -> None:
    """Python 3.11's asyncio waits for each sandbox's launcher in a thread of its own; a
    pidfd on the event loop does it without one (about 0.17 ms less server CPU per sandbox,
    measured). Python 3.12 and later do this by default."""
    import os
    import sys

    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # a kernel older than 5.3
        return
    import asyncio

    asyncio.set_child_watcher(asyncio.PidfdChildWatcher())


def _answer_sync(
    dispatcher: Dispatcher,
    session: Session,
    writer: Writer,
    line: bytes | Oversize,
    reader: LineReader,
) -> Call | list[Any] | None:
    """Answer what needs no event loop; return a call or batch that does. Anything but
    ``initialize`` and notifications settles the settings first (or, for answers from
    precomputed JSON such as ``tools/list``, right after answering)."""
    if isinstance(line, Oversize):
        writer.write(
            jsonrpc.error_frame(
                None,
                jsonrpc.PARSE_ERROR,
                f"Parse error: message larger than {reader.cap} bytes; send less",
            )
        )
        return None
    if not line.strip():
        return None
    parsed = jsonrpc.parse_frame(line)
    if parsed.error is not None:
        writer.write(parsed.error)
        reader.settle_cap()
        return None
    message = parsed.message
    if isinstance(message, list):
        reader.settle_cap()
        return message
    routed = dispatcher.route(message, session)
    if isinstance(routed, Call):
        reader.settle_cap()
        return routed
    if routed.frame is not None:
        writer.write(routed.frame)
    if not _is_handshake(message):
        reader.settle_cap()
    return None


def _is_handshake(message: Any) -> bool:
    """``initialize`` or a notification: answered before the settings are loaded."""
    return isinstance(message, dict) and (
        message.get("method") == "initialize" or "id" not in message
    )


async def _serve_async(
    dispatcher: Dispatcher,
    session: Session,
    reader: LineReader,
    writer: Writer,
    first: Call | list[Any],
) -> int:
    import asyncio
    import threading

    from codeteam.protocol.signals import STOP_SIGNALS, ignore_stop_signals

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[bytes | Oversize | int | None] = asyncio.Queue()

    def pump() -> None:
        while True:
            try:
                line = reader.next_line()
            except OSError:
                line = None
            loop.call_soon_threadsafe(inbox.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=pump, name="codeteam-stdin", daemon=True).start()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, inbox.put_nowait, int(signum))

    batches: set[asyncio.Task[None]] = set()

    async def notify(frame: bytes) -> None:
        writer.write(frame)

    stopping = False

    async def answer_call(call: Call) -> None:
        try:
            frame = await dispatcher.run(call, notify)
        except asyncio.CancelledError:
            if not stopping:
                return  # a cancelled request gets no response (MCP cancellation)
            frame = jsonrpc.stopping_frame(call.request_id)
        writer.write(frame)

    async def answer_batch(items: list[Any]) -> None:
        answer: Answer = await run_batch(dispatcher, items, session, notify)
        if answer.frame is not None:
            writer.write(answer.frame)

    def start(work: Call | list[Any]) -> None:
        if isinstance(work, Call):
            track(session, work, loop.create_task(answer_call(work)))
        else:
            task = loop.create_task(answer_batch(work))
            batches.add(task)
            task.add_done_callback(batches.discard)

    start(first)
    signalled = False
    while not writer.broken:
        item = await inbox.get()
        if item is None:
            break
        if isinstance(item, int):  # SIGINT or SIGTERM (a later one changes nothing)
            signalled = True
            break
        pending = _answer_sync(dispatcher, session, writer, item, reader)
        if pending is not None:
            start(pending)

    running = [*session.calls.values(), *batches]
    if running and not signalled and not writer.broken:
        # EOF: calls already received get a moment to answer (a piped script's last
        # requests), then everything still running is stopped.
        _, unfinished = await asyncio.wait(running, timeout=EOF_GRACE_S)
        running = list(unfinished)
    stopping = True
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running, timeout=STOP_S)
    try:
        await asyncio.wait_for(dispatcher.aclose(), timeout=STOP_S)
    except Exception as exc:  # shutting down anyway; say why cleanup failed
        print(f"codeteam: error while closing services: {exc!r}", file=sys.stderr)
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)
    ignore_stop_signals()
    return 0
