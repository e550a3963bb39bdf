#!/usr/bin/env bash
# Make sure a Docker engine answers on this Debian machine (run as root; CI calls it).
#
#   scripts/docker-engine.sh     # installs docker.io and mmdebstrap if missing, then starts
#                                # dockerd in the background unless an engine already answers
#
# The engine is Debian's (docker.io); its client is /usr/bin/docker, the one the container
# tests and scripts/build-image.sh use. dockerd logs to $CODETEAM_DOCKERD_LOG and is left
# running (a later run finds it answering and reuses its image cache).
set -euo pipefail

LOG=${CODETEAM_DOCKERD_LOG:-/var/log/codeteam-dockerd.log}
DOCKER=/usr/bin/docker

# dockerd looks up iptables, modprobe and friends on PATH: a CI step may run with only
# /usr/bin:/bin, where none of them are.
export PATH="/usr/sbin:/sbin:$PATH"

if [[ $(id -u) -ne 0 ]]; then
    echo "docker-engine.sh: run as root (it installs docker.io and starts dockerd)" >&2
    exit 2
fi

need=()
for pkg in docker.io mmdebstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    echo "==> Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if "$DOCKER" info >/dev/null 2>&1; then
    echo "==> Docker engine answers: $("$DOCKER" version --format '{{.Server.Version}}')"
    exit 0
fi

# A dockerd that was killed (a CI machine handed over between runs) leaves its pid files, and
# while such a pid exists (a zombie not yet reaped, or another process reusing the number),
# a new dockerd refuses to start.
for entry in dockerd:/var/run/docker.pid containerd:/var/run/docker/containerd/containerd.pid; do
    name=${entry%%:*} pidfile=${entry#*:}
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [[ -n $pid ]] || continue
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) != "$name" ]] || grep -qs '^State:[[:space:]]*Z' "/proc/$pid/status"; then
        echo "==> Removing $pidfile: its $name (pid $pid) is gone"
        rm -f "$pidfile"
    fi
done
echo "==> Starting dockerd (log: $LOG)"
# setsid: the engine outlives this script and the CI step that ran it.
setsid /usr/sbin/dockerd --storage-driver=overlay2 >>"$LOG" 2>&1 </dev/null &
for _ in $(seq 120); do
    if "$DOCKER" info >/dev/null 2>&1; then
        echo "==> Docker engine answers: $("$DOCKER" version --format '{{.Server.Version}}')"
        exit 0
    fi
    if ! kill -0 $! 2>/dev/null; then
        echo "docker-engine.sh: dockerd exited; the end of $LOG:" >&2
        tail -20 "$LOG" >&2
        exit 1
    fi
    sleep 0.5
done
echo "docker-engine.sh: dockerd did not answer within 60 s; see $LOG" >&2
exit 1
