#!/usr/bin/env bash
# The test command: lint, type-check, then the whole suite (the sandbox tests need root and
# bubblewrap: run by another user, it re-runs itself through sudo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/as-root.sh
source scripts/as-root.sh
as_root "$PWD/scripts/test.sh" "$@"
PY=${CODETEAM_PYTHON:-/opt/codeteam/venv/bin/python}
if [[ ! -x $PY ]]; then
    echo "test.sh: $PY not found: run 'scripts/install.sh --dev' first" >&2
    exit 2
fi
"$PY" -m ruff check src tests bench
"$PY" -m ruff format --check src
"$PY" -m mypy src
"$PY" -m pytest -q -p no:cacheprovider "$@"
