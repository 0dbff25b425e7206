#!/usr/bin/env bash
# One table for a machine with a GPU (see benchmarks/gpu_check.py): the gpu tests, the Leech
# quantizer's searches at 65,536 and 1,048,576 tokens, a bf16 tokenizer step and VAR steps
# with the full 196,560-way head, peak GPU memory for each. Finishes in under 8 minutes.
#
#   bash benchmarks/gpu_check.sh              # on the GPU machine
#   bash benchmarks/gpu_check.sh --reduced    # tiny sizes, CPU, seconds (what CI runs)
#
# PYTHON chooses the interpreter (default: .venv/bin/python if present, else python3).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec timeout --kill-after=10 470 "$PY" benchmarks/gpu_check.py "$@"
