"""``codeteam serve``: settings -> tool catalog -> dispatcher -> transport.

On the start-up path: over stdio the handshake and ``tools/list`` are answered before the
settings (dataclasses, pathlib: ~20 ms) or the tool modules (~30 ms) are imported; the
settings are loaded and validated right after ``tools/list``. The HTTP stack and the
tool services are imported only when chosen/needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    import argparse

    from codeteam.config import Settings
    from codeteam.protocol.dispatcher import Dispatcher
    from codeteam.tools.base import ToolSpec

_LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def max_frame_bytes(settings: Settings) -> int:
    """Largest message accepted: the code and stdin caps, JSON-escaped, plus slack."""
    return max(MIN_FRAME_BYTES, 8 * (settings.max_code_bytes + settings.max_stdin_bytes))


#: Every configuration accepts at least this (so it is safe before the settings are loaded).
MIN_FRAME_BYTES = 8 << 20


def build_dispatcher(settings: Settings, tools: Sequence[ToolSpec] | None = None) -> Dispatcher:
    from codeteam.assembly import make_services, serving_catalog
    from codeteam.protocol.dispatcher import Dispatcher

    catalog = serving_catalog() if tools is None else tools
    return Dispatcher(settings, catalog, make_services)


def check_http_exposure(settings: Settings) -> None:
    from codeteam.config import ConfigError

    if not is_loopback(settings.host) and not settings.token:
        raise ConfigError(
            f"refusing to serve HTTP on non-loopback address {settings.host} without a token: "
            "pass --token (or CODETEAM_TOKEN), or bind --host 127.0.0.1"
        )


def serve_command(args: Sequence[str], parse: Callable[[Sequence[str]], argparse.Namespace]) -> int:
    """``codeteam serve ARGS``. Over stdio (unless a flag or CODETEAM_TRANSPORT may choose
    another transport) the flags are parsed with the settings, after ``tools/list``."""
    may_choose = any(a.startswith("--tr") for a in args)  # argparse accepts prefixes
    if may_choose or os.environ.get("CODETEAM_TRANSPORT", "stdio") != "stdio":
        return serve_from_args(parse(args))
    return _serve_stdio(lambda: _load(_overrides(parse(args))))


def _overrides(ns: argparse.Namespace) -> dict[str, object]:
    return {k: v for k, v in vars(ns).items() if k != "command"}


def serve_from_args(ns: argparse.Namespace) -> int:
    overrides = _overrides(ns)
    transport = overrides.get("transport") or os.environ.get("CODETEAM_TRANSPORT") or "stdio"
    if transport == "stdio":
        return _serve_stdio(lambda: _load(overrides))
    settings = _load(overrides)
    check_http_exposure(settings)
    from codeteam.protocol.http import serve_http

    return serve_http(build_dispatcher(settings), settings, max_frame_bytes(settings))


def _load(overrides: dict[str, object]) -> Settings:
    """The settings from flags and environment, the team's part read by the composition
    root (:func:`codeteam.assembly.team_settings`)."""
    from codeteam.assembly import team_settings
    from codeteam.config import load_settings

    overrides = {**team_settings(os.environ), **overrides}
    if overrides.get("runtime") is not None:
        from pathlib import Path

        overrides = {**overrides, "runtime": Path(str(overrides["runtime"]))}
    settings = load_settings(overrides)
    if settings.executor != "local":  # fail before serving, not on the first call
        from codeteam.executor import check

        check(settings.executor)
    if settings.executor == "ray":  # an unreachable cluster: exit 2 now, one line
        from codeteam.cluster import connect_at_start

        connect_at_start(settings)
    return settings


def _serve_stdio(settings: Callable[[], Settings]) -> int:
    from codeteam.assembly import make_services, serving_catalog
    from codeteam.protocol.dispatcher import Dispatcher
    from codeteam.protocol.stdio import serve_stdio

    dispatcher = Dispatcher(settings, serving_catalog(), make_services)
    return serve_stdio(dispatcher, lambda: max_frame_bytes(dispatcher.settle()))
