#!/usr/bin/env bash
# Build the codeteam image (codeteam:latest) with nothing fetched from PyPI inside the build.
#
#   scripts/build-image.sh            # build (needs a Docker engine, python3 with pip)
#   scripts/build-image.sh --no-cache # the same, rebuilding every layer
#   scripts/build-image.sh --lock     # re-pin docker/requirements/*.txt (needs uv), then stop
#
# What it does:
#  1. The wheelhouse: every Python package of the server and of the sandbox runtime, pinned
#     with hashes in docker/requirements/{server,runtime}.<arch>.txt, downloaded HERE on the
#     host with your pip set-up (its index, proxy and certificates) into build/image/wheelhouse.
#     The image installs them with pip --no-index --require-hashes: a wheel that does not
#     match its hash fails the build. Downloads are cached in $CODETEAM_IMAGE_CACHE.
#  2. The base: debian:bookworm-slim when present or pullable; where no registry serves it,
#     an equivalent minimal bookworm made from the Debian archive (mmdebstrap | docker import,
#     the host's own Debian mirror when the host runs bookworm), kept for a week.
#  3. docker build --network host (apt inside the build reaches the same mirror as the host).
#
# Settings: CODETEAM_IMAGE (default codeteam:latest), CODETEAM_BASE (a base image to use as
# is), CODETEAM_IMAGE_CACHE (default ~/.cache/codeteam-image), DOCKER (the docker client),
# PYTHON (the python with pip that downloads the wheels).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${CODETEAM_IMAGE:-codeteam:latest}
CACHE=${CODETEAM_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codeteam-image}
DOCKER=${DOCKER:-docker}
PYTHON=${PYTHON:-python3}
REQS=docker/requirements
CONTEXT_WHEELS=build/image/wheelhouse
PY_VERSION=3.11 # bookworm's python3: the wheels must match the image's interpreter
SLIM=debian:bookworm-slim

log() { printf '==> %s\n' "$*"; }
die() {
    printf 'build-image.sh: %s\n' "$*" >&2
    exit 1
}

lock() {
    command -v uv >/dev/null || die "--lock needs uv (pip install uv), to pin with hashes for another platform"
    local arch
    for arch in x86_64 aarch64; do
        log "Pinning for linux/$arch, Python $PY_VERSION"
        uv pip compile --quiet --generate-hashes --python-version "$PY_VERSION" \
            --python-platform "$arch-manylinux_2_36" --custom-compile-command "scripts/build-image.sh --lock" \
            pyproject.toml "$REQS/server-build.in" -o "$REQS/server.$arch.txt"
        uv pip compile --quiet --generate-hashes --python-version "$PY_VERSION" \
            --python-platform "$arch-manylinux_2_36" --custom-compile-command "scripts/build-image.sh --lock" \
            "$REQS/runtime.in" -o "$REQS/runtime.$arch.txt"
    done
}

NO_CACHE=()
case "${1:-}" in
--lock)
    lock
    exit 0
    ;;
--no-cache) NO_CACHE=(--no-cache) ;; # rebuild every layer (the base and the wheels are kept)
"") ;;
*) die "unknown argument '$1': use no argument to build, --no-cache, or --lock" ;;
esac

command -v "$DOCKER" >/dev/null || die "no docker client ($DOCKER): install Docker (Debian: sudo scripts/docker-engine.sh)"
"$DOCKER" info >/dev/null 2>&1 ||
    die "no Docker engine answers ($DOCKER info failed): start it (Debian: sudo scripts/docker-engine.sh; Docker Desktop: open it)"

case $("$DOCKER" info --format '{{.Architecture}}') in
x86_64 | amd64) ARCH=x86_64 ;;
aarch64 | arm64) ARCH=aarch64 ;;
*) die "the Docker engine runs on $("$DOCKER" info --format '{{.Architecture}}'): only x86_64 and aarch64 are pinned" ;;
esac
for set in server runtime; do
    [[ -f $REQS/$set.$ARCH.txt ]] || die "$REQS/$set.$ARCH.txt is missing: run scripts/build-image.sh --lock"
done

# --- 1. the wheelhouse, on the host --------------------------------------------------------
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then # Debian's python3 has pip only in a venv
    [[ -x $CACHE/pip-venv/bin/python ]] || "$PYTHON" -m venv "$CACHE/pip-venv" >/dev/null 2>&1 ||
        die "$PYTHON has no pip and cannot make a venv: apt-get install python3-pip (or set PYTHON)"
    PYTHON=$CACHE/pip-venv/bin/python
fi
platforms=()
for glibc in 17 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${glibc}_$ARCH"); done
platforms+=(--platform "manylinux2014_$ARCH" --platform "linux_$ARCH")
target=(--only-binary=:all: "${platforms[@]}" --python-version "$PY_VERSION" --implementation cp
    --abi "cp${PY_VERSION/./}" --abi abi3 --abi none)
pip_download() { # extra pip args...
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
        "${target[@]}" -r "$REQS/server.$ARCH.txt" -r "$REQS/runtime.$ARCH.txt" "$@"
}
rm -rf "$CONTEXT_WHEELS" && mkdir -p "$CONTEXT_WHEELS" "$CACHE/wheels-$ARCH"
if ! pip_download --no-index --find-links "$CACHE/wheels-$ARCH" -d "$CONTEXT_WHEELS" 2>/dev/null; then
    log "Downloading the pinned wheels (linux/$ARCH, Python $PY_VERSION) into $CACHE/wheels-$ARCH"
    pip_download -d "$CACHE/wheels-$ARCH" || die "pip download failed (above): check the index and network"
    pip_download --no-index --find-links "$CACHE/wheels-$ARCH" -d "$CONTEXT_WHEELS"
fi
log "Wheelhouse: $(find "$CONTEXT_WHEELS" -name '*.whl' | wc -l) wheels, $(du -sh "$CONTEXT_WHEELS" | cut -f1), hash-checked"

# --- 2. the base image -----------------------------------------------------------------------
has_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
base_from_archive() { # tag
    command -v mmdebstrap >/dev/null ||
        die "no registry serves $SLIM and mmdebstrap is missing: apt-get install mmdebstrap (or load $SLIM with docker load)"
    local sources=()
    if grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release; then
        local file
        for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
            if [[ -s $file ]] && grep -qs 'bookworm' "$file"; then
                sources=("$file")
                break
            fi
        done
    fi
    log "No registry serves $SLIM: making an equivalent base $1 from the Debian archive" \
        "(mmdebstrap --variant=minbase bookworm, mirror: ${sources[*]:-deb.debian.org defaults})"
    mmdebstrap --quiet --variant=minbase --format=tar \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
        bookworm - ${sources[@]+"${sources[@]}"} </dev/null |
        "$DOCKER" import --change 'CMD ["bash"]' --message "mmdebstrap --variant=minbase bookworm" - "$1" >/dev/null
}
if [[ -n ${CODETEAM_BASE:-} ]]; then
    BASE=$CODETEAM_BASE
elif has_image "$SLIM" || "$DOCKER" pull -q "$SLIM" >/dev/null 2>&1; then
    BASE=$SLIM
else
    BASE=codeteam-base:bookworm-$(date -u +%G-w%V) # a new base each week: security updates
    if has_image "$BASE"; then
        log "Base: $BASE (made from the Debian archive this week; no registry serves $SLIM)"
    else
        base_from_archive "$BASE"
        for old in $("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' codeteam-base); do
            [[ $old == "$BASE" ]] || "$DOCKER" image rm "$old" >/dev/null 2>&1 || true
        done
    fi
fi

# --- 3. the image ----------------------------------------------------------------------------
log "Building $IMAGE from $BASE"
start=$(date +%s)
previous=$("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
"$DOCKER" build ${NO_CACHE[@]+"${NO_CACHE[@]}"} --network host --build-arg "BASE=$BASE" --build-arg "ARCH=$ARCH" \
    -t "$IMAGE" .
size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
if [[ -n $previous && $previous != $("$DOCKER" image inspect --format '{{.Id}}' "$IMAGE") ]]; then
    "$DOCKER" image rm "$previous" >/dev/null 2>&1 || true # the image this one replaces, unless in use
fi
# build-stage layers of earlier builds (each source change leaves ~100 MB of them)
"$DOCKER" image prune -f --filter label=org.codeteam.stage=build --filter until=168h >/dev/null
log "Built $IMAGE in $(($(date +%s) - start)) s: $((size / 1000000)) MB (base $BASE)"
