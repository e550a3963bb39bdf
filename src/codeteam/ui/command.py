"""``codeteam ui``: check the settings, open the records read-only, listen, serve."""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.config import ConfigError, Settings

if TYPE_CHECKING:
    from codeteam.store import Store


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}; pick another --port"
        ) from None
    sock.listen(128)
    return sock


def _url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a name, not a bind
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(ns: argparse.Namespace) -> int:
    from codeteam.server import check_http_exposure
    from codeteam.store import Store, default_db_path

    db = (Path(ns.db) if ns.db else default_db_path()).absolute()
    if not db.is_file():
        raise ConfigError(
            f"no run records at {db}: start a run with 'codeteam run', or pass --db PATH"
        )
    if not 0 <= ns.port <= 65535:
        raise ConfigError(f"--port {ns.port} is not a TCP port: use 0-65535 (0: any free port)")
    settings = Settings(
        roots=(db.parent,),
        host=ns.host,
        port=ns.port,
        token=ns.token or os.environ.get("CODETEAM_TOKEN") or None,
    )
    check_http_exposure(settings)
    Store(db).close()  # brings an older database's schema up to date; records untouched
    store = Store(db, readonly=True)
    sock = _listen(settings.host, settings.port)
    url = _url(settings.host, sock.getsockname()[1])
    from codeteam.ui import discovery

    discovery.announce(db, url)
    print(f"codeteam ui: the run records in {db} at {url}/", flush=True)
    try:
        _serve(store, settings, sock)
    finally:
        discovery.withdraw(db)
        store.close()
    return 0


def _serve(store: Store, settings: Settings, sock: socket.socket) -> None:
    import uvicorn

    from codeteam.protocol.http import uvicorn_config
    from codeteam.protocol.http.guard import Guard
    from codeteam.ui.app import UiApp

    app = UiApp(store, Guard(settings), token=settings.token)
    config = uvicorn_config(app, settings)
    uvicorn.Server(config).run(sockets=[sock])  # host and port: those of the socket
