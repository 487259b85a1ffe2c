#!/usr/bin/env bash
# One command for developers and CI: set everything up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
./bootstrap.sh
# Two cores: one intra-op thread each for torch, OpenCV and ONNX Runtime keeps tests from fighting.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 INSTALLATION_THREADS=1
.venv/bin/ruff check .
.venv/bin/mypy  # installation/, configured in pyproject.toml ([tool.mypy])
exec .venv/bin/python -m pytest "$@"
