#!/usr/bin/env bash
# The test command: lint, type-check, then the whole suite (sandbox tests need root + bubblewrap).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${CODETEAM_PYTHON:-/opt/codeteam/venv/bin/python}
if [[ ! -x $PY ]]; then
    echo "test.sh: $PY not found: run 'sudo scripts/install.sh --dev' first" >&2
    exit 2
fi
"$PY" -m ruff check src tests bench
"$PY" -m ruff format --check src
"$PY" -m mypy src
"$PY" -m pytest -q -p no:cacheprovider "$@"
