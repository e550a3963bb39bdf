"""A pre-started sandbox for a built program (see :class:`codeteam.sandbox.spec.Prestart`):
a small runner waits in the sandbox, and a call hands its executable over, so a cached Go
binary's ``execute_code`` does not wait for bubblewrap to start. Language-neutral: any
program the sandbox can ``execve`` (a static binary, a script with a ``#!`` line).

Why Perl: the runner must name the control socket's descriptor (above 9: dash cannot),
leave the environment exactly as given (bash and dash add ``PWD`` and ``SHLVL``), and
start cheaply (~1.9 ms of CPU here, against ~9 ms for the runtime's Python). ``perl-base``
is part of every Debian system and only its built-ins are used; where it is missing,
:func:`prestart` gives None and calls run in a fresh sandbox as before.
"""

from __future__ import annotations

import os

from codeteam.sandbox.spec import Prestart

PERL = "/usr/bin/perl"  # under /usr: the sandbox sees the host's

#: The waiting process's program (``perl -e RUNNER PATH <control fd>``): the
#: :class:`Prestart` protocol (PATH made empty with mode 0755, filled from outside), the descriptor
#: closed, then ``execve(PATH, [PATH], environ)``, as bubblewrap runs ``[PATH]``. Before the
#: receipt any failure exits without ``G``, so the call runs in a fresh sandbox instead; an
#: exec that fails reports as bubblewrap does (its message, exit status 1).
RUNNER = r"""
my ($path, $fd) = @ARGV;
open(my $c, "+<&=", $fd) or exit 125;
open(my $out, ">", $path) or exit 125;
close($out) and chmod(0755, $path) or exit 125;
syswrite($c, "R") == 1 or exit 125;
my $said = "";
while (length($said) <= 2) {
    my $n = sysread($c, my $buf, 16);
    defined $n or exit 125;
    last if $n == 0;
    $said .= $buf;
}
$said eq "go" or exit 125;
syswrite($c, "G");
close($c);
exec { $path } $path;
print STDERR "bwrap: execvp $path: $!\n";
exit 1;
"""


def prestart(name: str = "main") -> Prestart | None:
    """The pre-started tree that runs ``/work/NAME`` as a run of ``["/work/NAME"]`` with
    ``NAME`` executable would; None where Perl is not installed."""
    if not os.access(PERL, os.X_OK):
        return None
    return Prestart("exec", (PERL, "-e", RUNNER, f"/work/{name}"), handover=name, executable=True)
