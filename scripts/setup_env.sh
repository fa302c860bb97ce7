#!/usr/bin/env bash
# Create (or reuse) the virtual environment with every plugrad distribution installed
# in editable mode, plus what the tests need. Used by scripts/test.sh and scripts/demo.sh.
#   VENV=path      where the environment lives (default: .venv in the repository)
#   PLUGRAD_SETUP=demo   install only what the demo needs
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
MODE="${PLUGRAD_SETUP:-test}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

if [ "$MODE" = demo ]; then
  "${PIP[@]}" -e core -e plugins/cpu_numpy scikit-learn
  exit 0
fi

"${PIP[@]}" -e "core[onnx]" -e plugins/cpu_numpy -e plugins/opencl_gpu -e conformance -e examples/backends/plugrad_pylist \
  pytest pytest-xdist hypothesis scikit-learn matplotlib
"${PIP[@]}" "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" "mkdocstrings[python]>=0.26,<2"  # the docs site (scripts/test.sh builds it)
# PyTorch is the tests' oracle; without it those tests are skipped, never failed.
"${PIP[@]}" torch==2.13.0 || echo "note: torch==2.13.0 is not installable here; oracle tests will be skipped"
bash scripts/setup_opencl.sh "$VENV"
