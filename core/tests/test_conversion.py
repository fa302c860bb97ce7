"""Conversions: ``numpy()``/``__array__`` (shared memory on the CPU), ``to(device/dtype)``,
``cpu()``, the casting methods, ``clone``, ``type()``, ``item``/``tolist``, devices and
the default device. A device without host memory (registered by the test) stands in
for an accelerator."""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest

import plugrad
from tensor_api_support import ALL_DTYPES, assert_tensor_equal, np_dtype, off_host_device, to_np

F32 = plugrad.float32


@pytest.fixture
def offhost():
    with off_host_device() as dev:
        yield dev


# ---- numpy() ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_numpy_shares_memory_with_a_cpu_tensor(dtype):
    t = plugrad.zeros(2, 3, dtype=dtype)
    n = t.numpy()
    assert n.dtype == np_dtype(dtype) and n.shape == (2, 3)
    t[0, 1] = 1
    assert n[0, 1] == 1
    n[1, 2] = 1
    assert t[1, 2].item() == 1


def test_numpy_of_a_view_has_the_views_layout():
    t = plugrad.arange(12.0).reshape(3, 4)
    v = t.t()[1:, ::2]
    n = v.numpy()
    np.testing.assert_array_equal(n, np.arange(12.0, dtype=np.float32).reshape(3, 4).T[1:, ::2])
    assert n.strides == tuple(s * 4 for s in v.stride())
    n[0, 0] = -1
    assert t[0, 1].item() == -1


def test_seed_numpy_and_clone_semantics():
    t = plugrad.ones(5)
    n1 = t.numpy()
    n2 = t.clone().numpy()
    t.add_(1)
    np.testing.assert_array_equal(n1, np.full(5, 2.0, np.float32))
    np.testing.assert_array_equal(n2, np.ones(5, np.float32))


def test_numpy_of_a_tensor_that_requires_grad_is_refused():
    t = plugrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), np.ones(2, np.float32))
    np.testing.assert_array_equal(t.numpy(force=True), np.ones(2, np.float32))


def test_array_protocol():
    t = plugrad.tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal(np.asarray(t), np.array([[1, 2], [3, 4]]))
    assert np.asarray(t).dtype == np.int64
    assert np.array(t, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.add(t, 1), np.array([[2, 3], [4, 5]]))


def test_numpy_on_a_device_without_host_memory_says_to_call_cpu(offhost):
    t = plugrad.ones(3, device=offhost)
    with pytest.raises(TypeError, match=r"can't convert offhost:0 device type tensor to numpy\. Use Tensor\.cpu\(\)"):
        t.numpy()
    np.testing.assert_array_equal(t.cpu().numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(np.asarray(t.cpu()), np.ones(3, np.float32))


# ---- to / cpu / casting methods --------------------------------------------------------------------------

@pytest.mark.parametrize("src, dst", list(itertools.product(ALL_DTYPES, ALL_DTYPES)), ids=lambda d: d.name)
def test_to_dtype_converts_like_numpy(src, dst):
    # values every dtype holds, fractional ones only for floats (float to int truncates toward zero)
    values = np.array([0, 1, 2, 5, 0, 1]) if not src.is_floating_point else np.array([0.0, 1.5, 2.75, 5.0, 0.25, 1])
    x = values.astype(np_dtype(src))
    r = plugrad.tensor(x).to(dst)
    assert_tensor_equal(r, x.astype(np_dtype(dst)), dst)


@pytest.mark.parametrize("method, dtype", [("float", plugrad.float32), ("double", plugrad.float64),
                                           ("half", plugrad.float16), ("long", plugrad.int64),
                                           ("int", plugrad.int32), ("short", plugrad.int16), ("char", plugrad.int8),
                                           ("byte", plugrad.uint8), ("bool", plugrad.bool)])
def test_casting_methods(device, method, dtype):
    x = np.array([[0.0, 1.7], [-2.5, 3.0]], np.float32)
    if dtype is plugrad.uint8:
        x = np.abs(x)
    r = getattr(plugrad.tensor(x, device=device), method)()
    assert_tensor_equal(r, x.astype(np_dtype(dtype)), dtype)


def test_to_returns_self_when_nothing_changes(device):
    t = plugrad.ones(2, device=device)
    assert t.to(F32) is t
    assert t.to(device) is t
    assert t.to(plugrad.device(device)) is t
    assert t.to(device, F32) is t
    assert t.float() is t
    assert t.to(F32, copy=True) is not t
    if device == "cpu":
        assert t.cpu() is t


def test_to_another_tensor_takes_its_dtype_and_device(device):
    t = plugrad.tensor([1.5, 2.5], device=device)
    other = plugrad.zeros(1, dtype=plugrad.int16, device=device)
    r = t.to(other)
    assert_tensor_equal(r, np.array([1, 2], np.int16), plugrad.int16)
    assert r.device == other.device


def test_to_device_and_back(offhost):
    x = np.array([[1.5, -2.0], [3.25, 4.0]], np.float32)
    t = plugrad.tensor(x)
    moved = t.to(offhost)
    assert moved.device == offhost and moved.dtype is F32
    back = moved.to("cpu", plugrad.double)
    assert back.device == plugrad.device("cpu")
    assert_tensor_equal(back, x.astype(np.float64), plugrad.float64)
    assert_tensor_equal(moved.cpu(), x, F32)
    assert_tensor_equal(t.to(device="offhost", dtype=plugrad.int32).cpu(), x.astype(np.int32), plugrad.int32)
    # moving copies: the original is untouched by writes to the moved tensor
    moved.add_(1)
    assert_tensor_equal(t, x, F32)
    assert_tensor_equal(plugrad.ones_like(moved, device=offhost).cpu(), np.ones((2, 2), np.float32), F32)


def test_to_refuses_what_it_does_not_understand():
    t = plugrad.ones(2)
    with pytest.raises(TypeError):
        t.to(3.5)
    with pytest.raises(TypeError):
        t.to(dtype="float64")
    with pytest.raises(RuntimeError, match="unknown device type 'nosuchdevice'"):
        t.to("nosuchdevice")


# ---- clone / type / item / tolist ---------------------------------------------------------------------------

def test_clone_is_an_independent_contiguous_copy(device):
    base = plugrad.arange(12, device=device).reshape(3, 4)
    v = base.t()
    c = v.clone()
    assert c.is_contiguous() and c.dtype is base.dtype and c.device == base.device
    assert_tensor_equal(c, np.arange(12).reshape(3, 4).T)
    c[0, 0] = 100
    assert base[0, 0].item() == 0


@pytest.mark.parametrize("dtype, name", [(plugrad.float32, "FloatTensor"), (plugrad.float64, "DoubleTensor"),
                                         (plugrad.float16, "HalfTensor"), (plugrad.int64, "LongTensor"),
                                         (plugrad.int32, "IntTensor"), (plugrad.int16, "ShortTensor"),
                                         (plugrad.int8, "CharTensor"), (plugrad.uint8, "ByteTensor"),
                                         (plugrad.bool, "BoolTensor")])
def test_type_strings_and_round_trips(dtype, name):
    t = plugrad.zeros(2, dtype=dtype)
    assert t.type() == f"torch.{name}"
    other = plugrad.tensor([1.5, 2.0])
    converted = other.type(t.type())
    assert converted.dtype is dtype and converted.type() == t.type()
    assert other.type(dtype).dtype is dtype
    assert converted.type(other.type()).dtype is F32


def test_type_on_a_device_names_it(offhost):
    assert plugrad.zeros(1, device=offhost).type() == "torch.offhost.FloatTensor"


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_item_and_tolist_give_python_numbers(dtype):
    x = np.array([[1, 0], [2, 1]]).astype(np_dtype(dtype))
    t = plugrad.tensor(x)
    assert t.tolist() == x.tolist()
    assert all(type(v) is type(e) for row, erow in zip(t.tolist(), x.tolist()) for v, e in zip(row, erow))
    assert t[1, 0].item() == x[1, 0].item() and type(t[1, 0].item()) is type(x[1, 0].item())
    assert t[0, 0].tolist() == x[0, 0].item()


def test_item_needs_exactly_one_element():
    assert plugrad.tensor([[2.5]]).item() == 2.5
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        plugrad.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(plugrad.tensor([1, 2]))


def test_python_number_protocols():
    assert float(plugrad.tensor([2.5])) == 2.5
    assert int(plugrad.tensor(3.9)) == 3
    assert bool(plugrad.tensor([0])) is False
    assert [1, 2, 3][plugrad.tensor(1)] == 2
    assert len(plugrad.zeros(4, 2)) == 4
    assert [r.tolist() for r in plugrad.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        len(plugrad.tensor(1.0))
    assert f"{plugrad.tensor(2.5):.2f}" == "2.50"


def test_pickle_and_deepcopy_round_trip():
    t = plugrad.tensor([[1.5, 2.0]], dtype=plugrad.float64, requires_grad=True)
    for c in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert c is not t and c.dtype is plugrad.float64 and c.requires_grad
        assert_tensor_equal(c, to_np(t), plugrad.float64)


# ---- devices -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, type_, index, text", [
    (("cpu",), "cpu", None, "cpu"), (("cpu:0",), "cpu", 0, "cpu:0"), (("opencl", 1), "opencl", 1, "opencl:1"),
    (("cuda:2",), "cuda", 2, "cuda:2")])
def test_device_objects(spec, type_, index, text):
    d = plugrad.device(*spec)
    assert d.type == type_ and d.index == index and str(d) == text
    assert d == plugrad.device(text) and hash(d) == hash(plugrad.device(text))
    assert plugrad.device(d) == d
    assert repr(d) == (f"device(type='{type_}')" if index is None else f"device(type='{type_}', index={index})")


@pytest.mark.parametrize("bad", ["", "CPU", "cpu:x", "cpu:-1", "gpu:0:1", "two words"])
def test_malformed_device_strings_are_refused(bad):
    with pytest.raises(RuntimeError, match="Invalid device string|Device index"):
        plugrad.device(bad)


def test_device_type_must_be_a_string():
    with pytest.raises(TypeError):
        plugrad.device(3.5)


def test_unknown_device_and_missing_index():
    with pytest.raises(RuntimeError, match="unknown device type 'cuda'"):
        plugrad.zeros(1, device="cuda")
    with pytest.raises(RuntimeError, match="cpu:1"):
        plugrad.zeros(1, device="cpu:1")


def test_cuda_is_not_available():
    assert plugrad.cuda.is_available() is False
    assert plugrad.cuda.device_count() == 0
    assert plugrad.cpu.is_available() is True


def test_default_device(offhost):
    assert plugrad.get_default_device() == plugrad.device("cpu")
    try:
        plugrad.set_default_device("offhost")
        assert plugrad.get_default_device() == offhost or plugrad.get_default_device().type == "offhost"
        assert plugrad.zeros(2).device == offhost
        assert plugrad.tensor([1, 2]).device == offhost
        assert plugrad.arange(3).device == offhost
    finally:
        plugrad.set_default_device("cpu")
    assert plugrad.zeros(2).device == plugrad.device("cpu")
    with pytest.raises(RuntimeError, match="unknown device type"):
        plugrad.set_default_device("nosuchdevice")
    assert plugrad.get_default_device() == plugrad.device("cpu")


def test_mixing_devices_names_both(offhost):
    a, b = plugrad.ones(2, device=offhost), plugrad.ones(2)
    for op in (lambda: a + b, lambda: b * a, lambda: plugrad.cat([a, b]), lambda: a.matmul(b),
               lambda: plugrad.where(b > 0, a, b)):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as info:
            op()
        assert "offhost:0" in str(info.value) and "cpu" in str(info.value)
    # a 0-d CPU tensor counts as a number, as in PyTorch
    assert_tensor_equal((a + plugrad.tensor(2.0)).cpu(), np.full(2, 3.0, np.float32), F32)
