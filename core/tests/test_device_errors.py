"""Asking for a device type no plugin provides: PyTorch's exception class, and a
message that lists what is there."""

from __future__ import annotations

import pytest

import plugrad
from plugrad.plugins.registry import DeviceTypeUnavailable

CUDA_CALLS = {
    "tensor.cuda()": lambda m: m.ones(2).cuda(),
    "module.cuda()": lambda m: m.nn.Linear(2, 2).cuda(),
    "device= argument": lambda m: m.ones(2, device="cuda"),
    "tensor.to('cuda')": lambda m: m.ones(2).to("cuda"),
}


@pytest.mark.parametrize("call", list(CUDA_CALLS))
def test_cuda_without_a_cuda_plugin_names_the_way_to_a_gpu(call):
    with pytest.raises(RuntimeError, match="opencl") as info:
        CUDA_CALLS[call](plugrad)
    assert "registered device types: cpu" in str(info.value)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("call", list(CUDA_CALLS))
def test_cuda_raises_what_a_cpu_build_of_pytorch_raises(call):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this PyTorch has CUDA")
    with pytest.raises(Exception) as expected:
        CUDA_CALLS[call](torch)
    with pytest.raises(type(expected.value)):
        CUDA_CALLS[call](plugrad)


def test_an_unknown_device_type_is_a_runtime_error():
    with pytest.raises(DeviceTypeUnavailable, match="unknown device type 'nosuchdevice'") as info:
        plugrad.zeros(1, device="nosuchdevice")
    assert isinstance(info.value, RuntimeError)
