"""What a server does with SIGINT/SIGTERM once it has stopped."""

from __future__ import annotations

import signal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def ignore_stop_signals() -> None:
    """The server has stopped (every call answered, every sandbox gone) and the process is
    only exiting: a later signal must not turn that clean exit into death by signal, as
    Claude Code's SIGINT then SIGTERM ~100 ms later would."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
