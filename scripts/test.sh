#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run every check CI runs: ruff, the docs build (warnings are
# errors), and the test suite without the `slow` and `gpu` markers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
# two test workers: one BLAS / OpenMP thread each, so that they do not oversubscribe two cores
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
    .venv/bin/python -m pytest -m "not slow and not gpu" -n 2 -q -p no:cacheprovider "$@"
