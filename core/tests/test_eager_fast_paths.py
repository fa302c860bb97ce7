"""The fast paths of ``zero_`` (untracked: no value conversion) and ``item`` (0-d: no
size count) keep PyTorch's results and errors."""

import pytest
import torch

import plugrad

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_(device, dtype):
    d = getattr(plugrad, dtype)
    if d not in plugrad.empty(1, device=device)._backend.dtypes:
        pytest.skip(f"{device} has no {dtype}")
    x = plugrad.ones(2, 3, dtype=d, device=device)
    t = torch.ones(2, 3, dtype=getattr(torch, dtype))
    version = x._version
    assert x.zero_() is x
    t.zero_()
    assert x.tolist() == t.tolist() and x.dtype == d
    assert x._version == version + 1
    col = plugrad.ones(3, 4, dtype=d, device=device)[:, 1]        # a strided view writes through
    col.zero_()
    assert col._base.tolist() == [[1, 0, 1, 1]] * 3 if dtype != "bool" else [[True, False, True, True]] * 3


def test_zero_refusals_match_pytorch(device):
    for lib in (plugrad, torch):
        leaf = lib.ones(3, requires_grad=True) if lib is torch else lib.ones(3, requires_grad=True, device=device)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            leaf.zero_()
        with lib.no_grad():
            leaf.zero_()
        assert leaf.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("method", ["zero_", "fill_"])
def test_tracked_overwrite_gives_zero_gradients(device, method):
    """Tracked, the overwritten input gets zeros as its gradient (PyTorch's ``zeros_like(grad)``)."""
    grads = []
    for lib, kw in ((plugrad, {"device": device}), (torch, {})):
        x = lib.ones(3, requires_grad=True, **kw)
        y = x * 2
        getattr(y, method)(*(() if method == "zero_" else (5.0,)))
        (y * x).sum().backward()
        grads.append((type(y.grad_fn).__name__, x.grad.tolist()))
    assert grads[0] == grads[1]


def test_item(device):
    assert plugrad.tensor(2.5, device=device).item() == torch.tensor(2.5).item()
    assert plugrad.tensor([[7]], device=device).item() == 7
    for lib, kw in ((plugrad, {"device": device}), (torch, {})):
        with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
            lib.ones(2, **kw).item()
        with pytest.raises(RuntimeError, match="a Tensor with 0 elements cannot be converted to Scalar"):
            lib.ones(0, **kw).item()
