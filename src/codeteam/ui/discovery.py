"""Where a running ``codeteam ui`` can be reached, in a file beside the database it serves,
so ``codeteam runs show ID`` can print the run's page."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from codeteam.store import owner


def _file(db: Path) -> Path:
    return db.with_name(db.name + ".ui.json")


def announce(db: Path, url: str) -> None:
    me = owner.current()
    record = {"url": url, "pid": me.pid, "started": me.started, "host": me.host}
    with contextlib.suppress(OSError):
        _file(db).write_text(json.dumps(record))


def withdraw(db: Path) -> None:
    """Remove the file if it still names this process (another UI may have replaced it)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(_file(db).read_text()).get("pid") == os.getpid():
            _file(db).unlink()


def ui_url(db: Path) -> str | None:
    """The base URL of the UI serving ``db``, if one is running."""
    try:
        record = json.loads(_file(db).read_text())
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if owner.gone(pid, record.get("started"), record.get("host"), time.time()):
        return None
    return url
