"""Moving tensors between the host and OpenCL devices, and keeping op chains on the
device: every host transfer goes through the runtime's ``upload``/``download``,
which these tests count."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import plugrad as torch


class TransferCounter:
    """Counts the runtime's host transfers (and queue waits) while active."""

    def __init__(self, backend):
        self.rt = backend.rt
        self.uploads = self.downloads = self.finishes = 0

    def __enter__(self):
        rt = self.rt
        up, down, fin = rt.upload, rt.download, rt.finish

        def upload(*a, **k):
            self.uploads += 1
            return up(*a, **k)

        def download(*a, **k):
            self.downloads += 1
            return down(*a, **k)

        def finish(*a, **k):
            self.finishes += 1
            return fin(*a, **k)
        rt.upload, rt.download, rt.finish = upload, download, finish
        return self

    def __exit__(self, *exc):
        for name in ("upload", "download", "finish"):
            vars(self.rt).pop(name, None)


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"])
def test_round_trip_keeps_every_bit(ocl, name):
    if name not in {d.name for d in ocl.dtypes}:
        pytest.skip(f"{name} is not supported by this device")
    rng = np.random.default_rng(0)
    if name == "bool":
        a = rng.random((3, 4)) < 0.5
    elif name.startswith("float"):
        a = np.concatenate([rng.standard_normal(9), [np.nan, np.inf, -0.0]]).astype(name).reshape(3, 4)
    else:
        a = rng.integers(np.iinfo(name).min, np.iinfo(name).max, (3, 4), dtype=name, endpoint=True)
    t = torch.from_numpy(a).to("opencl")
    assert t.device == torch.device("opencl:0") and t.dtype == getattr(torch, name if name != "bool" else "bool")
    back = t.cpu().numpy()
    assert back.dtype == a.dtype and back.tobytes() == a.tobytes()
    assert torch.tensor(a, device="opencl").cpu().numpy().tobytes() == a.tobytes()
    assert torch.tensor(a.T, device="opencl").cpu().numpy().tobytes() == np.ascontiguousarray(a.T).tobytes()


def test_views_and_zero_size_and_0d_move_to_the_host(ocl):
    x = torch.arange(24, device="opencl").reshape(2, 3, 4)
    np.testing.assert_array_equal(x.permute(2, 0, 1)[1:, :, ::2].cpu().numpy(),
                                  np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1)[1:, :, ::2])
    assert x[:, :0].cpu().numpy().shape == (2, 0, 4)
    assert x[1, 2, 3].item() == 23 and x.sum().tolist() == 276
    assert x.to("cpu", torch.float64).dtype == torch.float64
    assert torch.zeros(0, 3, device="opencl").tolist() == []


def test_numpy_on_an_opencl_tensor_says_to_call_cpu(ocl):
    t = torch.ones(3, device="opencl")
    with pytest.raises(TypeError, match=r"opencl:0.*Tensor\.cpu\(\)"):
        t.numpy()
    assert t.cpu().numpy().tolist() == [1.0, 1.0, 1.0]


def test_printing_names_the_device(ocl):
    t = torch.tensor([[1.5, 2.0], [3.0, 4.0]], device="opencl")
    assert repr(t) == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], device='opencl:0')"
    assert repr(torch.tensor(3, device="opencl")) == "tensor(3, device='opencl:0')"
    w = torch.ones(2, device="opencl", requires_grad=True)
    assert repr(w * 2) == "tensor([2., 2.], device='opencl:0', grad_fn=<MulBackward0>)"


def test_an_op_chain_never_touches_the_host(ocl):
    """Forward, backward and an SGD update of a small network: no transfer until the
    loss is read. (Ops whose core implementation reads values on the host, such as
    the bounds check of gather/scatter in max's backward, are left out.)"""
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((32, 10)).astype(np.float32), device="opencl")
    y = torch.tensor(rng.standard_normal((32, 2)).astype(np.float32), device="opencl")
    w1 = torch.tensor(rng.standard_normal((10, 16)).astype(np.float32), device="opencl", requires_grad=True)
    w2 = torch.tensor(rng.standard_normal((16, 2)).astype(np.float32), device="opencl", requires_grad=True)
    losses = []
    with TransferCounter(ocl) as count:
        for _ in range(3):
            h = (x @ w1).relu()
            out = h @ w2.t().t()
            loss = ((out - y) ** 2).mean() + out.softmax(1)[:, 1].sum() * 0.01 + out[:, 0].cumsum(0)[-1] * 0
            loss.backward()
            with torch.no_grad():
                w1 -= 0.01 * w1.grad
                w2.sub_(w2.grad * 0.01)
                w1.grad.zero_()
                w2.grad.zero_()
            losses.append(loss)
        assert (count.uploads, count.downloads) == (0, 0)
        values = [v.item() for v in losses]
        assert count.downloads == 3 and count.uploads == 0
    assert values[-1] < values[0]


def test_sync_mode_waits_after_every_op(ocl):
    a = torch.ones(4, device="opencl")
    ocl._sync = True
    try:
        with TransferCounter(ocl) as count:
            b = (a + 1) * 2
            b.exp_()
        assert count.finishes == 3
    finally:
        ocl._sync = False
    with TransferCounter(ocl) as count:
        torch.opencl.synchronize()
        assert count.finishes == 1
    np.testing.assert_allclose(b.tolist(), [np.exp(4.0)] * 4, rtol=1e-6)


def run_python(code: str, **env) -> str:
    """Run ``code`` in a fresh interpreter (device discovery reads the environment once)."""
    full = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_transfers_between_two_opencl_devices(ocl):
    """PoCL can expose two devices (POCL_DEVICES): opencl:0 <-> opencl:1 and back."""
    if "Portable Computing Language" not in ocl.info.platform_name:
        pytest.skip("needs PoCL to create a second device")
    out = run_python("""
        import numpy as np, plugrad as torch
        assert torch.opencl.device_count() == 2, torch.opencl.device_count()
        a = torch.arange(12, dtype=torch.float32, device="opencl:0").reshape(3, 4)
        b = a.t().to("opencl:1")
        assert b.device == torch.device("opencl:1") and b.is_contiguous()
        c = (b * 2).to("opencl:0", torch.float64)
        assert c.device == torch.device("opencl:0") and c.dtype == torch.float64
        assert np.array_equal(c.cpu().numpy(), np.arange(12.).reshape(3, 4).T * 2)
        try:
            a + b
        except RuntimeError as exc:
            assert "same device" in str(exc)
        else:
            raise AssertionError("mixing devices must fail")
        print("ok", torch.opencl.get_device_name(1))
    """, POCL_DEVICES="pthread pthread", PLUGRAD_OPENCL_DEVICE="portable")
    assert out.startswith("ok")


def test_environment_switches(ocl):
    """PLUGRAD_OPENCL_SYNC and PLUGRAD_OPENCL_DETERMINISTIC are read when the device starts."""
    assert ocl.deterministic and not ocl._sync
    out = run_python("""
        import plugrad as torch
        from plugrad.plugins.registry import backend_for
        b = backend_for(torch.device("opencl"))
        print(b._sync, b.deterministic)
    """, PLUGRAD_OPENCL_SYNC="1", PLUGRAD_OPENCL_DETERMINISTIC="0")
    assert out.split() == ["True", "False"]
