"""Entry point of the ``opencl`` device type (``[project.entry-points.plugrad]``).

Cheap to import: it imports neither pyopencl nor NumPy. Listing devices imports
pyopencl (on ``plugrad.opencl.is_available()`` and friends) and builds a probe kernel
on each device, so that only devices that work are numbered; the backend's own
context, queue and kernels are created by the factory, the first time a tensor goes
to a device.
"""

from __future__ import annotations

from plugrad.extend import KERNEL_INTERFACE_VERSION, BackendSpec, dtype_from_name, hookimpl


def _devices():
    from .devices import devices
    return devices()


def _create(index: int):
    from .backend import OpenCLBackend
    return OpenCLBackend(_devices()[index])


def _name(index: int) -> str:
    return _devices()[index].name


def _unusable():
    """The devices that failed the probe, then why no device is numbered (when none is)."""
    from .devices import discovery_error, unusable
    return [u.describe() for u in unusable()] + ([discovery_error()] if discovery_error() else [])


def _dtypes(index: int):
    return tuple(dtype_from_name(n) for n in _devices()[index].dtypes)


@hookimpl
def plugrad_register_backends():
    return [BackendSpec(
        device_type="opencl",
        interface_version=KERNEL_INTERFACE_VERSION,
        factory=_create,
        device_count=lambda: len(_devices()),
        device_name=_name,
        dtypes=_dtypes,
        indexed=True,
        unusable=_unusable,
        description="OpenCL devices through pyopencl (GPUs first, then CPUs; PLUGRAD_OPENCL_DEVICE filters)",
    )]
