"""The hooks a plugrad plugin implements. This is the whole plugin API.

A plugin is a module named by an entry point in the ``plugrad`` group; the entry
point's NAME is the device type it provides::

    [project.entry-points.plugrad]
    mydevice = "plugrad_mydevice.plugin"

and that module implements some of the hooks below, marked with
``@plugrad.extend.hookimpl``. plugrad reads the names without importing anything; the
module is imported, and its hooks called, when its device type is first asked for.
None is on the per-op path.
"""

from __future__ import annotations

import pluggy

__all__ = ["hookspec", "hookimpl", "PROJECT"]

PROJECT = "plugrad"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def plugrad_register_backends():
    """Return a list of :class:`plugrad.plugins.BackendSpec`, one per device type the
    plugin provides (each must be named by one of its distribution's entry points:
    another type is refused).

    Keep this cheap: describe the device and give a factory; open contexts,
    compile kernels and import heavy libraries in the factory, which runs the
    first time a tensor goes to the device.
    """


@hookspec
def plugrad_conformance_expectations(device_type):
    """Return what the conformance suite should expect of ``device_type`` (a
    :class:`plugrad.plugins.Expectations`), or None when this plugin does not
    provide that device. Lets a backend declare skipped ops and known failures,
    with reasons, without editing the suite."""
