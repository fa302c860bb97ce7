"""Which OpenCL devices exist, in which order, and what each can do.

Every device of every platform gets one index (``opencl:0``, ``opencl:1``...): GPUs
and accelerators first, then CPUs, then the rest, in platform order within each
group. ``PLUGRAD_OPENCL_DEVICE`` restricts the list to devices whose platform or
device name contains one of its comma-separated substrings (case-insensitive), e.g.
``PLUGRAD_OPENCL_DEVICE=nvidia`` or ``=portable``. ``PLUGRAD_OPENCL_DISABLE_DTYPES``
(e.g. ``float64``) hides dtypes, to try a program as it would run on a device
without them.

Discovery imports pyopencl and queries the platforms once, on the first question
(``plugrad.opencl.is_available()``, ``device_count()``, or the first tensor). Before
numbering a device it builds and runs a tiny probe kernel there, in a context of its
own that is then dropped: a device whose compiler cannot build (a PoCL that does not
know the host CPU: "unknown target CPU 'generic'") is left out of the numbering and
listed by :func:`unusable` with the compiler's message, so ``opencl:0`` is always the
first device that works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_DEVICE = "PLUGRAD_OPENCL_DEVICE"
ENV_DISABLE_DTYPES = "PLUGRAD_OPENCL_DISABLE_DTYPES"

#: dtypes every OpenCL 1.2 device computes (float16 as storage, computed in float32).
#: bfloat16 is not among them: OpenCL C has no bfloat16 type, and a tensor of it is
#: refused by name ("... is not supported on device 'opencl:0'"); use the cpu device
BASE_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32")


@dataclass(frozen=True)
class DeviceInfo:
    """One OpenCL device and the capabilities the backend tunes itself by."""

    cl_device: object
    platform_name: str
    name: str
    vendor: str
    version: str
    driver_version: str
    c_version: str
    is_gpu: bool
    is_cpu: bool
    fp64: bool
    int64_atomics: bool
    compute_units: int
    max_alloc: int
    global_mem: int
    max_work_group: int
    local_mem: int
    dtypes: tuple      # dtype names the device supports

    def describe(self) -> str:
        return f"{self.name} ({self.platform_name})"


@dataclass(frozen=True)
class UnusableDevice:
    """A device discovery found but does not number: it cannot build or run a kernel."""

    platform_name: str
    name: str
    reason: str           # the compiler's (or runtime's) message

    def describe(self) -> str:
        return f"{self.name} ({self.platform_name}): {self.reason}"


#: what to install when no device works (shown by discovery_error and the docs)
INSTALL_HINT = ("install a working OpenCL driver: on Debian/Ubuntu without a GPU, "
                "`apt-get install pocl-opencl-icd ocl-icd-libopencl1` (the system PoCL, built for this CPU), "
                "or run scripts/setup_opencl.sh; then check with `python -m plugrad info`")

#: the probe: each work-item writes its id + 1 (a build, a launch and a read-back)
PROBE_SOURCE = "__kernel void plugrad_probe(__global int *x) { x[get_global_id(0)] = (int)get_global_id(0) + 1; }"
PROBE_SIZE = 4

_found = None
_unusable: list = []
_error = ""


def devices() -> list:
    """The usable devices, in index order (an empty list when there is no platform)."""
    global _found, _unusable, _error
    if _found is None:
        try:
            _found, _unusable, _error = _discover()
        except Exception as exc:  # no ICD loader, a broken driver
            _found, _unusable, _error = [], [], f"{type(exc).__name__}: {exc}"
    return _found


def unusable() -> list:
    """The devices found that cannot build or run the probe kernel (:class:`UnusableDevice`)."""
    devices()
    return list(_unusable)


def discovery_error() -> str:
    """Why :func:`devices` is empty, when discovery failed."""
    devices()
    return _error


def probe(cl, dev) -> str:
    """Why ``dev`` cannot run plugrad's kernels ("" when it can): build the probe kernel
    in a throw-away context, run it and read the result back."""
    import numpy as np
    try:
        context = cl.Context([dev])
        queue = cl.CommandQueue(context)
        program = cl.Program(context, PROBE_SOURCE).build()
        host = np.zeros(PROBE_SIZE, np.int32)
        buffer = cl.Buffer(context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR, hostbuf=host)
        program.plugrad_probe(queue, (PROBE_SIZE,), None, buffer)
        cl.enqueue_copy(queue, host, buffer)
        queue.finish()
    except Exception as exc:        # a failed build, context or launch: the device is unusable
        return _one_line(f"{type(exc).__name__}: {exc}")
    expected = list(range(1, PROBE_SIZE + 1))
    if host.tolist() != expected:
        return f"the probe kernel computed {host.tolist()} instead of {expected}"
    return ""


def _one_line(message: str, limit: int = 600) -> str:
    """A compiler message on one line (the build log keeps its useful first lines)."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _discover():
    """``(devices, unusable devices, why there are none)``."""
    import pyopencl as cl
    try:
        platforms = cl.get_platforms()
    except cl.LogicError as exc:     # PLATFORM_NOT_FOUND_KHR: an ICD loader but no driver
        return [], [], f"no OpenCL platform found ({exc}); {INSTALL_HINT}"
    wanted = parse_filter(os.environ.get(ENV_DEVICE, ""))
    disabled = disabled_dtypes()
    found, broken = [], []
    for platform in platforms:
        try:
            devs = platform.get_devices()
        except cl.Error:
            continue
        for dev in devs:
            pname, dname = platform.name.strip(), dev.name.strip()
            if not selected(wanted, pname, dname):
                continue
            reason = probe(cl, dev)
            if reason:
                broken.append(UnusableDevice(pname, dname, reason))
            else:
                found.append(_info(cl, dev, pname, dname, disabled))
    if found:
        return ordered(found), broken, ""
    if broken:
        names = "; ".join(b.describe() for b in broken)
        return [], broken, f"no OpenCL device can build a kernel ({names}); {INSTALL_HINT}"
    return [], [], f"no OpenCL device matches {ENV_DEVICE}={os.environ[ENV_DEVICE]!r}" if wanted else \
        f"the OpenCL platforms report no device; {INSTALL_HINT}"


def disabled_dtypes() -> set:
    """The dtype names listed in ``PLUGRAD_OPENCL_DISABLE_DTYPES``."""
    return {d.strip() for d in os.environ.get(ENV_DISABLE_DTYPES, "").split(",") if d.strip()}


def parse_filter(value: str) -> list:
    """The lower-cased substrings of ``PLUGRAD_OPENCL_DEVICE`` (empty: every device)."""
    return [w.strip().lower() for w in value.split(",") if w.strip()]


def selected(wanted: list, platform_name: str, device_name: str) -> bool:
    return not wanted or any(w in platform_name.lower() or w in device_name.lower() for w in wanted)


def ordered(infos: list) -> list:
    """GPUs and accelerators first, then CPUs, then the rest; discovery order within."""
    return sorted(infos, key=lambda i: 0 if i.is_gpu else (1 if i.is_cpu else 2))


def _info(cl, dev, pname: str, dname: str, disabled: set) -> DeviceInfo:
    ext = dev.extensions.split()
    fp64 = "cl_khr_fp64" in ext
    dtypes = BASE_DTYPES + (("float64",) if fp64 else ())
    return DeviceInfo(
        cl_device=dev, platform_name=pname, name=dname, vendor=dev.vendor.strip(), version=dev.version.strip(),
        driver_version=dev.driver_version.strip(), c_version=dev.opencl_c_version.strip(),
        is_gpu=bool(dev.type & (cl.device_type.GPU | cl.device_type.ACCELERATOR)),
        is_cpu=bool(dev.type & cl.device_type.CPU),
        fp64=fp64 and "float64" not in disabled,
        int64_atomics="cl_khr_int64_base_atomics" in ext,
        compute_units=dev.max_compute_units, max_alloc=dev.max_mem_alloc_size, global_mem=dev.global_mem_size,
        max_work_group=dev.max_work_group_size, local_mem=dev.local_mem_size,
        dtypes=tuple(d for d in dtypes if d not in disabled),
    )
