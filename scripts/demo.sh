#!/usr/bin/env bash
# Set up a minimal environment (core + cpu device) and run the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUGRAD_SETUP=demo bash scripts/setup_env.sh
"${VENV:-.venv}/bin/python" examples/seeds_tour.py "$@"
