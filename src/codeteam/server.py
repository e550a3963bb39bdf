"""``codeteam serve``: settings -> tool catalog -> dispatcher -> transport.

Kept light: the HTTP stack and the tool services are imported only when chosen/needed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError, Settings, load_settings
from codeteam.tools.base import ToolSpec

#: ``module:function`` returning ``list[ToolSpec]``; replaces the built-in catalog
#: (tests use it to serve fake tools; also a way to serve extra tools).
CATALOG_ENV = "CODETEAM_CATALOG"
_LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_catalog(spec: str | None = None) -> list[ToolSpec]:
    """The tools to serve: ``spec`` (``module:function``), else ``$CODETEAM_CATALOG``,
    else the built-in catalog."""
    spec = spec or os.environ.get(CATALOG_ENV)
    if not spec:
        from codeteam.tools.catalog import builtin_tools  # type: ignore[import-not-found,unused-ignore]

        return list(builtin_tools())
    module_name, _, func_name = spec.partition(":")
    import importlib

    try:
        factory = getattr(importlib.import_module(module_name), func_name or "builtin_tools")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{CATALOG_ENV}={spec!r} cannot be loaded ({exc}); use module:function"
        ) from None
    return list(factory())


def services_factory(settings: Settings) -> Callable[[], Any]:
    def make() -> Any:
        from codeteam.tools.services import Services

        return Services.from_settings(settings)

    return make


def max_frame_bytes(settings: Settings) -> int:
    """Largest message accepted: the code and stdin caps, JSON-escaped, plus slack."""
    return max(8 << 20, 8 * (settings.max_code_bytes + settings.max_stdin_bytes))


def build_dispatcher(settings: Settings, tools: Sequence[ToolSpec] | None = None) -> Any:
    from codeteam.protocol.dispatcher import Dispatcher

    catalog = load_catalog() if tools is None else tools
    return Dispatcher(settings, catalog, services_factory(settings))


def check_http_exposure(settings: Settings) -> None:
    if not is_loopback(settings.host) and not settings.token:
        raise ConfigError(
            f"refusing to serve HTTP on non-loopback address {settings.host} without a token: "
            "pass --token (or CODETEAM_TOKEN), or bind --host 127.0.0.1"
        )


def serve_from_args(ns: argparse.Namespace) -> int:
    overrides = {k: v for k, v in vars(ns).items() if k != "command"}
    if overrides.get("runtime") is not None:
        overrides["runtime"] = Path(overrides["runtime"])
    settings = load_settings(overrides)
    if settings.transport == "http":
        check_http_exposure(settings)
    dispatcher = build_dispatcher(settings)
    if settings.transport == "stdio":
        from codeteam.protocol.stdio import serve_stdio

        return serve_stdio(dispatcher, max_frame_bytes(settings))
    from codeteam.protocol.http import serve_http

    return serve_http(dispatcher, settings, max_frame_bytes(settings))
