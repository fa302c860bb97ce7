"""Which OpenCL devices exist, in which order, and what each can do.

Every device of every platform gets one index (``opencl:0``, ``opencl:1``...): GPUs
and accelerators first, then CPUs, then the rest, in platform order within each
group. ``PLUGRAD_OPENCL_DEVICE`` restricts the list to devices whose platform or
device name contains one of its comma-separated substrings (case-insensitive), e.g.
``PLUGRAD_OPENCL_DEVICE=nvidia`` or ``=portable``. ``PLUGRAD_OPENCL_DISABLE_DTYPES``
(e.g. ``float64``) hides dtypes, to try a program as it would run on a device
without them.

Discovery imports pyopencl and queries the platforms once, on the first question
(``plugrad.opencl.is_available()``, ``device_count()``, or the first tensor); it
never creates a context.
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


_found = None
_error = ""


def devices() -> list:
    """The usable devices, in index order (an empty list when there is no platform)."""
    global _found, _error
    if _found is None:
        try:
            _found, _error = _discover()
        except Exception as exc:  # no ICD loader, a broken driver
            _found, _error = [], f"{type(exc).__name__}: {exc}"
    return _found


def discovery_error() -> str:
    """Why :func:`devices` is empty, when discovery failed."""
    devices()
    return _error


def _discover():
    """``(devices, why there are none)``."""
    import pyopencl as cl
    try:
        platforms = cl.get_platforms()
    except cl.LogicError as exc:     # PLATFORM_NOT_FOUND_KHR: an ICD loader but no driver
        return [], f"no OpenCL platform found ({exc})"
    wanted = parse_filter(os.environ.get(ENV_DEVICE, ""))
    disabled = disabled_dtypes()
    found = []
    for platform in platforms:
        try:
            devs = platform.get_devices()
        except cl.Error:
            continue
        for dev in devs:
            pname, dname = platform.name.strip(), dev.name.strip()
            if selected(wanted, pname, dname):
                found.append(_info(cl, dev, pname, dname, disabled))
    if not found:
        return [], f"no OpenCL device matches {ENV_DEVICE}={os.environ[ENV_DEVICE]!r}" if wanted else \
            "the OpenCL platforms report no device"
    return ordered(found), ""


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
