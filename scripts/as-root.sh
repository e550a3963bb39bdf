# Sourced by install.sh and test.sh: make sure the calling script runs as root.
#
#   as_root SCRIPT ARGS...   returns if already root; else re-runs SCRIPT ARGS through sudo
#                            (keeping CODETEAM_* and CI); else stops with one line.
#
# A root shell on Debian's base system or in a container has no sudo, so the README's
# commands carry no `sudo` prefix: the scripts ask for it only when they need it.
as_root() {
    local script=$1
    shift
    [[ $(id -u) -eq 0 ]] && return 0
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$(basename "$script"): needs root, and sudo is not installed: run it in a root shell" >&2
        exit 2
    fi
    local keep=() name
    for name in $(compgen -e); do
        [[ $name == CODETEAM_* || $name == CI ]] && keep+=("$name=${!name}")
    done
    exec sudo -- env "${keep[@]}" "$BASH" "$script" "$@"
}
