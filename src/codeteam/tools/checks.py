"""The argument checks several tools share, each written once so that the same bad input
gets the same one-line error from every tool that takes it."""

from __future__ import annotations

import re
from collections.abc import Callable

from codeteam.config import Settings
from codeteam.tools.base import ToolError

_SELECT = re.compile(r"[A-Za-z0-9_./:\[\]\-]+")


def check_code(settings: Settings, code: str) -> str:
    """A snippet's source: not blank, and within ``--max-code-bytes``."""
    if not code.strip():
        raise ToolError("code is empty; pass the source text")
    size = len(code.encode("utf-8"))
    if size > settings.max_code_bytes:
        raise ToolError(
            f"code is {size} bytes, over the {settings.max_code_bytes}-byte limit; shorten it"
        )
    return code


def check_timeout(settings: Settings, timeout_s: float | None, default: float) -> float:
    """``timeout_s`` when it is in (0, --max-timeout], ``default`` (capped) when omitted."""
    limit = settings.max_timeout_s
    if timeout_s is None:
        return min(default, limit)
    if not 0 < timeout_s <= limit:
        raise ToolError(f"timeout_s must be more than 0 and at most {limit:g} seconds")
    return timeout_s


def one_source(code: str | None, path: str | None) -> None:
    """The tools that take a snippet or a workspace path take exactly one of them."""
    if (code is None) == (path is None):
        raise ToolError("give exactly one of code or path")


def snippet_language(language: str | None, registered: Callable[[], list[str]]) -> str:
    """A snippet has no path to detect its language from; the error names every language
    registered (a plugin's too)."""
    if language is None:
        *others, last = registered() or ["a registered language"]
        either = f"{', '.join(others)} or {last}" if others else last
        raise ToolError(f"language is required with code: {either}")
    return language


def check_select(select: list[str] | None) -> list[str]:
    """Test or benchmark names to run: ASCII ids that no runner can read as an option."""
    for entry in select or []:
        if (
            not entry
            or not entry.isascii()
            or entry.startswith("-")
            or not _SELECT.fullmatch(entry)
        ):
            raise ToolError(
                f"select entry {entry!r} is not a test id: use ASCII names like test_add, "
                "tests/test_a.py::test_add or TestAdd, never starting with '-'"
            )
    return list(select or [])
