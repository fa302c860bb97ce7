#!/usr/bin/env bash
# Make sure pyopencl in the given virtual environment has an OpenCL device that WORKS:
# one that builds and runs plugrad's probe kernel (plugrad_opencl.devices.probe), not
# merely one that is listed. A PoCL whose compiler does not know this CPU (the PyPI
# build's "unknown target CPU 'generic'") lists devices that cannot build a kernel.
# On a machine without a working driver this installs PoCL (OpenCL on the CPU):
# Debian's package when apt is usable (built for this machine, faster math), else the
# PyPI build. When nothing works it says what to install and why the devices failed.
# One line per step (scripts/progress.sh).
set -euo pipefail
VENV="$1"
source "$(dirname "$0")/progress.sh"
has_platform() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null
try:
    from plugrad_opencl.devices import devices     # numbers only devices that pass the probe
except ImportError:                               # the plugin is not installed yet: any device
    import pyopencl as cl
    raise SystemExit(0 if any(p.get_devices() for p in cl.get_platforms()) else 1)
raise SystemExit(0 if devices() else 1)
PY
}
why_not() {
  "$VENV/bin/python" -c 'from plugrad_opencl.devices import discovery_error; print(discovery_error())' 2>&1 \
    | tail -n 3 || true
}
if has_platform; then
  note "working OpenCL device found: nothing to install"
  exit 0
fi
note "no working OpenCL device: installing PoCL, OpenCL on the CPU"
if apt_usable; then
  step "installing PoCL with apt (pocl-opencl-icd)" apt_install pocl-opencl-icd ocl-icd-libopencl1 || true
else
  note "apt is not usable here (it needs apt-get and root): PoCL comes from PyPI instead"
fi
if ! has_platform; then
  step "installing PoCL from PyPI (pocl-binary-distribution)" \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check pocl-binary-distribution || true
fi
if ! has_platform; then
  echo "warning: no working OpenCL device; opencl tests will be skipped." >&2
  echo "  why: $(why_not)" >&2
  echo "  fix: install a driver that builds kernels for this machine, e.g. on Debian/Ubuntu" >&2
  echo "       apt-get install pocl-opencl-icd ocl-icd-libopencl1 (then: python -m plugrad info)" >&2
fi
exit 0
