#!/usr/bin/env bash
# Make sure Graphviz's `dot` is installed: plugrad.autograd.graphviz.render draws graphs
# with it (its tests, and the docs' figures in docs/scripts/make_figures.py). Installed
# with apt under the same conditions as PoCL in setup_opencl.sh (apt-get and root).
set -euo pipefail
source "$(dirname "$0")/progress.sh"
SKIPPED="the tests that draw graph pictures will be skipped (Graphviz: https://graphviz.org/download/)"
if command -v dot >/dev/null 2>&1; then
  note "Graphviz found: nothing to install"
elif apt_usable; then
  step "installing Graphviz with apt (graphviz)" apt_install graphviz || true
  command -v dot >/dev/null 2>&1 || note "apt could not install Graphviz: $SKIPPED"
else
  note "apt is not usable here (it needs apt-get and root), so Graphviz is not installed: $SKIPPED"
fi
