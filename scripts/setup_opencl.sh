#!/usr/bin/env bash
# Make sure pyopencl in the given virtual environment sees an OpenCL platform. On a
# machine without a GPU driver this installs PoCL (OpenCL on the CPU): Debian's
# package when apt is usable (faster math), else the PyPI build.
set -euo pipefail
VENV="$1"
has_platform() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null
import pyopencl as cl
raise SystemExit(0 if any(p.get_devices() for p in cl.get_platforms()) else 1)
PY
}
if has_platform; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends pocl-opencl-icd ocl-icd-libopencl1 >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && \
         apt-get install -y -qq --no-install-recommends pocl-opencl-icd ocl-icd-libopencl1 >/dev/null 2>&1; } \
    || true
fi
if ! has_platform; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check pocl-binary-distribution
fi
has_platform || { echo "warning: no OpenCL platform available; opencl tests will be skipped" >&2; exit 0; }
