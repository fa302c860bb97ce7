"""Registration and discovery of the opencl device: a cheap entry point, one index
per device (GPUs first), the PLUGRAD_OPENCL_DEVICE filter, and clean behaviour
without any OpenCL platform."""

from __future__ import annotations

import sys

import pytest

import plugrad as torch

pytest.importorskip("plugrad_opencl", reason="the opencl device (plugrad-opencl) is not installed")
from plugrad_opencl.devices import DeviceInfo, ordered, parse_filter, selected  # noqa: E402

from test_opencl_transfers import run_python


def test_import_creates_no_context_and_imports_no_pyopencl():
    out = run_python("""
        import sys
        import plugrad
        from plugrad.plugins.registry import _backends
        print("pyopencl" in sys.modules, "numpy" in sys.modules, "opencl" in plugrad.plugins.device_types())
        n = plugrad.opencl.device_count()
        print("pyopencl" in sys.modules, [str(d) for d in _backends], n > 0)
    """)
    assert out.split() == ["False", "False", "True", "True", "[]", "True"]


def test_availability_queries_go_through_the_spec(ocl):
    assert torch.opencl.is_available() and torch.opencl.device_count() >= 1
    assert torch.opencl.get_device_name(0) == ocl.info.name
    with pytest.raises(RuntimeError, match="does not exist"):
        torch.opencl.get_device_name(torch.opencl.device_count())
    assert torch.ones(1, device="opencl").device == torch.device("opencl:0")


def test_info_report_lists_the_device_and_its_dtypes(ocl):
    from plugrad.plugins.registry import info_report
    report = info_report()
    assert "device type 'opencl'" in report and f"opencl:0: {ocl.info.name}" in report
    assert "float16" in report and "int64" in report


def _fake(name, gpu, cpu, platform="P"):
    return DeviceInfo(cl_device=None, platform_name=platform, name=name, vendor="", version="", driver_version="",
                      c_version="", is_gpu=gpu, is_cpu=cpu, fp64=True, int64_atomics=True, compute_units=1,
                      max_alloc=1, global_mem=1, max_work_group=1, local_mem=1, dtypes=())


def test_gpus_come_first_then_cpus_then_the_rest():
    infos = [_fake("cpu0", False, True), _fake("other", False, False), _fake("gpu0", True, False),
             _fake("cpu1", False, True), _fake("gpu1", True, False)]
    assert [i.name for i in ordered(infos)] == ["gpu0", "gpu1", "cpu0", "cpu1", "other"]


def test_the_filter_matches_platform_or_device_substrings():
    wanted = parse_filter(" NVIDIA , pthread-skylake")
    assert wanted == ["nvidia", "pthread-skylake"]
    assert selected(wanted, "NVIDIA CUDA", "NVIDIA H100")
    assert selected(wanted, "Portable Computing Language", "pthread-skylake-avx512-Intel(R) Xeon(R)")
    assert not selected(wanted, "Intel(R) OpenCL", "Intel(R) Xeon(R)")
    assert selected(parse_filter(""), "anything", "at all")


def test_the_environment_filter_restricts_the_devices(ocl):
    out = run_python("""
        import plugrad as torch
        print(torch.opencl.device_count(), torch.opencl.is_available())
        try:
            torch.zeros(1, device="opencl")
        except RuntimeError as exc:
            print(exc)
    """, PLUGRAD_OPENCL_DEVICE="no-such-device-anywhere")
    counts, message = out.splitlines()
    assert counts == "0 False"
    assert "device 'opencl:0' does not exist: 0 'opencl' device(s) available" in message
    word = ocl.info.name.split("-")[0]
    assert run_python("import plugrad as torch; print(torch.opencl.device_count())",
                      PLUGRAD_OPENCL_DEVICE=word).strip() != "0"


@pytest.mark.skipif(sys.platform != "linux", reason="uses the ICD loader's OCL_ICD_VENDORS")
def test_without_any_platform_plugrad_still_imports(tmp_path):
    out = run_python("""
        import plugrad as torch
        from plugrad_opencl.devices import discovery_error
        print(torch.opencl.is_available(), torch.opencl.device_count())
        print(discovery_error())
        print(torch.ones(2).sum().item())
    """, OCL_ICD_VENDORS=str(tmp_path), POCL_DEVICES="")
    counts, why, total = out.splitlines()
    if counts != "False 0":
        pytest.skip("the ICD loader still finds a platform without OCL_ICD_VENDORS "
                    "(pocl-binary-distribution installs its driver next to pyopencl)")
    assert total == "2.0"
    assert "no OpenCL platform" in why or "no device" in why

