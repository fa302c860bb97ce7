"""Bad input raises PyTorch's exception class with a message that names what was wrong:
the shapes, dims, indices, dtypes or devices involved (taken from the inputs here, so a
message that drops them fails). With PyTorch installed, every case is also run there
and must raise the same class."""

from __future__ import annotations

import numpy as np
import pytest

import plugrad
from tensor_api_support import off_host_device


def raises(fn, error, *fragments):
    """``fn()`` raises ``error`` whose message contains every fragment; returns the message."""
    with pytest.raises(error) as info:
        fn()
    message = str(info.value)
    for f in fragments:
        assert str(f) in message, f"{f!r} missing from {message!r}"
    return message


def shape_text(shape):
    return str(list(shape))


# ---- shapes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, dim", [((2, 3), (3, 2), 1), ((4,), (5,), 0), ((2, 1, 3), (2, 4), 2),
                                       ((7, 2), (6, 2), 0)])
def test_broadcast_mismatch_names_the_sizes_and_dim(a, b, dim):
    x, y = plugrad.zeros(a), plugrad.zeros(b)
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for op in (lambda: x + y, lambda: x * y, lambda: plugrad.maximum(x, y), lambda: x == y):
        raises(op, RuntimeError, f"size of tensor a ({pa[dim]})", f"size of tensor b ({pb[dim]})",
               f"non-singleton dimension {dim}")


def test_matmul_mismatch_names_both_shapes():
    raises(lambda: plugrad.zeros(2, 3) @ plugrad.zeros(4, 5), RuntimeError, "2x3", "4x5")
    raises(lambda: plugrad.mm(plugrad.zeros(2, 3), plugrad.zeros(2, 3)), RuntimeError, "2x3")
    raises(lambda: plugrad.bmm(plugrad.zeros(2, 3, 4), plugrad.zeros(3, 4, 5)), RuntimeError, "[2, 4]")
    raises(lambda: plugrad.dot(plugrad.zeros(3), plugrad.zeros(4)), RuntimeError, "3", "4")
    raises(lambda: plugrad.mm(plugrad.zeros(2, 3), plugrad.zeros(3)), RuntimeError, "mat2 must be a matrix")


def test_products_need_the_same_dtype():
    raises(lambda: plugrad.mm(plugrad.zeros(2, 2, dtype=plugrad.int64), plugrad.zeros(2, 2)), RuntimeError,
           "int64", "float32")
    raises(lambda: plugrad.dot(plugrad.zeros(2), plugrad.zeros(2, dtype=plugrad.float64)), RuntimeError,
           "float32", "float64")


def test_impossible_views():
    t = plugrad.zeros(2, 3)
    raises(lambda: t.view(4, 2), RuntimeError, "[4, 2]", "size 6")
    raises(lambda: t.t().view(6), RuntimeError, "view size is not compatible", ".reshape(...)")
    raises(lambda: t.view(-1, -1), RuntimeError, "only one dimension can be inferred")
    raises(lambda: t.expand(2, 4), RuntimeError, "(4)", "(3)", "dimension 1")
    raises(lambda: t.permute(1, 0, 2), RuntimeError, "2", "3")
    raises(lambda: t.permute(1, 1), RuntimeError, "duplicate")
    raises(lambda: t.narrow(1, 2, 2), RuntimeError, "exceeds dimension size", "(3)")
    raises(lambda: t.flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim")
    raises(lambda: t.split([1, 1], 1), RuntimeError, "sum exactly to 3", "[1, 1]")


@pytest.mark.parametrize("call, dim", [
    (lambda t, d: t.sum(d), 2), (lambda t, d: t.unsqueeze(d), 3), (lambda t, d: t.squeeze(d), -3),
    (lambda t, d: t.transpose(0, d), 2), (lambda t, d: t.size(d), 5), (lambda t, d: t.select(d, 0), -3),
    (lambda t, d: t.softmax(d), 2), (lambda t, d: plugrad.cat([t, t], d), 2), (lambda t, d: t.flatten(d), 2),
    (lambda t, d: t.argmax(d), 4), (lambda t, d: t.cumsum(d), -4),
])
def test_dim_out_of_range_names_the_range_and_the_dim(call, dim):
    t = plugrad.zeros(2, 3)
    allow_end = call.__code__.co_names[-1:] == ("unsqueeze",)
    hi = 2 if allow_end else 1
    raises(lambda: call(t, dim), IndexError, "Dimension out of range", f"[{-hi - 1}, {hi}]", f"got {dim}")


def test_join_mismatches_name_sizes_and_positions():
    a, b = plugrad.zeros(2, 3), plugrad.zeros(2, 4)
    raises(lambda: plugrad.cat([a, b]), RuntimeError, "Expected size 3 but got size 4", "tensor number 1")
    raises(lambda: plugrad.cat([a, plugrad.zeros(3)]), RuntimeError, "same number of dimensions", "2", "1")
    raises(lambda: plugrad.stack([a, b]), RuntimeError, shape_text(a.shape), shape_text(b.shape), "entry 1")
    raises(lambda: plugrad.cat([]), ValueError, "non-empty")  # as torch.cat([])
    raises(lambda: plugrad.cat(a), TypeError, "tuple or list")


def test_in_place_shape_and_dtype_errors_name_both():
    raises(lambda: plugrad.zeros(3).add_(plugrad.zeros(2, 3)), RuntimeError, "[3]", "[2, 3]")
    raises(lambda: plugrad.zeros(3, dtype=plugrad.int64).mul_(1.5), RuntimeError, "Float", "Int64")
    raises(lambda: plugrad.add(plugrad.zeros(2), 1, out=plugrad.zeros(2, dtype=plugrad.int32)), RuntimeError,
           "Float32", "Int32")


# ---- indices ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, index, dim, size", [(5, 5, 0, 3), (-4, -4, 0, 3), ((1, 4), 4, 1, 4),
                                                   ((slice(None), -5), -5, 1, 4), ((None, 2, 7), 7, 2, 4)])
def test_index_out_of_range_names_index_dim_and_size(key, index, dim, size):
    t = plugrad.zeros(3, 4)
    raises(lambda: t[key], IndexError, f"index {index} is out of bounds for dimension {dim} with size {size}")


def test_other_bad_indices():
    t = plugrad.zeros(3, 4)
    raises(lambda: t[0, 0, 0], IndexError, "too many indices", "2")
    raises(lambda: t[[0, 3]], IndexError, "3", "size 3")
    raises(lambda: t[plugrad.tensor([1.0])], IndexError, "long, int, byte or bool")
    raises(lambda: t[plugrad.ones(2, 4, dtype=plugrad.bool)], IndexError, "[2, 4]", "[3, 4]")
    raises(lambda: t["x"], TypeError, "could not infer dtype of str")  # a string is read as an index tensor
    raises(lambda: t[1.5], IndexError, "only integers, slices")
    raises(lambda: t[plugrad.tensor([0, 1]), plugrad.tensor([0, 1, 2])], IndexError, "[2]", "[3]")
    raises(lambda: t.__setitem__([0, 1], plugrad.ones(3)), RuntimeError, "[3]", "[2, 4]")
    raises(lambda: t.select(0, 3), IndexError, "index 3", "size 3")


# ---- dtypes, devices and argument types ------------------------------------------------------------------

def test_unknown_dtypes_are_type_errors():
    raises(lambda: plugrad.zeros(2, dtype="float32"), TypeError, "float32")
    raises(lambda: plugrad.tensor([1], dtype=np.float32), TypeError, "dtype")
    raises(lambda: plugrad.ones(2).to(dtype="double"), TypeError, "dtype")
    raises(lambda: plugrad.ones(2).type("torch.ComplexTensor"), TypeError, "ComplexTensor")
    raises(lambda: plugrad.from_numpy(np.zeros(2, np.complex64)), TypeError, "complex64")
    with pytest.raises(AttributeError):
        _ = plugrad.float128


def test_dtype_restrictions_name_the_dtype():
    raises(lambda: plugrad.zeros(2, dtype=plugrad.int32, requires_grad=True), RuntimeError, "floating point")
    raises(lambda: plugrad.where(plugrad.tensor([1, 0]), 1.0, 0.0), RuntimeError, "boolean", "Int64")
    raises(lambda: plugrad.tensor([1, 2]).mean(), RuntimeError, "floating point")
    raises(lambda: plugrad.tensor([True]) - plugrad.tensor([True]), RuntimeError, "bool")
    raises(lambda: plugrad.tensor([300], dtype=plugrad.uint8), RuntimeError, "uint8", "overflow")


def test_unknown_and_malformed_devices():
    raises(lambda: plugrad.zeros(2, device="tpu"), RuntimeError, "'tpu'", "cpu")
    raises(lambda: plugrad.ones(2).to("tpu:0"), RuntimeError, "'tpu'")
    raises(lambda: plugrad.device("cpu:abc"), RuntimeError, "cpu:abc")
    raises(lambda: plugrad.zeros(2, device="cpu:3"), RuntimeError, "cpu:3")
    raises(lambda: plugrad.device(0.5), TypeError, "float")


def test_mixing_devices_names_both_devices():
    F = plugrad.nn.functional
    with off_host_device() as dev:
        a = plugrad.ones(2, device=dev)
        for op in (lambda: a + plugrad.ones(2), lambda: plugrad.ones(2, 2) @ plugrad.ones(2, 2, device=dev),
                   lambda: plugrad.stack([a, plugrad.ones(2)]), lambda: a.add_(plugrad.ones(2)),
                   lambda: F.linear(plugrad.ones(3, 2), plugrad.ones(4, 2), plugrad.ones(4, device=dev)),
                   lambda: F.linear(plugrad.ones(0), plugrad.ones(1, 0), plugrad.ones(1, device=dev)),
                   lambda: F.conv1d(plugrad.ones(1, 1, 3), plugrad.ones(1, 1, 1), plugrad.ones(1, device=dev)),
                   lambda: F.conv2d(plugrad.ones(1, 1, 3, 3), plugrad.ones(2, 1, 1, 1), plugrad.ones(2, device=dev))):
            raises(op, RuntimeError, "same device", str(dev), "cpu")


def test_wrong_argument_types():
    t = plugrad.ones(2)
    raises(lambda: t + "a", TypeError)
    raises(lambda: t * None, TypeError)
    raises(lambda: plugrad.zeros(2.5), TypeError, "float")
    raises(lambda: t.view("a"), TypeError)
    raises(lambda: t.copy_([1, 2]), TypeError, "list")
    raises(lambda: plugrad.add(t, t, alpha="x"), TypeError, "alpha")
    raises(lambda: plugrad.tensor({1: 2}), RuntimeError, "dict")  # PyTorch: RuntimeError for a non-number object


def test_value_errors():
    raises(lambda: plugrad.ones(2).item(), RuntimeError, "2 elements")
    raises(lambda: bool(plugrad.ones(3)), RuntimeError, "3 elements", "ambiguous")
    raises(lambda: plugrad.tensor([[1, 2], [3]]), ValueError, "length 2", "1")
    raises(lambda: plugrad.zeros(-2), RuntimeError, "-2")
    raises(lambda: plugrad.arange(0, 5, -1), RuntimeError, "bound")
    raises(lambda: plugrad.tensor([1, 2]) // 0, RuntimeError, "ZeroDivisionError")


# ---- the same classes as PyTorch ---------------------------------------------------------------------------

BAD = [
    lambda m: m.zeros(2, 3) + m.zeros(3, 2), lambda m: m.zeros(2, 3) @ m.zeros(2, 3),
    lambda m: m.zeros(2, 3).t().view(6), lambda m: m.zeros(2, 3).view(4, 2), lambda m: m.zeros(2, 3).sum(2),
    lambda m: m.zeros(2, 3)[2], lambda m: m.zeros(2, 3)[0, 0, 0], lambda m: m.zeros(2, 3)[[0, 5]],
    lambda m: m.zeros(2, 3)[m.tensor([0.5])], lambda m: m.zeros(2, 3).expand(2, 4),
    lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 4)]), lambda m: m.stack([m.zeros(2), m.zeros(3)]),
    lambda m: m.zeros(3, dtype=m.int64).add_(1.5), lambda m: m.zeros(3).add_(m.zeros(2, 3)),
    lambda m: m.ones(3, dtype=m.int64, requires_grad=True), lambda m: m.ones(2).item(),
    lambda m: m.zeros(2, device="nosuchdevice"), lambda m: m.zeros(2, dtype="float32"),
    lambda m: m.tensor([[1, 2], [3]]), lambda m: m.zeros(-1), lambda m: m.zeros(2, 3).permute(0),
    lambda m: m.zeros(2, 3).squeeze(4), lambda m: m.where(m.tensor([1, 0]), 1.0, 0.0),
    lambda m: m.tensor([1, 2]).mean(), lambda m: m.tensor([True]) - True, lambda m: m.ones(2) + "a",
    lambda m: m.zeros(2, 3).narrow(0, 1, 5), lambda m: m.zeros(3).split([1, 1]), lambda m: m.ones(3).view(-1, -1),
    lambda m: m.mm(m.ones(2, 2, dtype=m.int64), m.ones(2, 2)), lambda m: m.tensor([300], dtype=m.uint8),
    lambda m: m.zeros(2, dtype=m.int8).fill_(1000), lambda m: m.ones(1, 3).expand(2, 3).add_(1),
    lambda m: m.zeros(3)[::-1], lambda m: m.arange(0, 5, -1), lambda m: m.tensor([1, 2]) // 0,
    lambda m: m.zeros(2, 3)[m.ones(3, dtype=m.bool)], lambda m: m.ones(2, requires_grad=True).numpy(),
    lambda m: bool(m.ones(2)), lambda m: m.zeros(2, 3).select(0, 2),
    lambda m: m.zeros(2, 3).t().t().view(3, 3), lambda m: m.zeros(3).copy_(m.zeros(2)),
    lambda m: m.zeros(2, 3)[m.tensor([0, 1]), m.tensor([0, 1, 2])],
]


@pytest.mark.torch_oracle
@pytest.mark.parametrize("bad", BAD, ids=[f"case{i}" for i in range(len(BAD))])
def test_same_exception_class_as_torch(bad):
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (plugrad, torch):
        with pytest.raises(Exception) as info:
            bad(lib)
        errors.append(info.value)
    ours, theirs = errors
    assert isinstance(ours, type(theirs)) or type(ours).__name__ == type(theirs).__name__, \
        f"plugrad raised {type(ours).__name__}: {ours}\ntorch raised {type(theirs).__name__}: {theirs}"
