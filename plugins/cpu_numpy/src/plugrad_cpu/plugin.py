"""Entry point of the ``cpu`` device. Importing it is cheap: NumPy is imported by the
factory, the first time a tensor is created."""

from __future__ import annotations

import platform

from plugrad.extend import ALL_DTYPES, KERNEL_INTERFACE_VERSION, BackendSpec, hookimpl


def _create(index: int):
    from .backend import NumpyBackend
    return NumpyBackend()


@hookimpl
def plugrad_register_backends():
    return [BackendSpec(
        device_type="cpu",
        interface_version=KERNEL_INTERFACE_VERSION,
        factory=_create,
        device_count=lambda: 1,
        device_name=lambda index: platform.processor() or platform.machine() or "CPU",
        dtypes=lambda index: ALL_DTYPES,
        indexed=False,
        description="NumPy on the host CPU",
    )]
