"""plugrad's conformance suite: prove that a device computes what plugrad promises.

Run it against any installed device::

    pytest --pyargs plugrad_conformance --device opencl
    plugrad-conformance --device opencl --markdown report.md

``plugrad_conformance.opdb.OPS`` is the op database; ``plugrad_conformance.checks``
the checks that read it. A device plugin declares its known gaps with the
``plugrad_conformance_expectations`` hook (see ``plugrad.extend.Expectations``).
"""

__version__ = "0.1.0"
