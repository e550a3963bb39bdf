"""Deterministic kill points for the resume tests: ``CODETEAM_TEST_KILL_AT=POINT:TASK`` makes
the process SIGKILL itself when it reaches that point of that task (where an outside kill
cannot be timed: inside a merge). Unset, each point costs one environment lookup."""

from __future__ import annotations

import os
import signal


def reached(point: str, task: str) -> None:
    if os.environ.get("CODETEAM_TEST_KILL_AT") == f"{point}:{task}":
        os.kill(os.getpid(), signal.SIGKILL)
