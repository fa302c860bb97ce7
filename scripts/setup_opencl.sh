#!/usr/bin/env bash
# Make sure pyopencl in the given virtual environment sees an OpenCL platform. On a
# machine without a GPU driver this installs PoCL (OpenCL on the CPU): Debian's
# package when apt is usable (faster math), else the PyPI build. One line per step.
set -euo pipefail
VENV="$1"
source "$(dirname "$0")/progress.sh"
has_platform() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null
import pyopencl as cl
raise SystemExit(0 if any(p.get_devices() for p in cl.get_platforms()) else 1)
PY
}
if has_platform; then
  note "OpenCL platform found: nothing to install"
  exit 0
fi
note "no OpenCL platform: installing PoCL, OpenCL on the CPU"
if apt_usable; then
  step "installing PoCL with apt (pocl-opencl-icd)" apt_install pocl-opencl-icd ocl-icd-libopencl1 || true
else
  note "apt is not usable here (it needs apt-get and root): PoCL comes from PyPI instead"
fi
if ! has_platform; then
  step "installing PoCL from PyPI (pocl-binary-distribution)" \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check pocl-binary-distribution || true
fi
has_platform || { echo "warning: no OpenCL platform available; opencl tests will be skipped" >&2; exit 0; }
