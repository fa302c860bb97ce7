#!/usr/bin/env bash
# Set up a minimal environment (core + cpu device + scikit-learn for the data) and run
# the main demo: an MLP and a small CNN trained on scikit-learn's 8x8 digits.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUGRAD_SETUP=demo bash scripts/setup_env.sh
echo "== examples/digits.py: an MLP and a small CNN trained on scikit-learn's 8x8 digits =="
"${VENV:-.venv}/bin/python" examples/digits.py "$@"
