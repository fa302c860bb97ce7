"""Bad input on the opencl device: a dtype or op the device lacks, a device index out
of range, a kernel that fails to build, a failing launch or transfer, an allocation
that does not fit. Each error names the device, the op and the cause, and tensors
made before stay usable."""

from __future__ import annotations

import numpy as np
import pytest

import plugrad as torch
from plugrad.extend import UnsupportedOperation

cl = pytest.importorskip("pyopencl", reason="pyopencl is not installed")
pytest.importorskip("plugrad_opencl", reason="the opencl device (plugrad-opencl) is not installed")
from plugrad_opencl.errors import DeviceOutOfMemoryError, KernelBuildError, OpenCLDeviceError  # noqa: E402
from plugrad_opencl.kernels.common import NARROW  # noqa: E402
from plugrad_opencl.runtime import Library  # noqa: E402

from test_opencl_transfers import run_python  # noqa: E402


def test_a_dtype_the_device_lacks_is_refused_by_name():
    """With float64 hidden (as on a device without cl_khr_fp64) nothing computes in
    another dtype: creation and conversion fail, naming the device and the dtype."""
    out = run_python("""
        import plugrad as torch
        from plugrad.plugins import device_types
        spec = device_types()["opencl"]
        assert torch.float64 not in tuple(spec.dtypes(0)), spec.dtypes(0)
        x = torch.ones(3, device="opencl")
        for make in (lambda: torch.zeros(2, dtype=torch.float64, device="opencl"),
                     lambda: x.double(), lambda: x.to(torch.float64),
                     lambda: torch.tensor([1.0], dtype=torch.float64).to("opencl")):
            try:
                make()
            except torch.UnsupportedOperation as exc:
                assert isinstance(exc, RuntimeError)
                assert "opencl:0" in str(exc) and "torch.float64" in str(exc), str(exc)
                last = str(exc)
            else:
                raise AssertionError("float64 must be refused")
        print((x * 2).sum().item())
        try:
            x._backend.empty((2,), torch.float64)
        except torch.UnsupportedOperation as exc:
            print(exc)
    """, PLUGRAD_OPENCL_DISABLE_DTYPES="float64")
    total, message = out.splitlines()[:2]
    assert total == "6.0"
    assert message == ("'empty' for dtype torch.float64 is not supported on device 'opencl:0': disabled by "
                       "PLUGRAD_OPENCL_DISABLE_DTYPES")


def test_backend_dtypes_match_the_spec(ocl):
    from plugrad.plugins import device_types
    assert set(device_types()["opencl"].dtypes(0)) == set(ocl.dtypes)
    names = {d.name for d in ocl.dtypes}
    assert {"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32"} <= names
    assert ("float64" in names) == ocl.info.fp64


def test_an_op_the_dtype_lacks_names_op_device_and_dtype(ocl):
    a = ocl.empty((2,), torch.int32)
    with pytest.raises(UnsupportedOperation,
                       match=r"'exp' for dtype torch.int32 is not supported on device 'opencl:0'"):
        ocl.unary("exp", a, a)
    b = ocl.empty((2,), torch.bool)
    with pytest.raises(UnsupportedOperation, match=r"'sub' for dtype torch.bool"):
        ocl.binary("sub", b, b, b)


def test_a_device_index_out_of_range():
    with pytest.raises(RuntimeError, match=r"device 'opencl:7' does not exist: \d+ 'opencl' device\(s\) available"):
        torch.zeros(2, device="opencl:7")
    with pytest.raises(RuntimeError, match="opencl:7"):
        torch.opencl.get_device_name(7)
    assert torch.ones(2, device="opencl").sum().item() == 2


def test_a_build_error_carries_the_log_and_the_numbered_source(ocl):
    lib = Library(ocl.rt, "float32", NARROW, ocl.target)
    lib.source = lib.source.replace("pg_floordiv(x, y)", "pg_floordivv(x, y)", 1)
    with pytest.raises(KernelBuildError) as info:
        lib.build()
    err = info.value
    assert isinstance(err, RuntimeError)
    assert "opencl:0" in str(err) and "float32 kernels" in str(err)
    assert "pg_floordivv" in err.build_log
    line = next(i for i, text in enumerate(lib.source.splitlines(), 1) if "pg_floordivv" in text)
    assert f"{line} | " in str(err) and "pg_floordivv" in str(err)        # the offending line, numbered
    assert err.source == lib.source and err.listing.splitlines()[line - 1].lstrip().startswith(f"{line} |")


def test_a_failed_build_leaves_other_dtypes_working(ocl, monkeypatch):
    broken = Library(ocl.rt, "int16", NARROW, ocl.target)
    broken.source = broken.source.replace("#define RUN", "#error injected failure\n#define RUN", 1)
    monkeypatch.setitem(ocl._libs[False], torch.int16, broken)
    x = torch.arange(4, device="opencl", dtype=torch.float32)
    with pytest.raises(KernelBuildError, match="int16"):
        torch.ones(3, dtype=torch.int16, device="opencl")
    assert (x * 2).tolist() == [0.0, 2.0, 4.0, 6.0]


def test_a_failing_launch_names_the_kernel_and_the_op(ocl):
    a = ocl.empty((4,), torch.float32)
    knl = ocl._pair(ocl.library(torch.float32), "fill", "fill")[0]
    too_big = (ocl.info.max_work_group * 2,)
    with pytest.raises(OpenCLDeviceError, match=r"opencl:0 .*kernel 'fill_c' for 'fill' failed"):
        ocl._run(knl, too_big, too_big, [4, a.buf, 0, 1.0], "fill")
    with pytest.raises(OpenCLDeviceError, match=r"copying 64 bytes from the device failed"):
        ocl.rt.download(a.buf, 4096, 64)
    ocl.fill(a, 3.0)
    assert np.frombuffer(ocl.to_bytes(a), np.float32).tolist() == [3.0] * 4


def test_an_allocation_beyond_the_device_limit(ocl):
    x = torch.ones(5, device="opencl")
    n = ocl.info.max_alloc // 4 + 1
    with pytest.raises(DeviceOutOfMemoryError, match=r"opencl:0 .*cannot allocate \d+ bytes for a float32 tensor "
                                                     r"of shape \[\d+\].*CL_DEVICE_MAX_MEM_ALLOC_SIZE"):
        torch.empty(n, device="opencl")
    assert isinstance(DeviceOutOfMemoryError("x"), RuntimeError)
    assert x.sum().item() == 5


class FullPool:
    """A memory pool whose device is full."""

    def __init__(self):
        self.calls, self.freed = [], 0

    def allocate(self, nbytes):
        self.calls.append(nbytes)
        raise cl.MemoryError("clCreateBuffer failed: MEM_OBJECT_ALLOCATION_FAILURE")

    def free_held(self):
        self.freed += 1


def test_running_out_of_device_memory_frees_the_pool_and_retries(ocl, monkeypatch):
    x = torch.ones(3, device="opencl")
    pool = FullPool()
    monkeypatch.setattr(ocl.rt, "pool", pool)
    with pytest.raises(DeviceOutOfMemoryError,
                       match=r"out of device memory allocating 4000 bytes for a float32 tensor"):
        torch.empty(1000, device="opencl")
    assert pool.calls == [4000, 4000] and pool.freed == 1
    monkeypatch.undo()
    assert (x + 1).tolist() == [2.0, 2.0, 2.0]
