"""HTML from the templates, every value escaped (autoescape on for all of them: whatever a
model or a tool wrote shows as text). Jinja2 is imported here only, by ``codeteam ui``."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

from codeteam.team.budget import usd

TEMPLATES = Path(__file__).with_name("templates")


def _usd(amount: float | None) -> str:
    return "?" if amount is None else usd(amount)  # "?": a model without a known price


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes} min {s} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@cache
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(usd=_usd, when=_when, secs=_secs, pretty=_pretty)
    return env


def page(name: str, **context: Any) -> bytes:
    return str(environment().get_template(name).render(**context)).encode()
