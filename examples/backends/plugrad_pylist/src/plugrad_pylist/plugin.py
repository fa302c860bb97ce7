"""Entry point of the ``pylist`` device: what plugrad reads at discovery.

``plugrad_register_backends`` describes the device and gives a factory (run the
first time a tensor goes to ``pylist``); ``plugrad_conformance_expectations`` tells
the conformance suite what this device does not do.
"""

from __future__ import annotations

import platform

from plugrad.extend import ALL_DTYPES, KERNEL_INTERFACE_VERSION, BackendSpec, Expectations, hookimpl

DEVICE_TYPE = "pylist"


def _create(index: int):
    from .backend import PyListBackend
    return PyListBackend()


def _dtypes(index: int):
    from .backend import PyListBackend
    return [d for d in ALL_DTYPES if d in PyListBackend.dtypes]


@hookimpl
def plugrad_register_backends():
    return [BackendSpec(
        device_type=DEVICE_TYPE,
        interface_version=KERNEL_INTERFACE_VERSION,
        factory=_create,
        device_name=lambda index: f"Python {platform.python_version()}",
        dtypes=_dtypes,
        indexed=False,
        description="example device in plain Python (slow; a template for backend authors)",
    )]


@hookimpl
def plugrad_conformance_expectations(device_type):
    if device_type != DEVICE_TYPE:
        return None
    # Every case passes, so nothing is declared. A device that cannot do something yet
    # says so here, with a reason a user would accept, e.g.
    # Expectations(skip={"*:*:float16": "no half-precision storage"}).
    return Expectations()
