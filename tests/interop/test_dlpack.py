"""DLPack exchange with NumPy and PyTorch: ``plugrad.from_dlpack``, ``Tensor.__dlpack__``,
``Tensor.__dlpack_device__`` and ``plugrad.utils.dlpack``.

On the cpu device the exchange is zero-copy both ways: every test that claims so writes
through one library and reads through the other. PyTorch is the oracle for the
refusals (a tensor that requires grad, bad streams, consumed capsules...), the capsule
kinds the versioned arguments give, and the strides a strided view arrives with. Other
devices cannot hand out their memory: their tensors go to the host as a copy when the
consumer asks for host memory, and are refused with BufferError otherwise.
"""

from __future__ import annotations

import gc

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from plugrad.utils.dlpack import DLDeviceType

#: every dtype NumPy's DLPack carries (NumPy has no bfloat16; PyTorch's tests below cover it)
NUMPY_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ALL_DTYPES = NUMPY_DTYPES + ["bfloat16"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def sample(module, dtype_name, shape=(2, 3)):
    """The same values 0, 1, 2... (as bools: alternating) in ``module``'s tensor of ``dtype_name``."""
    n = int(np.prod(shape))
    values = (np.arange(n) % 2).astype(bool) if dtype_name == "bool" else np.arange(n)
    return module.tensor(values.reshape(shape).tolist(), dtype=getattr(module, dtype_name))


def exception_class(fn):
    try:
        fn()
    except BaseException as e:  # noqa: B036 (PyTorch raises AssertionError for a stream on cpu)
        return type(e)
    return None


def capsule_name(capsule) -> str:
    return repr(capsule).split('"')[1]


# ---- NumPy ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_numpy_reads_and_writes_plugrad_memory(dtype):
    t = sample(plugrad, dtype)
    a = np.from_dlpack(t)
    assert a.dtype == np.dtype(dtype) and a.shape == (2, 3)
    np.testing.assert_array_equal(a, t.numpy())
    a[1, 2] = 0
    t[0, 0] = 1
    assert t[1, 2].item() == 0 and bool(a[0, 0])


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_plugrad_reads_and_writes_numpy_memory(dtype):
    a = (np.arange(6) % 2).astype(bool).reshape(2, 3) if dtype == "bool" else np.arange(6, dtype=dtype).reshape(2, 3)
    t = plugrad.from_dlpack(a)
    assert t.dtype is getattr(plugrad, dtype) and t.shape == (2, 3) and t.device.type == "cpu"
    assert not t.requires_grad
    assert t.tolist() == a.tolist()
    t[0, 1] = 1
    a[1, 0] = 0
    assert bool(a[0, 1]) and t[1, 0].item() == 0


def test_numpy_views_arrive_with_their_strides_and_offsets():
    base = np.arange(60.0).reshape(3, 4, 5)
    view = base[1:, ::2, 1::3].transpose(2, 0, 1)
    t = plugrad.from_dlpack(view)
    assert t.shape == view.shape and t.tolist() == view.tolist()
    assert t.stride() == tuple(s // 8 for s in view.strides)
    t[0, 0, 0] = -1.0
    assert base[1, 0, 1] == -1.0


def test_a_numpy_view_with_negative_strides_is_refused_with_the_remedy():
    with pytest.raises(ValueError, match="negative"):
        plugrad.from_dlpack(np.arange(4.0)[::-1])


def test_numpy_keeps_plugrad_memory_alive_after_the_tensor_is_gone():
    t = plugrad.arange(5.0)
    a = np.from_dlpack(t)
    del t
    gc.collect()
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_plugrad_keeps_numpy_memory_alive_after_the_array_is_gone():
    a = np.arange(5.0)
    t = plugrad.from_dlpack(a)
    del a
    gc.collect()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("copy", [None, True, False])
def test_numpy_copy_argument_copies_exactly_when_true(copy):
    t = plugrad.zeros(3)
    a = np.from_dlpack(t, copy=copy)
    a[0] = 7.0
    assert t[0].item() == (0.0 if copy else 7.0)
    b = np.zeros(3)
    u = plugrad.from_dlpack(b, copy=copy)
    u[1] = 5.0
    assert b[1] == (0.0 if copy else 5.0)


def test_array_interface_semantics_are_kept():
    """``np.asarray`` shares a cpu tensor's memory, ``as_tensor`` an array's, as before DLPack."""
    t = plugrad.zeros(2, 2)
    np.asarray(t)[0, 1] = 3.0
    assert t[0, 1].item() == 3.0
    a = np.zeros(3, dtype=np.int32)
    plugrad.as_tensor(a)[2] = 4
    assert a[2] == 4


# ---- PyTorch ----------------------------------------------------------------------

@pytest.mark.torch_oracle
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_pytorch_reads_and_writes_plugrad_memory(torch, dtype):
    t = sample(plugrad, dtype)
    x = torch.from_dlpack(t)
    assert x.dtype == getattr(torch, dtype) and tuple(x.shape) == (2, 3)
    assert x.tolist() == sample(torch, dtype).tolist()
    x[1, 2] = 0
    t[0, 0] = 1
    assert t[1, 2].item() == 0 and x[0, 0].item() == 1


@pytest.mark.torch_oracle
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_plugrad_reads_and_writes_pytorch_memory(torch, dtype):
    x = sample(torch, dtype)
    t = plugrad.from_dlpack(x)
    assert t.dtype is getattr(plugrad, dtype) and t.tolist() == x.tolist()
    t[0, 1] = 1
    x[1, 0] = 0
    assert x[0, 1].item() == 1 and t[1, 0].item() == 0


@st.composite
def views(draw):
    """A shape, a permutation of it and a (start, step) slice per dim: the same strided
    view is made in both libraries."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    slices = [slice(draw(st.integers(0, n - 1)), None, draw(st.integers(1, 3))) for n in shape]
    perm = draw(st.permutations(range(len(shape))))
    return shape, tuple(slices), perm


@pytest.mark.torch_oracle
@given(views())
def test_strided_views_cross_to_pytorch_and_back_as_pytorch_sees_them(torch, case):
    shape, slices, perm = case
    n = int(np.prod(shape))
    mine = plugrad.arange(float(n)).reshape(shape)[slices].permute(perm)
    theirs = torch.arange(float(n)).reshape(shape)[slices].permute(perm)
    x = torch.from_dlpack(mine)
    assert x.tolist() == theirs.tolist()
    # strides of size-1 dims are never used to address memory; DLPack leaves them free
    assert [s for s, d in zip(x.stride(), x.shape) if d > 1] == \
        [s for s, d in zip(theirs.stride(), theirs.shape) if d > 1]
    back = plugrad.from_dlpack(theirs)
    assert back.tolist() == theirs.tolist()
    assert [s for s, d in zip(back.stride(), back.shape) if d > 1] == \
        [s for s, d in zip(theirs.stride(), theirs.shape) if d > 1]
    index = (0,) * theirs.dim()   # every dim keeps at least one element
    back[index] = -5.0
    assert theirs[index].item() == -5.0
    x[index] = -6.0
    assert mine[index].item() == -6.0


@pytest.mark.torch_oracle
def test_expanded_and_empty_and_scalar_tensors_cross(torch):
    e = plugrad.arange(3.0).expand(2, 3)
    assert torch.from_dlpack(e).tolist() == torch.arange(3.0).expand(2, 3).tolist()
    back = plugrad.from_dlpack(torch.arange(3.0).expand(2, 3))
    assert back.stride() == (0, 1) and back.tolist() == e.tolist()
    assert tuple(torch.from_dlpack(plugrad.zeros(0, 3)).shape) == (0, 3)
    assert plugrad.from_dlpack(torch.zeros(0, 3)).shape == (0, 3)
    assert torch.from_dlpack(plugrad.tensor(2.5)).item() == 2.5
    assert plugrad.from_dlpack(torch.tensor(2.5)).shape == ()


@pytest.mark.torch_oracle
def test_dlpack_device_is_pytorchs_for_cpu(torch):
    mine, theirs = plugrad.zeros(2).__dlpack_device__(), torch.zeros(2).__dlpack_device__()
    assert mine == theirs and type(mine[0]).__name__ == "DLDeviceType"
    assert {m.name: m.value for m in DLDeviceType} == \
        {m.name: m.value for m in torch.utils.dlpack.DLDeviceType}


@pytest.mark.torch_oracle
@pytest.mark.parametrize("call", [
    lambda m, t: t.__dlpack__(),
    lambda m, t: m.from_dlpack(t),
    lambda m, t: np.from_dlpack(t),
], ids=["__dlpack__", "from_dlpack", "np.from_dlpack"])
def test_a_tensor_that_requires_grad_is_refused_as_pytorch_refuses_it(torch, call):
    mine, theirs = plugrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    assert exception_class(lambda: call(plugrad, mine)) is exception_class(lambda: call(torch, theirs)) is BufferError
    assert np.from_dlpack(mine.detach()).tolist() == [1.0, 1.0]


@pytest.mark.torch_oracle
def test_to_dlpack_exports_a_tensor_that_requires_grad_as_pytorchs_does(torch):
    """``torch.utils.dlpack.to_dlpack`` has no requires-grad check; the capsule holds the
    data only."""
    mine, theirs = plugrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    x = torch.from_dlpack(plugrad.utils.dlpack.to_dlpack(mine))
    y = torch.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
    assert x.requires_grad is y.requires_grad is False
    x[0] = 3.0
    assert mine[0].item() == 3.0


@pytest.mark.torch_oracle
@pytest.mark.parametrize("kwargs", [
    {}, {"max_version": None}, {"max_version": (0, 8)}, {"max_version": (1, 0)}, {"max_version": (1, 3)},
    {"stream": None}, {"stream": -1}, {"dl_device": (1, 0)}, {"copy": None}, {"copy": False},
    {"max_version": (1, 0), "dl_device": (1, 0), "copy": True},
])
def test_versioned_arguments_give_pytorchs_capsule_kind(torch, kwargs):
    assert capsule_name(plugrad.zeros(2).__dlpack__(**kwargs)) == capsule_name(torch.zeros(2).__dlpack__(**kwargs))


@pytest.mark.torch_oracle
@pytest.mark.parametrize("kwargs", [{"stream": 3}, {"stream": "default"}, {"stream": 1.0}, {"copy": 1}])
def test_bad_arguments_raise_pytorchs_exception_classes(torch, kwargs):
    theirs = exception_class(lambda: torch.zeros(2).__dlpack__(**kwargs))
    assert theirs is not None
    assert exception_class(lambda: plugrad.zeros(2).__dlpack__(**kwargs)) is theirs


@pytest.mark.parametrize("copy", [None, True, False])
def test_dunder_dlpack_copy_argument(copy):
    t = plugrad.zeros(3)
    a = np.from_dlpack(_Producer(t.__dlpack__(max_version=(1, 0), copy=copy)))
    a[0] = 1.0
    assert t[0].item() == (0.0 if copy else 1.0)


def test_an_unknown_dl_device_is_refused():
    with pytest.raises(BufferError, match="kDLCPU|host"):
        plugrad.zeros(2).__dlpack__(dl_device=(DLDeviceType.kDLCUDA, 0))


class _Producer:
    """A DLPack producer handing out one capsule already made."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **_kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (DLDeviceType.kDLCPU, 0)


@pytest.mark.torch_oracle
def test_capsules_of_to_dlpack_share_memory_both_ways(torch):
    t = plugrad.zeros(3)
    capsule = plugrad.utils.dlpack.to_dlpack(t)
    assert capsule_name(capsule) == capsule_name(torch.utils.dlpack.to_dlpack(torch.zeros(3))) == "dltensor"
    x = torch.from_dlpack(capsule)
    x[0] = 2.0
    assert t[0].item() == 2.0
    y = torch.zeros(3)
    u = plugrad.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(y))
    u[2] = 4.0
    assert y[2].item() == 4.0


@pytest.mark.torch_oracle
def test_capsule_misuse_raises_pytorchs_exception_classes(torch):
    def twice(m):
        capsule = m.utils.dlpack.to_dlpack(m.zeros(2))
        m.from_dlpack(capsule)
        m.from_dlpack(capsule)

    assert exception_class(lambda: twice(plugrad)) is exception_class(lambda: twice(torch)) is RuntimeError
    def with_arguments(m, kwargs):
        return exception_class(lambda: m.from_dlpack(m.utils.dlpack.to_dlpack(m.zeros(2)), **kwargs))

    for kwargs in ({"copy": True}, {"device": "cpu"}):
        assert with_arguments(plugrad, kwargs) is with_arguments(torch, kwargs) is AssertionError
    with pytest.raises(TypeError):
        plugrad.utils.dlpack.to_dlpack([1, 2])


@pytest.mark.torch_oracle
def test_the_names_are_pytorchs(torch):
    for name in ("from_dlpack", "to_dlpack"):
        assert hasattr(torch, name) and getattr(plugrad, name) is getattr(plugrad.utils.dlpack, name)
    assert set(torch.utils.dlpack.__all__) <= set(plugrad.utils.dlpack.__all__)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("copy", [None, True, False])
def test_from_dlpack_of_a_tensor_of_the_same_library(torch, copy):
    mine, theirs = plugrad.arange(3.0), torch.arange(3.0)
    m, t = plugrad.from_dlpack(mine, copy=copy), torch.from_dlpack(theirs, copy=copy)
    m[0], t[0] = 9.0, 9.0
    assert mine.tolist() == theirs.tolist()
    assert not m.requires_grad and not t.requires_grad


def test_from_dlpack_device_argument_moves_and_refuses_without_copy(device):
    a = np.arange(3.0)
    t = plugrad.from_dlpack(a, device=device)
    assert t.device.type == device and t.tolist() == [0.0, 1.0, 2.0]
    if device != "cpu":
        with pytest.raises(ValueError, match="without copying"):
            plugrad.from_dlpack(a, device=device, copy=False)


# ---- devices whose memory is not host memory -------------------------------------------

def test_every_device_exchanges_or_refuses_clearly(device):
    """cpu shares; a device without host memory reports its own DLPack device, gives a
    host copy to a consumer that asks for host memory, and refuses anything else."""
    t = plugrad.arange(4.0, device=device)
    kind, index = t.__dlpack_device__()
    assert isinstance(kind, DLDeviceType) and index == (t.device.index or 0)
    same = plugrad.from_dlpack(t)
    assert same.device == t.device
    same[0] = 5.0
    assert t[0].item() == 5.0
    host = np.from_dlpack(t, device="cpu")
    assert host.tolist() == [5.0, 1.0, 2.0, 3.0]
    if device == "cpu":
        assert kind is DLDeviceType.kDLCPU
        host[1] = 6.0
        assert t[1].item() == 6.0
        return
    assert kind is not DLDeviceType.kDLCPU
    host[1] = 6.0
    assert t[1].item() == 1.0   # a copy
    with pytest.raises(BufferError, match=r"\.cpu\(\)"):
        np.from_dlpack(t)
    with pytest.raises(BufferError, match="copy=False"):
        t.__dlpack__(dl_device=(DLDeviceType.kDLCPU, 0), copy=False)
    with pytest.raises(BufferError):
        t.__dlpack__(max_version=(1, 0), dl_device=(DLDeviceType.kDLCUDA, 0))


def test_torch_shares_cpu_memory_and_refuses_other_devices_clearly(torch, device):
    t = plugrad.arange(3.0, device=device)
    if device == "cpu":
        torch.from_dlpack(t)[0] = 7.0
        assert t[0].item() == 7.0
        return
    with pytest.raises(BufferError, match=r"\.cpu\(\)"):
        torch.from_dlpack(t)
    assert torch.from_dlpack(t.cpu()).tolist() == [0.0, 1.0, 2.0]
