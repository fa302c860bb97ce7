"""Shared fixtures of the OpenCL device tests.

Every test here skips, with the reason, when the ``opencl`` device is not installed
or no OpenCL platform is found. The session fixture builds every dtype's program up
front (a cold PoCL cache costs about a second per program) and reports the time.
"""

from __future__ import annotations

import time

import pytest


def _unavailable() -> str:
    try:
        import plugrad
        from plugrad.plugins import device_types
    except Exception as exc:  # pragma: no cover - the core itself is broken
        return f"plugrad does not import: {exc}"
    if "opencl" not in device_types():
        return "the opencl device (plugrad-opencl) is not installed in this environment"
    if not plugrad.opencl.is_available():
        from plugrad_opencl.devices import discovery_error
        return f"no OpenCL device found: {discovery_error() or 'no platform reports a device'}"
    return ""


SKIP_REASON = _unavailable()


def pytest_collection_modifyitems(config, items):
    if not SKIP_REASON:
        return
    here = str(config.rootpath / "plugins" / "opencl_gpu")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def ocl_native():
    """The backend of ``opencl:0``, with every program built."""
    import plugrad
    from plugrad.plugins.registry import backend_for
    backend = backend_for(plugrad.device("opencl"))
    start = time.perf_counter()
    backend.build_all()
    print(f"\nOpenCL programs of {len(backend.dtypes)} dtypes built in {time.perf_counter() - start:.2f} s "
          f"on {backend.info.describe()}")
    return backend


@pytest.fixture(scope="session")
def ocl(ocl_native):
    """The backend the tests exercise (modules may override it, see ``ocl_both``)."""
    return ocl_native


@pytest.fixture(scope="session")
def cpu():
    import plugrad
    from plugrad.plugins.registry import backend_for
    return backend_for(plugrad.device("cpu"))


@pytest.fixture(scope="session")
def ocl_gpu_tuned(ocl_native):
    """A second backend on the same device with the launch shapes and kernels of a GPU
    (one element per work-item, 256-wide work-groups, local-memory matmul tiles): runs
    the GPU code paths on a CPU-only machine."""
    from plugrad_opencl.backend import OpenCLBackend
    backend = OpenCLBackend(ocl_native.info, tuning="gpu")
    backend.device = ocl_native.device
    start = time.perf_counter()
    backend.build_all()
    print(f"\nGPU-tuned OpenCL programs built in {time.perf_counter() - start:.2f} s")
    return backend


@pytest.fixture(scope="module", params=["native", "gpu-tuned"])
def ocl_both(request, ocl_native):
    """The device's backend, then the same device tuned as a GPU."""
    return ocl_native if request.param == "native" else request.getfixturevalue("ocl_gpu_tuned")


@pytest.fixture(scope="session")
def ocl_wide(ocl_native):
    """A backend on the same device that uses the 64-bit-index programs for every array
    (they are otherwise only used beyond 2**31 elements, which no test can allocate)."""
    from plugrad_opencl.backend import OpenCLBackend
    backend = OpenCLBackend(ocl_native.info)
    backend.device = ocl_native.device
    backend.force_wide = True
    return backend
