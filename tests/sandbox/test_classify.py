"""The limit classifier: which limit ended a run we did not kill ourselves, from the signal,
exit code, stderr, CPU used and the cgroup's OOM count. Pure: no sandbox, no root."""

from __future__ import annotations

import signal

import pytest

from codeteam.sandbox.limits import classify
from codeteam.sandbox.spec import LimitName, Limits

LIMITS = Limits(cpu_s=2)
KILL, SEGV = signal.SIGKILL, signal.SIGSEGV


@pytest.mark.parametrize(
    ("signum", "exit_code", "stderr", "cpu_s", "oom", "limit"),
    [
        (signal.SIGXCPU, None, b"", 2.0, False, "cpu"),
        (signal.SIGXFSZ, None, b"", 0.1, False, "file_size"),
        (None, 0, b"MemoryError", 0.1, True, None),  # a clean exit hit nothing
        (KILL, None, b"", 0.1, True, "memory"),  # the call's cgroup counted an OOM kill
        (None, 1, b"", 0.1, True, "memory"),
        (KILL, None, b"", 1.96, False, "cpu"),  # its whole CPU budget: RLIMIT_CPU's hard kill
        (KILL, None, b"", 0.5, False, None),  # killed from outside: no limit named
        (KILL, None, b"MemoryError", 0.5, False, None),
        (None, 1, b"Traceback ...\nMemoryError\n", 0.1, False, "memory"),
        (None, 2, b"fatal error: runtime: out of memory", 0.1, False, "memory"),
        (None, 134, b"terminate called after std::bad_alloc", 0.1, False, "memory"),
        (None, 1, b"BlockingIOError: Resource temporarily unavailable", 0.1, False, "processes"),
        (None, 1, b"OSError: [Errno 27] File too large", 0.1, False, "file_size"),
        (None, 1, b"No space left on device", 0.1, False, "file_size"),
        (SEGV, None, b"", 0.1, False, "memory"),  # a stack or mapping cap hit
        (None, 1, b"ValueError: bad", 0.1, False, None),
        (signal.SIGTERM, None, b"", 0.1, False, None),
    ],
)
def test_classify(
    signum: int | None,
    exit_code: int | None,
    stderr: bytes,
    cpu_s: float,
    oom: bool,
    limit: LimitName | None,
) -> None:
    assert classify(signum, exit_code, stderr, cpu_s, LIMITS, oom) == limit


def test_without_a_cpu_figure_a_sigkill_names_no_limit() -> None:
    assert classify(KILL, None, b"", None, LIMITS) is None
