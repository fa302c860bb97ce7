#!/usr/bin/env bash
# Create (or reuse) the virtual environment with every plugrad distribution installed
# in editable mode, plus what the tests need. Used by scripts/test.sh and scripts/demo.sh.
# Each step prints one line with its time; pip and apt themselves run quietly.
# A later run skips the pip steps when no pyproject.toml and no setup script changed
# since the last complete setup (the sources are installed in editable mode, so edits
# to them need no reinstall).
#   VENV=path      where the environment lives (default: .venv in the repository)
#   PLUGRAD_SETUP=demo   install only what the demo needs
#   PLUGRAD_REINSTALL=1  run the pip steps even when nothing changed
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/progress.sh
VENV="${VENV:-.venv}"
MODE="${PLUGRAD_SETUP:-test}"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ]; then
  note "reusing the virtual environment $VENV"
else
  step "creating the virtual environment $VENV" "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# what the installed packages depend on: when it is unchanged since the last complete
# setup of this mode, the pip steps have nothing to do
STAMP="$VENV/.plugrad-setup-$MODE"
FINGERPRINT=$(cat core/pyproject.toml plugins/*/pyproject.toml conformance/pyproject.toml \
  examples/backends/plugrad_pylist/pyproject.toml scripts/setup_env.sh | cksum)
if [ "${PLUGRAD_REINSTALL:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FINGERPRINT" ]; then
  note "the packages in $VENV are up to date (no pyproject.toml changed; PLUGRAD_REINSTALL=1 reinstalls them)"
  if [ "$MODE" != demo ]; then
    bash scripts/setup_opencl.sh "$VENV"
    bash scripts/setup_graphviz.sh
  fi
  exit 0
fi

if [ "$MODE" = demo ]; then
  step "installing plugrad (core, cpu device) and scikit-learn with pip" \
    "${PIP[@]}" -e core -e plugins/cpu_numpy scikit-learn
  echo "$FINGERPRINT" > "$STAMP"
  exit 0
fi

COMPLETE=1
step "installing plugrad's distributions and the test tools (pytest, hypothesis, scikit-learn, matplotlib) with pip" \
  "${PIP[@]}" -e "core[onnx]" -e "plugins/cpu_numpy[jit]" -e plugins/opencl_gpu -e conformance -e examples/backends/plugrad_pylist \
  pytest pytest-xdist hypothesis scikit-learn matplotlib
step "installing the documentation tools (mkdocs) with pip" \
  "${PIP[@]}" "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" "mkdocstrings[python]>=0.26,<2"  # scripts/test.sh builds the site
# PyTorch is the tests' oracle; without it those tests are skipped, never failed.
step "installing PyTorch 2.13.0, the tests' oracle, with pip (the largest download)" "${PIP[@]}" torch==2.13.0 \
  || { COMPLETE=0; note "torch==2.13.0 is not installable here: the tests that compare with PyTorch will be skipped"; }
bash scripts/setup_opencl.sh "$VENV"
bash scripts/setup_graphviz.sh
if [ "$COMPLETE" = 1 ]; then echo "$FINGERPRINT" > "$STAMP"; fi
