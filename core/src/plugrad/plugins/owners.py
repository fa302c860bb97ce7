"""Who owns a device type when several installed distributions claim it.

A device type belongs to one distribution. When two claim the same name, plugrad
never picks one by itself (that would let any installed package take over ``cpu``
by sorting first): the device is refused, naming both, until the user chooses with
the ``PLUGRAD_DEVICE_OWNERS`` environment variable (``"cpu=plugrad-cpu,opencl=my-ocl"``)
or :func:`plugrad.plugins.set_device_owner`. A choice also pins a type that only one
distribution claims: if that distribution is not the one named, the device is refused.
"""

from __future__ import annotations

import os
import re

__all__ = ["ENV_OWNERS", "normalize", "owners_from_env"]

ENV_OWNERS = "PLUGRAD_DEVICE_OWNERS"


def normalize(distribution: str) -> str:
    """A distribution name as packaging compares them (PEP 503: case and ``-_.`` runs)."""
    return re.sub(r"[-_.]+", "-", str(distribution)).strip().lower()


def owners_from_env() -> dict:
    """``{device type: normalized distribution}`` from ``PLUGRAD_DEVICE_OWNERS``.

    Raises ValueError naming the entry that is not ``TYPE=DISTRIBUTION``."""
    owners = {}
    for item in os.environ.get(ENV_OWNERS, "").split(","):
        if not item.strip():
            continue
        type_name, sep, distribution = item.partition("=")
        if not sep or not type_name.strip() or not distribution.strip():
            raise ValueError(f"{ENV_OWNERS} entry {item.strip()!r} is not of the form TYPE=DISTRIBUTION "
                             f"(e.g. {ENV_OWNERS}=cpu=plugrad-cpu,opencl=plugrad-opencl)")
        owners[type_name.strip()] = normalize(distribution)
    return owners
