"""plugrad-opencl: the ``opencl`` device of plugrad (any OpenCL 1.2+ platform:
NVIDIA/AMD/Intel GPUs, PoCL or Intel's runtime on CPUs).

Importing this package is cheap; pyopencl is imported and a context created only
when the device is first used. See ``plugrad_opencl.backend`` for the design.
"""

__version__ = "0.1.0"
