"""codeteam: an MCP server of sandboxed code tools, and a team of coding agents that uses it."""

__version__ = "0.1.0"

#: Where code can run (``codeteam serve --executor``; see :mod:`codeteam.executor`, which
#: exports it as ``KINDS``). Here, so that the command line names them importing nothing.
EXECUTOR_KINDS = ("local", "ray")
