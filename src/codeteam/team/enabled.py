"""Whether the server offers the team as tools: an environment check that costs nothing
(it is on the ``tools/list`` path)."""

from __future__ import annotations

import os

#: ``anthropic`` or ``openai`` turns the team tools on; ``off`` turns them off even with
#: ANTHROPIC_API_KEY set.
PROVIDER_ENV = "CODETEAM_TEAM_PROVIDER"


def team_provider() -> str | None:
    """The provider the team tools use, or None when they are off."""
    chosen = os.environ.get(PROVIDER_ENV, "").strip().lower()
    if chosen in ("off", "0", "no", "false"):
        return None
    if chosen:
        return chosen
    return "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else None
