"""When a model call is worth another attempt: one policy for every provider.

The SDKs' own retries are turned off (``max_retries=0``): they retry every connection
error for about 8 s, a refused one included, and a refused connection is final (nothing
listens there; retrying only delays the one line that says so). Retried here: HTTP
408/409/429/5xx (honouring ``retry-after``), timeouts, dropped connections, and error
events in the middle of a stream; everything else fails at once.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from codeteam.llm import LLMError, ProviderConfig

T = TypeVar("T")

#: The longest wait between attempts, whatever the backoff says.
MAX_WAIT_S = 8.0


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as a provider's SDK reported it.

    ``budget``: which retry allowance it uses (``request``: ``max_retries``; ``stream``:
    ``stream_retries``). ``message`` is the one line the user sees when it is final.
    """

    retry: bool
    message: str
    budget: Literal["request", "stream"] = "request"
    wait_s: float | None = None  # what the server asked for (retry-after)


def retry_status(status: int) -> bool:
    """HTTP statuses worth another attempt: timeouts, lock timeouts, rate limits,
    server errors and overloads (529)."""
    return status in (408, 409, 429) or status >= 500


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after``)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name) or "")
        except ValueError:
            continue
        if value >= 0:
            return min(value * scale, 60.0)
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what caused it, and so on (``__cause__``, else ``__context__``)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def unreachable(exc: BaseException) -> str | None:
    """Why a connection could not be made, when retrying cannot help: ``connection
    refused`` (nothing listens there) or ``host not found``. None otherwise (a reset, a
    timeout, a temporary DNS failure: worth another attempt)."""
    for cur in _chain(exc):
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, socket.gaierror) and cur.errno != socket.EAI_AGAIN:
            return "host not found"
    return None


def error_fields(exc: Any) -> tuple[str, str]:
    """The error type and message of an SDK's ``APIStatusError`` (both SDKs carry the
    API's ``{"error": {"type", "message"}}``, whole or unwrapped)."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        return str(body.get("type") or ""), str(body.get("message") or exc.message)
    return "", str(exc.message)


def sdk_failure(
    exc: Exception,
    sdk: Any,
    *,
    what: str,
    base_url: str,
    env: str,
    timeout_s: float,
) -> Failure | None:
    """Classify an error of an official SDK (``anthropic`` or ``openai``: same shapes).

    An HTTP error: retried by :func:`retry_status`, the message names ``what`` and the
    status. No HTTP answer: final when :func:`unreachable` says so, and the one line says
    what could not be reached, why, and what to check. Anything else: None.
    """
    if isinstance(exc, sdk.APIStatusError):
        kind, text = error_fields(exc)
        return Failure(
            retry_status(exc.status_code),
            f"{what} (HTTP {exc.status_code}{', ' + kind if kind else ''}): {text}",
            wait_s=retry_after(exc.response.headers),
        )
    if not isinstance(exc, sdk.APIConnectionError):
        return None
    final = unreachable(exc)
    if final is not None:
        why = final
    elif isinstance(exc, sdk.APITimeoutError):
        why = f"no answer within {timeout_s:g} s"
    else:
        *_, inner = _chain(exc)
        why = str(inner) or type(inner).__name__
    message = (
        f"cannot reach the model endpoint {base_url.rstrip('/')} ({why}): check --base-url / {env}"
    )
    return Failure(final is None, message)


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    classify: Callable[[Exception], Failure | None],
    cfg: ProviderConfig,
) -> tuple[T, int]:
    """``attempt()`` until it succeeds or fails for good; the result and the number of
    attempts. A final failure raises :class:`LLMError` with the classified message;
    exceptions ``classify`` does not know (None) propagate as they are."""
    used = {"request": 0, "stream": 0}
    allowed = {"request": cfg.max_retries, "stream": cfg.stream_retries}
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt(), attempts
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            used[failure.budget] += 1
            if not failure.retry:
                raise LLMError(failure.message) from None
            if used[failure.budget] > allowed[failure.budget]:
                raise LLMError(f"{failure.message} (gave up after {attempts} attempts)") from None
            wait = failure.wait_s
            if wait is None:
                backoff = cfg.backoff_s * 2 ** (used[failure.budget] - 1)
                wait = min(backoff, MAX_WAIT_S) * (1 - 0.25 * random.random())  # noqa: S311
            await asyncio.sleep(wait)
