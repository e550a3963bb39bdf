"""Sandbox executions on a Ray cluster (``--executor ray``; the ``ray`` extra).

:class:`RayExecutor` (:mod:`codeteam.cluster.executor`) is what the server holds: it
imports no Ray. The Ray driver is a child process (:mod:`codeteam.cluster.agent`) that
keeps one sandbox host actor per node (:mod:`codeteam.cluster.host`) and ships project
snapshots to them (:mod:`codeteam.cluster.projects`).
"""

from __future__ import annotations

from codeteam.cluster.executor import RayExecutor, connect_at_start

__all__ = ["RayExecutor", "connect_at_start"]
