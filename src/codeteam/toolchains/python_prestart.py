"""Python's pre-started sandbox (see :class:`codeteam.sandbox.spec.Prestart`): the runtime's
interpreter waits in a sandbox with :data:`RUNNER`, and a call hands its ``main.py`` over,
so ``execute_code`` never waits for bubblewrap and the interpreter to start."""

from __future__ import annotations

from codeteam.sandbox.spec import Prestart

#: The waiting process's program (``python -I -B -c RUNNER <control fd>``): the
#: :class:`Prestart` protocol, then the program as ``__main__``. Fidelity to
#: ``python -I -B /work/main.py``: same flags, sys.path, argv, orig_argv and ``__main__``
#: globals; a program that does not compile is handed to a fresh exec of the interpreter
#: (exact error text); SystemExit is Python's own; an uncaught exception goes through
#: ``sys.excepthook`` without the runner's frame and exits 1 (KeyboardInterrupt: 130, as
#: the SIGINT death bubblewrap reports). What remains: ``inspect.stack()`` shows two runner
#: frames below the program's, and fd 0 is a pipe even when there is no input.
RUNNER = """\
def _codeteam_run(fd, path):
    import os, sys
    compile("", path, "exec", dont_inherit=True)  # builds the AST types now, not in the call
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    os.fchmod(out, 0o644)
    os.close(out)
    os.write(fd, b"R")
    said = b""
    while len(said) <= 2 and (part := os.read(fd, 16)):
        said += part
    if said != b"go":  # the server could not hand the program over: none of it runs
        os._exit(125)
    os.write(fd, b"G")  # taken: from here on, whatever happens is this call's own doing
    os.close(fd)
    src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    parts = []
    while part := os.read(src, 1 << 20):
        parts.append(part)
    os.close(src)
    source = b"".join(parts)
    del parts, part
    sys.orig_argv[sys.orig_argv.index("-c"):] = [path]
    sys.argv[:] = [path]
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except BaseException:
        os.execv(sys.executable, sys.orig_argv)
    del source
    main = sys.modules["__main__"].__dict__
    builtins = main["__builtins__"]
    loader = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    main.clear()
    main.update(__name__="__main__", __doc__=None, __package__=None, __loader__=loader,
                __spec__=None, __annotations__={}, __builtins__=builtins, __file__=path,
                __cached__=None)
    try:
        exec(code, main)
    except SystemExit:
        raise
    except BaseException as exc:
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        exc.__traceback__ = tb
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
        sys.excepthook(type(exc), exc, tb)
        raise SystemExit(130 if isinstance(exc, KeyboardInterrupt) else 1) from None
import sys
_codeteam_run(int(sys.argv[1]), "/work/main.py")
"""


def prestart(python: str) -> Prestart:
    """The pre-started tree that runs ``main.py`` as ``python -I -B /work/main.py`` would."""
    return Prestart("python", (python, "-I", "-B", "-c", RUNNER), handover="main.py")
