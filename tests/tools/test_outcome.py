"""The one status mapping every sandboxed tool reports through (``tools/outcome.py``): a
limit decides before the exit code, the wall clock reads ``timeout``, any other limit or a
cancel ``killed``. Pure: no sandbox needed."""

from __future__ import annotations

import pytest

from codeteam.sandbox.spec import LimitName, SandboxResult
from codeteam.tools.outcome import run_status, stopped_by


def ended(
    exit_code: int | None, timed_out: bool = False, limit: LimitName | None = None
) -> SandboxResult:
    return SandboxResult(exit_code, None, b"", b"", False, timed_out, limit, 1.0)


@pytest.mark.parametrize(
    ("result", "succeeded", "status"),
    [
        (ended(0), True, "ok"),
        (ended(0), False, "error"),
        (ended(1), False, "error"),
        (ended(None, timed_out=True), True, "timeout"),
        (ended(None, limit="wall_clock"), True, "timeout"),
        (ended(None, limit="memory"), True, "killed"),
        (ended(0, limit="output"), True, "killed"),
        (ended(None, limit="cancelled"), False, "killed"),
    ],
)
def test_a_limit_decides_before_success(
    result: SandboxResult, succeeded: bool, status: str
) -> None:
    assert run_status(result, succeeded) == status
    assert stopped_by(result) == (status if status in ("timeout", "killed") else None)
