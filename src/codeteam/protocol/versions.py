"""Protocol revisions we serve, and the ``_meta`` keys of the stateless (2026-07-28) era."""

from __future__ import annotations

#: Revisions reached through the ``initialize`` handshake, newest first.
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
#: Revisions where every request carries its version in ``_meta`` (no handshake).
MODERN_VERSIONS = ("2026-07-28",)
LATEST_HANDSHAKE = HANDSHAKE_VERSIONS[0]
ALL_VERSIONS = (*MODERN_VERSIONS, *HANDSHAKE_VERSIONS)

META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def is_modern(message: object) -> bool:
    """Whether a request is of the stateless era: its ``params._meta`` names its version."""
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and META_PROTOCOL_VERSION in meta
