"""HTTP request guard: Host check (DNS rebinding), Origin check, bearer token."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from codeteam.config import Settings
from codeteam.protocol import jsonrpc
from codeteam.protocol.http.refusal import Refused

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


def _hostname(host_header: str) -> str:
    """``[::1]:8080`` -> ``::1``; ``Example.COM:80`` -> ``example.com``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class Guard:
    """Decides whether a request may reach the MCP endpoints at all."""

    def __init__(self, settings: Settings) -> None:
        bind = settings.host.strip("[]").lower()
        self._any_host = bind in _WILDCARD
        self._origins = frozenset(o.rstrip("/") for o in settings.allowed_origins)
        origin_hosts = {urlsplit(o).hostname or "" for o in self._origins}
        self._hosts = _LOOPBACK | {bind} | (origin_hosts - {""})
        self._token = settings.token.encode() if settings.token else None
        #: Host header values already accepted (a client sends the same one every time)
        self._good_hosts: set[str] = set()

    def check(self, headers: dict[str, str]) -> None:
        """Raise :class:`Refused` unless the request may reach the endpoints."""
        host = headers.get("host")
        if host is not None and not self._any_host and host not in self._good_hosts:
            if _hostname(host) not in self._hosts:
                raise Refused(
                    403,
                    jsonrpc.INVALID_REQUEST,
                    f"Host {host[:100]!r} is not this server's address (DNS rebinding protection)",
                )
            if len(self._good_hosts) < 64:
                self._good_hosts.add(host)
        origin = headers.get("origin")
        if origin is not None and not self._origin_allowed(origin):
            raise Refused(
                403,
                jsonrpc.INVALID_REQUEST,
                f"Origin {origin[:100]!r} is not allowed; start the server with "
                "--allowed-origin to permit it",
            )
        if self._token is not None:
            scheme, _, credential = headers.get("authorization", "").partition(" ")
            supplied = credential.strip().encode("latin-1")
            if scheme.lower() != "bearer" or not hmac.compare_digest(supplied, self._token):
                challenge = b'Bearer realm="codeteam"'
                if scheme:
                    challenge += b', error="invalid_token"'
                raise Refused(
                    401,
                    jsonrpc.INVALID_REQUEST,
                    "missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                    headers=[(b"www-authenticate", challenge)],
                )

    def _origin_allowed(self, origin: str) -> bool:
        origin = origin.strip().rstrip("/")
        if origin in self._origins or "*" in self._origins:
            return True
        try:
            parts = urlsplit(origin)
            hostname = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and hostname in _LOOPBACK
