#!/usr/bin/env bash
# Set up lattiq on a fresh machine: system data, a virtual environment in .venv, torch's CPU
# build first (a bare `torch` requirement could pull a multi-GB CUDA build), then the project.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  if command -v apt-get >/dev/null; then
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist \
      || echo "setup: could not install dataset-fashion-mnist; Fashion-MNIST tests will skip"
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[torch,dev]'
# compile the numba kernels of the main job and the README examples now, once, so that their
# first run is fast (numba caches them; LATTIQ_SKIP_WARMUP=1 skips this)
if [ "${LATTIQ_SKIP_WARMUP:-0}" != "1" ]; then
  .venv/bin/python -m lattiq.warmup
fi
