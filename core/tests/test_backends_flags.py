"""``plugrad.backends`` answers as a PyTorch build without CUDA, cuDNN or Metal does, so
device-choosing code runs unchanged; its flags keep PyTorch's defaults and accept
new values."""

from __future__ import annotations

import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle


def test_availability_matches_a_cpu_build_of_pytorch():
    for name in ("mps", "cudnn"):
        assert getattr(plugrad.backends, name).is_available() is getattr(torch.backends, name).is_available() is False
    assert plugrad.backends.mps.is_built() is torch.backends.mps.is_built() is False
    assert plugrad.backends.cuda.is_built() is torch.backends.cuda.is_built() is False
    assert plugrad.backends.cudnn.version() is torch.backends.cudnn.version() is None
    assert plugrad.backends.mkldnn.is_available() is False and plugrad.backends.openmp.is_available() is False


def test_flags_have_pytorchs_defaults():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(plugrad.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction"):
        assert getattr(plugrad.backends.cuda.matmul, name) == getattr(torch.backends.cuda.matmul, name), name
    assert plugrad.backends.mkldnn.enabled == torch.backends.mkldnn.enabled


def test_a_tutorials_device_line_and_flag_settings_run(monkeypatch):
    monkeypatch.setattr(plugrad.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(plugrad.backends.cuda.matmul, "allow_tf32", True)
    device = "mps" if plugrad.backends.mps.is_available() else "cuda" if plugrad.cuda.is_available() else "cpu"
    assert device == "cpu"
    from plugrad.backends import cudnn
    assert cudnn.benchmark is True
    x = plugrad.ones(2, 2, device=device)
    assert (x @ x).tolist() == [[2.0, 2.0], [2.0, 2.0]]
