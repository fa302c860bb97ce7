"""Wrongly typed arguments, against the PyTorch oracle, on every device: every call
either succeeds with PyTorch's result or raises PyTorch's exception class.

PyTorch's argument parser takes only ``True``/``False`` for a flag (``keepdim``,
``equal_nan``, ``accumulate``...), only ints for dims and sizes, only tensors where a
Tensor goes, and converts the numbers that ops write into a tensor (a fill value, a
weight, ``alpha``) to the tensor's dtype, refusing a finite value beyond its range.
Each case is a function of the library ``m`` (plugrad or torch) and of the inputs that
:func:`_inputs` builds in it.
"""

from __future__ import annotations

import math

import numpy as np
import plugrad
import pytest
from plugrad.plugins import registry

torch = pytest.importorskip("torch")
import oracle_support as oracle  # noqa: E402 - needs torch
pytestmark = pytest.mark.torch_oracle

#: wrongly typed values for a bool flag: PyTorch refuses each with TypeError
NOT_BOOLS = [1, 0.0, None, "yes", [True], np.True_]


def _inputs(m, device):
    """x: a 2x3 float32 matrix, v: a float32 vector, i: int64 indices, i0: a 0-d int64."""
    dev = {"device": device} if m is plugrad else {}
    x = m.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5, **dev)
    return x, m.tensor([0.5, -1.0, 2.0], **dev), m.tensor([0, 1], **dev), m.tensor(0, **dev)


def _same_as_torch(fn, device, where):
    """``fn(m, *inputs)`` in both libraries (see :func:`oracle_support.same_as_torch`)."""
    return oracle.same_as_torch(lambda m: fn(m, *_inputs(m, "cpu" if m is torch else device)), where)


# ---- bool flags --------------------------------------------------------------------------

#: ops with a keepdim flag, called along dim 1
KEEPDIM_OPS = {
    "sum": lambda m, x, k: m.sum(x, 1, keepdim=k), "mean": lambda m, x, k: m.mean(x, 1, keepdim=k),
    "prod": lambda m, x, k: m.prod(x, 1, keepdim=k), "amax": lambda m, x, k: m.amax(x, 1, keepdim=k),
    "amin": lambda m, x, k: m.amin(x, 1, keepdim=k), "argmax": lambda m, x, k: m.argmax(x, 1, keepdim=k),
    "argmin": lambda m, x, k: m.argmin(x, 1, keepdim=k), "all": lambda m, x, k: m.all(x, 1, keepdim=k),
    "any": lambda m, x, k: m.any(x, 1, keepdim=k), "max": lambda m, x, k: m.max(x, 1, keepdim=k),
    "min": lambda m, x, k: m.min(x, 1, keepdim=k), "logsumexp": lambda m, x, k: m.logsumexp(x, 1, keepdim=k),
    "std": lambda m, x, k: m.std(x, 1, keepdim=k), "var": lambda m, x, k: m.var(x, 1, keepdim=k),
    "var_mean": lambda m, x, k: m.var_mean(x, 1, keepdim=k), "std_mean": lambda m, x, k: m.std_mean(x, 1, keepdim=k),
    "norm": lambda m, x, k: m.norm(x, 2, 1, keepdim=k), "aminmax": lambda m, x, k: m.aminmax(x, dim=1, keepdim=k),
    "sum-all-dims": lambda m, x, k: m.sum(x, None, keepdim=k), "method-sum": lambda m, x, k: x.sum(1, k),
}


@pytest.mark.parametrize("op", sorted(KEEPDIM_OPS))
def test_keepdim_must_be_a_bool(op, device):
    call = KEEPDIM_OPS[op]
    for flag in (True, False):
        assert _same_as_torch(lambda m, x, *_, f=flag: call(m, x, f), device, f"{op} keepdim={flag}") is None
    for bad in NOT_BOOLS:
        exc = _same_as_torch(lambda m, x, *_, f=bad: call(m, x, f), device, f"{op} keepdim={bad!r}")
        assert isinstance(exc, TypeError)


#: reductions given an empty tuple or list of dims: PyTorch reduces every dim (sum, mean,
#: amax, var...), except all and any, which reduce none
EMPTY_DIMS_OPS = {
    "sum": lambda m, x, d: m.sum(x, d), "mean": lambda m, x, d: m.mean(x, d), "amax": lambda m, x, d: m.amax(x, d),
    "amin": lambda m, x, d: x.amin(d), "var": lambda m, x, d: m.var(x, d), "std": lambda m, x, d: x.std(d),
    "var_mean": lambda m, x, d: m.var_mean(x, d), "std_mean": lambda m, x, d: m.std_mean(x, d),
    "norm": lambda m, x, d: x.norm(dim=d), "all": lambda m, x, d: m.all(x, d), "any": lambda m, x, d: x.any(d),
    "sum-keepdim": lambda m, x, d: m.sum(x, d, keepdim=True), "amax-empty-input": lambda m, x, d: x[:0].amax(d),
}


@pytest.mark.parametrize("op", sorted(EMPTY_DIMS_OPS))
@pytest.mark.parametrize("dims", [(), []], ids=["tuple", "list"])
def test_an_empty_dim_list_reduces_as_in_pytorch(op, dims, device):
    call = EMPTY_DIMS_OPS[op]
    _same_as_torch(lambda m, x, *_: call(m, x, dims), device, f"{op}(dim={dims!r})")


#: other flags: (call with the flag, its valid values)
FLAG_CALLS = {
    "isclose-equal_nan": lambda m, x, v, i, i0, f: m.isclose(x, x, equal_nan=f),
    "allclose-equal_nan": lambda m, x, v, i, i0, f: m.allclose(x, x, equal_nan=f),
    "put-accumulate": lambda m, x, v, i, i0, f: x.put(i, v[:2], accumulate=f),
    "put_-accumulate": lambda m, x, v, i, i0, f: x.put_(i, v[:2], accumulate=f),
    "index_put-accumulate": lambda m, x, v, i, i0, f: m.index_put(x, (i,), v, accumulate=f),
    "index_put_-accumulate": lambda m, x, v, i, i0, f: x.index_put_((i,), v, accumulate=f),
    "nonzero-as_tuple": lambda m, x, v, i, i0, f: m.nonzero(x, as_tuple=f),
    "var-unbiased": lambda m, x, v, i, i0, f: m.var(x, 1, unbiased=f),
    "std-unbiased": lambda m, x, v, i, i0, f: m.std(x, 1, f),
    "requires_grad_": lambda m, x, v, i, i0, f: x.requires_grad_(f),
    "copy_-non_blocking": lambda m, x, v, i, i0, f: x.copy_(x * 2, f),
}


@pytest.mark.parametrize("flag", sorted(FLAG_CALLS))
def test_other_flags_must_be_bools(flag, device):
    call = FLAG_CALLS[flag]
    for good in (True, False):
        assert _same_as_torch(lambda m, *a, f=good: call(m, *a, f), device, f"{flag}={good}") is None
    for bad in NOT_BOOLS:
        exc = _same_as_torch(lambda m, *a, f=bad: call(m, *a, f), device, f"{flag}={bad!r}")
        assert isinstance(exc, TypeError)


def test_requires_grad_attribute_must_be_a_bool(device):
    def assign(value):
        def call(m, x, *_):
            x.requires_grad = value
            return x.requires_grad
        return call
    for value in (True, 1, None):
        _same_as_torch(assign(value), device, f"x.requires_grad = {value!r}")


# ---- ints, dims and None -------------------------------------------------------------------

#: calls PyTorch's parser refuses (TypeError) or that read None as PyTorch does
DIM_CASES = {
    "max-dim-None": lambda m, x, v, i, i0: m.max(x, None),
    "min-dim=None": lambda m, x, v, i, i0: m.min(x, dim=None),
    "max-keepdim-without-dim": lambda m, x, v, i, i0: m.max(x, keepdim=True),
    "method-max-None": lambda m, x, v, i, i0: x.max(None),
    "prod-dim-None": lambda m, x, v, i, i0: m.prod(x, None),
    "prod-dim-tuple": lambda m, x, v, i, i0: m.prod(x, (0, 1)),
    "squeeze-None": lambda m, x, v, i, i0: x.reshape(1, 2, 3).squeeze(None),
    "squeeze_-None": lambda m, x, v, i, i0: x.reshape(1, 2, 3).squeeze_(None),
    "softmax-None": lambda m, x, v, i, i0: m.softmax(x, None),
    "log_softmax-None": lambda m, x, v, i, i0: m.log_softmax(x, None),
    "method-softmax-no-dim": lambda m, x, v, i, i0: x.softmax(),
    "logsumexp-None": lambda m, x, v, i, i0: m.logsumexp(x, None),
    "aminmax-dim-tuple": lambda m, x, v, i, i0: m.aminmax(x, dim=(0,)),
    "argmax-float-dim": lambda m, x, v, i, i0: m.argmax(x, 1.0),
    "var-positional-unbiased-None": lambda m, x, v, i, i0: m.var(x, 1, None),
    "narrow-float-start": lambda m, x, v, i, i0: m.narrow(x, 1, 1.5, 1),
    "narrow-float-length": lambda m, x, v, i, i0: m.narrow(x, 1, 1, 1.0),
    "as_strided-float-stride": lambda m, x, v, i, i0: m.as_strided(x, (2, 2), (2, 1.5)),
    "as_strided-float-size": lambda m, x, v, i, i0: m.as_strided(x, (2, 2.0), (2, 1)),
    "as_strided-None-size": lambda m, x, v, i, i0: m.as_strided(x, (2, None), (2, 1)),
    "as_strided-float-offset": lambda m, x, v, i, i0: m.as_strided(x, (2, 2), (2, 1), 0.0),
    "unflatten-None-size": lambda m, x, v, i, i0: m.unflatten(v, 0, (3, None)),
    "unflatten-float-size": lambda m, x, v, i, i0: m.unflatten(v, 0, (3, 1.0)),
    "unflatten-sizes-None": lambda m, x, v, i, i0: m.unflatten(v, 0, None),
    "contiguous-positional": lambda m, x, v, i, i0: x.contiguous(None),
    "numpy-force-int": lambda m, x, v, i, i0: x.numpy(force=1),
    # accepted: the same results
    "max-all": lambda m, x, v, i, i0: m.max(x),
    "max-dim": lambda m, x, v, i, i0: m.max(x, 1),
    "min-dim-keepdim": lambda m, x, v, i, i0: x.min(0, True),
    "prod-all": lambda m, x, v, i, i0: m.prod(x),
    "prod-dim": lambda m, x, v, i, i0: x.prod(1),
    "squeeze-all": lambda m, x, v, i, i0: x.reshape(1, 2, 1, 3).squeeze(),
    "squeeze-dims": lambda m, x, v, i, i0: x.reshape(1, 2, 1, 3).squeeze((0, 2)),
    "var-legacy-unbiased": lambda m, x, v, i, i0: m.var(x, False),
    "var-dim-None-unbiased": lambda m, x, v, i, i0: m.var(x, None, True),
    "narrow-tensor-start": lambda m, x, v, i, i0: m.narrow(x, 1, i0 + 1, 2),
    "narrow-numpy-start": lambda m, x, v, i, i0: m.narrow(x, 1, np.int64(1), 2),
    "unflatten-inferred": lambda m, x, v, i, i0: m.unflatten(v, 0, (3, -1)),
    "to-None": lambda m, x, v, i, i0: x.to(None) is x,
    "to-None-dtype": lambda m, x, v, i, i0: x.to(None, m.int64),
}


@pytest.mark.parametrize("case", sorted(DIM_CASES))
def test_dims_and_sizes(case, device):
    _same_as_torch(DIM_CASES[case], device, case)


# ---- tensor arguments -------------------------------------------------------------------------

TENSOR_CASES = {
    "expand_as-None": lambda m, x, v, i, i0: x.expand_as(None),
    "expand_as-str": lambda m, x, v, i, i0: x.expand_as("bogus"),
    "expand_as-list": lambda m, x, v, i, i0: v.expand_as([[1, 2, 3]]),
    "view_as-None": lambda m, x, v, i, i0: x.view_as(None),
    "reshape_as-str": lambda m, x, v, i, i0: x.reshape_as("bogus"),
    "outer-None": lambda m, x, v, i, i0: m.outer(v, None),
    "outer-self-None": lambda m, x, v, i, i0: m.outer(None, v),
    "isclose-None": lambda m, x, v, i, i0: m.isclose(x, None),
    "allclose-number": lambda m, x, v, i, i0: m.allclose(x, 1.0),
    "hstack-str-element": lambda m, x, v, i, i0: m.hstack([x, "bogus"]),
    "vstack-None-element": lambda m, x, v, i, i0: m.vstack([None, x]),
    "hstack-a-tensor": lambda m, x, v, i, i0: m.hstack(x),
    "vstack-str": lambda m, x, v, i, i0: m.vstack("ab"),
    "cat-empty": lambda m, x, v, i, i0: m.cat([]),
    "stack-empty": lambda m, x, v, i, i0: m.stack([]),
    "hstack-empty": lambda m, x, v, i, i0: m.hstack([]),
    "put-str-source": lambda m, x, v, i, i0: x.put(i, "bogus"),
    "put-number-source": lambda m, x, v, i, i0: x.put(i, 1.0),
    "index_put-number-values": lambda m, x, v, i, i0: m.index_put(x, (i,), 1.0),
    "scatter_add-number-src": lambda m, x, v, i, i0: m.scatter_add(x, 1, i.reshape(2, 1), 1.0),
    "take-bool-index": lambda m, x, v, i, i0: m.take(x, i > 0),
    "take-float-index": lambda m, x, v, i, i0: m.take(x, i.float()),
    "take-int32-index": lambda m, x, v, i, i0: m.take(x, i.int()),
    "take-list-index": lambda m, x, v, i, i0: m.take(x, [0]),
    "index_select-bool-index": lambda m, x, v, i, i0: m.index_select(x, 1, i > 0),
    "index_select-float-index": lambda m, x, v, i, i0: m.index_select(x, 1, i.float()),
    "index_select-2d-index": lambda m, x, v, i, i0: m.index_select(x, 1, i.reshape(1, 2)),
    "index_select-int32-index": lambda m, x, v, i, i0: m.index_select(x, 1, i.int()),
    "copy_-number": lambda m, x, v, i, i0: x.copy_(2.5),
    "copy_-bool": lambda m, x, v, i, i0: x.copy_(True),
    "copy_-numpy-number": lambda m, x, v, i, i0: i.copy_(np.float64(2.7)),
    "copy_-str": lambda m, x, v, i, i0: x.copy_("bogus"),
    "copy_-number-recorded": lambda m, x, v, i, i0: (x.requires_grad_() * 1).copy_(2.0).grad_fn is not None,
    "index_put-list-element": lambda m, x, v, i, i0: m.index_put(x, ([0, 1],), v),
    "index_put-None-element": lambda m, x, v, i, i0: m.index_put(x, (None, i), v[:2]),
    "lerp-int-end": lambda m, x, v, i, i0: m.lerp(x, x.long(), 0.5),
    "lerp-float64-weight": lambda m, x, v, i, i0: m.lerp(v, v * 2, m.tensor([0.5], dtype=m.float64)),
    "lerp-number-end": lambda m, x, v, i, i0: m.lerp(x, 1.0, 0.5),
    "where-one-str": lambda m, x, v, i, i0: m.where("bogus"),
}


@pytest.mark.parametrize("case", sorted(TENSOR_CASES))
def test_tensor_arguments(case, device):
    _same_as_torch(TENSOR_CASES[case], device, case)


#: dim-wise ops on a 0-d input: dims -1 and 0 name its one element, others are out of range
ZERO_D_OPS = {
    "gather": lambda m, s, d, i0: m.gather(s, d, i0),
    "scatter": lambda m, s, d, i0: m.scatter(s, d, i0, 1.0),
    "scatter_add": lambda m, s, d, i0: m.scatter_add(s, d, i0, s),
    "index_select": lambda m, s, d, i0: m.index_select(s, d, i0.reshape(1)),
    "index_add": lambda m, s, d, i0: m.index_add(s, d, i0.reshape(1), s),
    "index_add-0d-index": lambda m, s, d, i0: m.index_add(s, d, i0, s * 2),
    "softmax": lambda m, s, d, i0: m.softmax(s, d),
    "log_softmax": lambda m, s, d, i0: m.log_softmax(s, d),
}


@pytest.mark.parametrize("op", sorted(ZERO_D_OPS))
@pytest.mark.parametrize("dim", [-2, -1, 0, 1, 2])
def test_dims_of_a_zero_d_input(op, dim, device):
    _same_as_torch(lambda m, x, v, i, i0: ZERO_D_OPS[op](m, x[0, 0], dim, i0), device, f"{op} dim={dim}")


# ---- numbers converted to the tensor's dtype ---------------------------------------------------

HUGE = 1e300   # finite, beyond float32's range

SCALAR_CASES = {
    "masked_fill": lambda m, x, v, i, i0, s: m.masked_fill(x, x > 0, s),
    "masked_fill_": lambda m, x, v, i, i0, s: x.masked_fill_(x > 0, s),
    "scatter-value": lambda m, x, v, i, i0, s: m.scatter(x, 1, i.reshape(2, 1), s),
    "scatter-value-add": lambda m, x, v, i, i0, s: m.scatter(x, 1, i.reshape(2, 1), s, reduce="add"),
    "lerp": lambda m, x, v, i, i0, s: m.lerp(x, x * 2, s),
    "lerp_": lambda m, x, v, i, i0, s: x.lerp_(x * 2, s),
    "where-other": lambda m, x, v, i, i0, s: m.where(x > 0, x, s),
    "where-input": lambda m, x, v, i, i0, s: m.where(x > 0, s, x),
    "where-two-numbers": lambda m, x, v, i, i0, s: m.where(x > 0, s, 1.0),
    "clamp-min": lambda m, x, v, i, i0, s: m.clamp(x, s),
    "clamp-max": lambda m, x, v, i, i0, s: m.clamp(x, max=-s),
    "clamp-int-input": lambda m, x, v, i, i0, s: m.clamp(i, s),
    "addcmul-value": lambda m, x, v, i, i0, s: m.addcmul(x, x, x, value=s),
    "addcdiv-value": lambda m, x, v, i, i0, s: m.addcdiv(x, x, x + 10, value=s),
    "add-alpha": lambda m, x, v, i, i0, s: m.add(x, x, alpha=s),
    "sub-alpha": lambda m, x, v, i, i0, s: m.sub(x, x, alpha=s),
    "index_add-alpha": lambda m, x, v, i, i0, s: m.index_add(x, 1, i, x[:, :2], alpha=s),
    "setitem-list": lambda m, x, v, i, i0, s: x.__setitem__([0, 1], s) or x,
    "setitem-mask": lambda m, x, v, i, i0, s: x.__setitem__(x > 0, s) or x,
    "setitem-int": lambda m, x, v, i, i0, s: x.__setitem__(0, s) or x,
    "mul-number": lambda m, x, v, i, i0, s: x * s,   # a wrapped double: not converted, not refused
    "add-number": lambda m, x, v, i, i0, s: x + s,
}


@pytest.mark.parametrize("case", sorted(SCALAR_CASES))
@pytest.mark.parametrize("scalar", [1.5, 1e30, math.inf, HUGE], ids=["1.5", "1e30", "inf", "1e300"])
def test_numbers_converted_to_the_dtype_are_range_checked(case, scalar, device):
    call = SCALAR_CASES[case]
    _same_as_torch(lambda m, *a: call(m, *a, scalar), device, f"{case} with {scalar!r}")


INT_RANGE_CASES = {
    "masked_fill-int32": lambda m, x, v, i, i0: m.masked_fill(i.int(), i > 0, 2 ** 40),
    "masked_fill-int64-beyond": lambda m, x, v, i, i0: m.masked_fill(i, i > 0, 2 ** 63),
    "masked_fill-int64-max": lambda m, x, v, i, i0: m.masked_fill(i, i > 0, 2 ** 63 - 1),
    "masked_fill-0d-float64-value": lambda m, x, v, i, i0: m.masked_fill(x, x > 0, m.tensor(HUGE, dtype=m.float64)),
    "setitem-int-beyond-int64": lambda m, x, v, i, i0: x.__setitem__(0, 2 ** 63) or x,
    "setitem-int-below-int64": lambda m, x, v, i, i0: x.__setitem__(0, -2 ** 63 - 1) or x,
}


@pytest.mark.parametrize("case", sorted(INT_RANGE_CASES))
def test_integers_out_of_range(case, device):
    _same_as_torch(INT_RANGE_CASES[case], device, case)


# ---- list indices holding floats --------------------------------------------------------------

INDEX_CASES = {
    "getitem-float-in-list": lambda m, x, v, i, i0: x[[0, 1.5]],
    "getitem-negative-float": lambda m, x, v, i, i0: x[[-1.5]],
    "getitem-float-columns": lambda m, x, v, i, i0: x[:, [2.9, -2.9]],
    "getitem-two-lists": lambda m, x, v, i, i0: x[[0, 1], [0.5, 2]],
    "getitem-float-array": lambda m, x, v, i, i0: x[np.array([0.0, 1.0])],
    "getitem-numpy-float-in-list": lambda m, x, v, i, i0: x[[0, np.float64(1.5)]],
    "getitem-bool-and-float": lambda m, x, v, i, i0: x[[True, 1.5]],
    "getitem-nan": lambda m, x, v, i, i0: x[[math.nan]],
    "getitem-beyond-int64": lambda m, x, v, i, i0: x[[1e30]],
    "getitem-float-tensor-in-list": lambda m, x, v, i, i0: x[[0, m.tensor(1.5)]],
    "getitem-float": lambda m, x, v, i, i0: x[1.5],
    "setitem-float-in-list-number": lambda m, x, v, i, i0: x.__setitem__([0, 1.5], 7.0) or x,
    "setitem-float-in-list-tensor": lambda m, x, v, i, i0: x.__setitem__([0, 1.5], v) or x,
    "setitem-float-columns": lambda m, x, v, i, i0: x.__setitem__((slice(None), [2.5]), 7.0) or x,
}


@pytest.mark.parametrize("case", sorted(INDEX_CASES))
def test_list_indices_holding_floats(case, device):
    _same_as_torch(INDEX_CASES[case], device, case)


#: a Python int times alpha beyond int64: PyTorch's integer kernels wrap the product, float
#: tensors take it as a double
SCALED_NUMBER_CASES = {
    "sub-int-wraps": lambda m, d: m.subtract(m.tensor([1, 2], device=d), -(2 ** 63 - 1), alpha=2),
    "sub-negative-alpha": lambda m, d: m.sub(m.tensor([1, 2], device=d), 2 ** 63 - 1, alpha=-2),
    "add-wraps-to-zero": lambda m, d: m.add(m.tensor([1, 2], device=d), 2 ** 62, alpha=4),
    "add-wraps": lambda m, d: m.add(m.tensor([1, 2], device=d), 2 ** 62, alpha=3),
    "add-float-tensor": lambda m, d: m.add(m.tensor([1.0, 2.0], device=d), 2 ** 62, alpha=4),
    "sub-float-tensor": lambda m, d: m.subtract(m.tensor([1.0, 2.0], device=d), -(2 ** 63 - 1), alpha=2),
}


@pytest.mark.parametrize("case", sorted(SCALED_NUMBER_CASES))
def test_a_number_scaled_by_alpha_past_int64(case, device):
    call = SCALED_NUMBER_CASES[case]
    _same_as_torch(lambda m, *_: call(m, device if m is plugrad else "cpu"), device, case)


# ---- the fuzz sweep's cases of the core ops (elementwise, views, joins, products) --------------

#: alpha and beta: a number (None refused), converted to the result's dtype (refused beyond its
#: range; float16 is checked as float32 by addmm), the scaled operand computed in the result's dtype
ALPHA_CASES = {
    "add-None": lambda m, x, v, i, i0: m.add(x, x, alpha=None),
    "add_-None": lambda m, x, v, i, i0: x.add_(x, alpha=None),
    "sub-None": lambda m, x, v, i, i0: m.sub(x, 1.0, alpha=None),
    "sub_-None": lambda m, x, v, i, i0: x.sub_(x, alpha=None),
    "subtract-None": lambda m, x, v, i, i0: m.subtract(x, x, alpha=None),
    "rsub-None": lambda m, x, v, i, i0: m.rsub(x, x, alpha=None),
    "add-int32-beyond": lambda m, x, v, i, i0: m.add(i.int(), i.int(), alpha=2 ** 40),
    "add-int64-max": lambda m, x, v, i, i0: m.add(i, i, alpha=2 ** 63 - 1),
    "add-number-int32-beyond": lambda m, x, v, i, i0: m.add(i.int(), 2, alpha=2 ** 40),
    "sub_-int64-huge": lambda m, x, v, i, i0: i.sub_(i, alpha=2 ** 62),
    "subtract-int32-beyond": lambda m, x, v, i, i0: m.subtract(i.int(), i.int(), alpha=-2 ** 31 - 1),
    "rsub-int32-beyond": lambda m, x, v, i, i0: m.rsub(i.int(), 3, alpha=2 ** 40),
    "add-uint8-negative": lambda m, x, v, i, i0: m.add(i.byte(), i.byte(), alpha=-3),
    "add-uint8-beyond": lambda m, x, v, i, i0: m.add(i.byte(), i.byte(), alpha=-300),
    "add-float16-beyond": lambda m, x, v, i, i0: m.add(x.half(), x.half(), alpha=2 ** 40),
    "add-bool-int-alpha": lambda m, x, v, i, i0: m.add(i > 0, i > 0, alpha=2),
    # an integer operand scaled for a float result: computed in float, not wrapped first
    "add-int-other-float-result": lambda m, x, v, i, i0: m.add(v, i0 + 3, alpha=2 ** 40),
    "sub-int-other-float-result": lambda m, x, v, i, i0: m.sub(x, i.int().reshape(2, 1), alpha=2 ** 62),
    "rsub-int-input-float-result": lambda m, x, v, i, i0: m.rsub(i.int(), x.t(), alpha=2 ** 40),
    "rsub-int-input-float-number": lambda m, x, v, i, i0: m.rsub(i.int(), 3.5, alpha=2 ** 40),
    "addmm-int32-alpha-beyond": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1), i.int().reshape(2, 1),
                                                               i.int().reshape(1, 2), alpha=2 ** 40),
    "addmm-int32-beta-beyond": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1), i.int().reshape(2, 1),
                                                              i.int().reshape(1, 2), beta=-2 ** 62),
    "addmm-int32-nan-alpha": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1), i.int().reshape(2, 1),
                                                            i.int().reshape(1, 2), alpha=math.nan),
    "addmm-int32-fraction": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1), i.int().reshape(2, 1),
                                                           i.int().reshape(1, 2), beta=1.5),
    "addmm-float32-beyond": lambda m, x, v, i, i0: m.addmm(x, x, x.t() @ x, alpha=HUGE),
    "addmm-float16-as-float32": lambda m, x, v, i, i0: m.addmm(x.half(), x.half(), (x.t() @ x).half(), alpha=1e6),
}


@pytest.mark.parametrize("case", sorted(ALPHA_CASES))
def test_alpha_and_beta_are_numbers_the_result_dtype_holds(case, device):
    _same_as_torch(ALPHA_CASES[case], device, case)


#: a number bound of clamp is converted to the result's dtype (an int bound of an int tensor too)
CLAMP_CASES = {
    "clamp-int32-min-beyond": lambda m, x, v, i, i0: m.clamp(i.int(), 2 ** 62),
    "clamp-int32-max-beyond": lambda m, x, v, i, i0: m.clamp(i.int(), None, -2 ** 62),
    "clamp_-int32-max-beyond": lambda m, x, v, i, i0: i.int().clamp_(0, 2 ** 31),
    "clip-int32-beyond": lambda m, x, v, i, i0: m.clip(i0.int(), -2 ** 63),
    "clamp-int64-max": lambda m, x, v, i, i0: m.clamp(i, 2 ** 63 - 1),
    "clamp-uint8-negative": lambda m, x, v, i, i0: m.clamp(i.byte(), -3),
    "clamp-int8-beyond": lambda m, x, v, i, i0: m.clamp(i.char(), 300),
    "clamp-float16-beyond": lambda m, x, v, i, i0: m.clamp(x.half(), 2 ** 62),
    "clamp-bool-int": lambda m, x, v, i, i0: m.clamp(i > 0, 5),
    "clamp-int-nan": lambda m, x, v, i, i0: m.clamp(i.int(), math.nan),
}


@pytest.mark.parametrize("case", sorted(CLAMP_CASES))
def test_clamp_bounds_are_checked_against_the_result_dtype(case, device):
    _same_as_torch(CLAMP_CASES[case], device, case)


#: an integer divisor is converted to the dtype, wrapping, before the zero check (2**32 is 0 in
#: int32, 2**63 - 1 is -1)
DIVISIONS = {
    "floor_divide": lambda m, t, s: m.floor_divide(t, s),
    "floor_divide_": lambda m, t, s: t.floor_divide_(s),
    "fmod": lambda m, t, s: m.fmod(t, s),
    "fmod_": lambda m, t, s: t.fmod_(s),
    "remainder": lambda m, t, s: m.remainder(t, s),
    "remainder_": lambda m, t, s: t.remainder_(s),
    "div-trunc": lambda m, t, s: m.div(t, s, rounding_mode="trunc"),
    "div-floor": lambda m, t, s: m.div(t, s, rounding_mode="floor"),
}


@pytest.mark.parametrize("op", sorted(DIVISIONS))
@pytest.mark.parametrize("divisor", [2 ** 62, -2 ** 32, 2 ** 63 - 1, 2 ** 32 + 1])
def test_an_integer_divisor_wrapping_to_zero_divides_by_zero(op, divisor, device):
    _same_as_torch(lambda m, x, v, i, i0: DIVISIONS[op](m, (i * 3 - 4).int(), divisor), device, f"{op} {divisor}")


ROUNDING_CASES = {
    "div-list": lambda m, x, v, i, i0: m.div(x, 2.0, rounding_mode=[[1.0, 2.0], [3.0]]),
    "div-int": lambda m, x, v, i, i0: m.div(x, x, rounding_mode=1),
    "divide-list": lambda m, x, v, i, i0: m.divide(x, x, rounding_mode=["floor"]),
    "div_-list": lambda m, x, v, i, i0: x.div_(2.0, rounding_mode=["trunc"]),
    "div-unknown-str": lambda m, x, v, i, i0: m.div(x, 2.0, rounding_mode="up"),
    "div-None": lambda m, x, v, i, i0: m.div(x, 2.0, rounding_mode=None),
    "round-float-decimals": lambda m, x, v, i, i0: m.round(x, decimals=1.5),
    "round-method-float-decimals": lambda m, x, v, i, i0: x.round(decimals=1.0),
    "round_-float-decimals": lambda m, x, v, i, i0: x.round_(decimals=1.5),
    "round-bool-decimals": lambda m, x, v, i, i0: m.round(x, decimals=True),
    "round-None-decimals": lambda m, x, v, i, i0: m.round(x, decimals=None),
    "round-numpy-decimals": lambda m, x, v, i, i0: m.round(x * 0.37, decimals=np.int64(1)),
    "round-int-places": lambda m, x, v, i, i0: m.round(i, decimals=2),
    "round-int-negative-places": lambda m, x, v, i, i0: m.round(i.int(), decimals=-1),
    "round-int": lambda m, x, v, i, i0: m.round(i),
    "round-bool-places": lambda m, x, v, i, i0: m.round(i > 0, decimals=1),
}


@pytest.mark.parametrize("case", sorted(ROUNDING_CASES))
def test_rounding_arguments(case, device):
    _same_as_torch(ROUNDING_CASES[case], device, case)


#: bitwise ops in place: a float ``self`` has no kernel (RuntimeError from plugrad, never
#: NumPy's TypeError), whatever the other operand
BITWISE_OTHERS = {"float": lambda x, i: x, "int": lambda x, i: i.reshape(2, 1), "bool": lambda x, i: x > 0,
                  "number": lambda x, i: 3, "true": lambda x, i: True}


@pytest.mark.parametrize("op", ["bitwise_and_", "bitwise_or_", "bitwise_xor_", "__iand__", "__ior__", "__ixor__"])
@pytest.mark.parametrize("other", sorted(BITWISE_OTHERS))
def test_bitwise_in_place_on_a_float_tensor(op, other, device):
    make_other = BITWISE_OTHERS[other]
    _same_as_torch(lambda m, x, v, i, i0: getattr(x, op)(make_other(x, i)), device, f"{op} with {other}")


BITWISE_INPLACE_CASES = {
    "bitwise_not_-float": lambda m, x, v, i, i0: x.bitwise_not_(),
    "bitwise_not_-int": lambda m, x, v, i, i0: i.bitwise_not_(),
    "bitwise_xor_-int": lambda m, x, v, i, i0: i.bitwise_xor_(i0 + 3),
    "bitwise_and_-int-float-other": lambda m, x, v, i, i0: i.bitwise_and_(v[:2]),
    "logical_xor_-bool": lambda m, x, v, i, i0: (i > 0).logical_xor_(i0 == 0),
}


@pytest.mark.parametrize("case", sorted(BITWISE_INPLACE_CASES))
def test_other_bitwise_in_place_forms(case, device):
    _same_as_torch(BITWISE_INPLACE_CASES[case], device, case)


SPLIT_CASES = {
    "split-float-in-sizes": lambda m, x, v, i, i0: m.split(x, [1.5], 1),
    "split-float-later-in-sizes": lambda m, x, v, i, i0: m.split(x, [1, 1.0, 1], 1),
    "split-None-in-sizes": lambda m, x, v, i, i0: m.split(x, [1, None], 0),
    "split-bool-in-sizes": lambda m, x, v, i, i0: m.split(x, [1, True], 0),
    "split-negative-size-summing-right": lambda m, x, v, i, i0: m.split(x, [-1, 4], 1),
    "split-float-size": lambda m, x, v, i, i0: m.split(x, 1.5),
    "split-bool-size": lambda m, x, v, i, i0: m.split(x, True),
    "split-None-size": lambda m, x, v, i, i0: m.split(x, None),
    "split-str-size": lambda m, x, v, i, i0: m.split(x, "ab"),
    "split-huge-size": lambda m, x, v, i, i0: m.split(x, 2 ** 62),
    "split-tensor-size": lambda m, x, v, i, i0: m.split(x, i0 + 1),
    "chunk-float": lambda m, x, v, i, i0: m.chunk(x, 1.5),
    "chunk-bool": lambda m, x, v, i, i0: x.chunk(True),
    "chunk-None": lambda m, x, v, i, i0: m.chunk(x, None),
    "chunk-huge": lambda m, x, v, i, i0: m.chunk(x, 2 ** 62),
}


@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_split_and_chunk_arguments(case, device):
    _same_as_torch(SPLIT_CASES[case], device, case)


#: shape ops on a 0-d input check their dim (IndexError) before the shapes (RuntimeError)
@pytest.mark.parametrize("dims", [(0, -1), (-1, 0), (1, -1), (0, 1), (-2, -1), (0, -2), (1, 0)])
def test_flatten_of_a_zero_d_input(dims, device):
    _same_as_torch(lambda m, x, v, i, i0: m.flatten(x[0, 0], *dims), device, f"flatten {dims}")


@pytest.mark.parametrize("dim", [-3, -1, 0, 1, 2])
def test_unflatten_of_a_zero_d_input(dim, device):
    _same_as_torch(lambda m, x, v, i, i0: m.unflatten(x[0, 0], dim, (1,)), device, f"unflatten {dim}")


@pytest.mark.parametrize("first", [True, False], ids=["0d-first", "0d-second"])
@pytest.mark.parametrize("dim", [-4, -2, -1, 1, 2, 3])
def test_stack_with_a_zero_d_input(first, dim, device):
    _same_as_torch(lambda m, x, v, i, i0: m.stack([x[0, 0], x] if first else [x, x[0, 0]], dim), device,
                   f"stack dim={dim}")


MV_CASES = {
    "0d-matrix": lambda m, x, v, i, i0: m.mv(x[0, 0], v),
    "0d-matrix-int-vector": lambda m, x, v, i, i0: m.mv(x[0, 0], i),
    "0d-vector": lambda m, x, v, i, i0: m.mv(x, v[0]),
    "0d-both": lambda m, x, v, i, i0: m.mv(x[0, 0], v[0]),
    "0d-matrix-None-vector": lambda m, x, v, i, i0: m.mv(x[0, 0], None),
}


@pytest.mark.parametrize("case", sorted(MV_CASES))
def test_mv_with_a_zero_d_input(case, device):
    _same_as_torch(MV_CASES[case], device, case)


REPEAT_CASES = {
    "negative": lambda m, x, v, i, i0: v.repeat(-1),
    "negative-0d": lambda m, x, v, i, i0: x[0, 0].repeat(-1),
    "negative-leading": lambda m, x, v, i, i0: v.repeat(-2, 1),
    "negative-of-empty-dim": lambda m, x, v, i, i0: v[:0].repeat(-1),
    "zero": lambda m, x, v, i, i0: x.repeat(0, 2),
    "none-given": lambda m, x, v, i, i0: v.repeat(),
    "tuple": lambda m, x, v, i, i0: x.repeat((2, 1, 2)),
}


@pytest.mark.parametrize("case", sorted(REPEAT_CASES))
def test_repeat_counts(case, device):
    _same_as_torch(REPEAT_CASES[case], device, case)


@pytest.mark.parametrize("data", [[None], [1, None], None, [[1], [None]], {1: 2}, [object()], "ab", [b"a"], [1.0, "x"]],
                         ids=["none-in-list", "none-after-int", "none", "nested-none", "dict", "object", "str",
                              "bytes-in-list", "str-in-list"])
def test_tensor_of_values_it_cannot_hold(data, device):
    # text raises TypeError, any other object RuntimeError, as in PyTorch (every one was a TypeError)
    _same_as_torch(lambda m, *_: m.tensor(data, device=device) if m is plugrad else m.tensor(data), device,
                   f"tensor({data!r})")


#: addmm where nothing is multiplied: an empty result converts no scalar; an empty inner dim
#: gives beta * input, computed as an ordinary product written into the input's dtype
ADDMM_EMPTY_CASES = {
    "inner-int-fraction-beta": lambda m, x, v, i, i0: m.addmm(i.reshape(2, 1), i.reshape(2, 1)[:, :0],
                                                              i[:0].reshape(0, 1), beta=1.5),
    "inner-int32-huge-beta-wraps": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1) + 3,
                                                                  i.int().reshape(2, 1)[:, :0],
                                                                  i.int()[:0].reshape(0, 1), beta=2 ** 63 - 1),
    "inner-int32-huge-alpha-unused": lambda m, x, v, i, i0: m.addmm(i.int().reshape(2, 1), i.int().reshape(2, 1)[:, :0],
                                                                    i.int()[:0].reshape(0, 1), alpha=2 ** 62),
    "inner-float32-huge-beta": lambda m, x, v, i, i0: m.addmm(x, x[:, :0], x[:0], beta=1e300),
    "inner-beta-zero-drops-nan": lambda m, x, v, i, i0: m.addmm(x * math.nan, x[:, :0], x[:0], beta=0),
    "inner-broadcast-input": lambda m, x, v, i, i0: m.addmm(v, x[:, :0], x[:0], beta=2),
    "inner-bool-int-beta": lambda m, x, v, i, i0: m.addmm((i > 0).reshape(2, 1), (i > 0).reshape(2, 1)[:, :0],
                                                          (i > 0)[:0].reshape(0, 1)),
    "result-int32-huge-beta": lambda m, x, v, i, i0: m.addmm(i.int()[:1], i.int()[:0].reshape(0, 1),
                                                             i.int()[:1].reshape(1, 1), beta=2 ** 63 - 1),
    "result-float32-huge-float-beta": lambda m, x, v, i, i0: m.addmm(v[:1], x[:0], x.t(), beta=1e300),
}


@pytest.mark.parametrize("case", sorted(ADDMM_EMPTY_CASES))
def test_addmm_with_nothing_to_multiply(case, device):
    _same_as_torch(ADDMM_EMPTY_CASES[case], device, case)


NORM_CASES = {
    "one-element-huge-p": lambda m, x, v, i, i0: m.norm(v[0], 2 ** 62),
    "one-element-huge-negative-p": lambda m, x, v, i, i0: m.norm(v[1:2], -2 ** 62),
    "one-element-each-dim": lambda m, x, v, i, i0: m.norm(x[:1], 1000.0, 0),
    "one-element-each-keepdim": lambda m, x, v, i, i0: m.norm(x[:, 1:2], 3.5, 1, keepdim=True),
    "two-elements-huge-p": lambda m, x, v, i, i0: m.norm(x, 1000.0, 0),
    "empty-inf": lambda m, x, v, i, i0: m.norm(v[:0], math.inf),
    "empty-negative-p": lambda m, x, v, i, i0: m.norm(x[:, :0], -1.0, 1),
    "empty-positive-p": lambda m, x, v, i, i0: m.norm(v[:0], 3.0),
    "empty-other-dim-inf": lambda m, x, v, i, i0: m.norm(x[:, :0], math.inf, 0),
}


@pytest.mark.parametrize("case", sorted(NORM_CASES))
def test_norm_of_one_element_and_of_empty_dims(case, device):
    _same_as_torch(NORM_CASES[case], device, case)


#: a number exponent: negative powers of integers refused and the value range-checked in
#: every form (pow_ leaked NumPy's ValueError); a tensor exponent may hold negatives
POW_CASES = {
    "pow_-int-negative": lambda m, x, v, i, i0: i.int().pow_(-1),
    "pow_-int64-huge-negative": lambda m, x, v, i, i0: i.clone().pow_(-2 ** 62),
    "pow_-int32-huge": lambda m, x, v, i, i0: i.int().pow_(2 ** 62),
    "pow-int32-beyond": lambda m, x, v, i, i0: m.pow(i.int(), 2 ** 31),
    "pow-int64-huge": lambda m, x, v, i, i0: m.pow(i + 1, 2 ** 63 - 1),
    "pow-uint8-beyond": lambda m, x, v, i, i0: m.pow(i.byte(), 300),
    "pow-float16-beyond": lambda m, x, v, i, i0: m.pow(x.half(), 2 ** 62),
    "pow-float32-any": lambda m, x, v, i, i0: m.pow(x, 1e300),
    "ipow-int8-beyond": lambda m, x, v, i, i0: i.char().__ipow__(300),
    "pow_-bool-int": lambda m, x, v, i, i0: (i > 0).pow_(2),
    "pow_-int-tensor-negative": lambda m, x, v, i, i0: (i + 1).pow_(i - 1),
}


@pytest.mark.parametrize("case", sorted(POW_CASES))
def test_pow_exponent_checks(case, device):
    _same_as_torch(POW_CASES[case], device, case)


#: views and joins at their edges: PyTorch's outcome for each
VIEW_EDGE_CASES = {
    "cat-empty-vectors-any-dim": lambda m, x, v, i, i0: m.cat([v[:0]], 5),
    "cat-empty-vectors-promoted": lambda m, x, v, i, i0: m.cat([v[:0], i[:0]], -3),
    "concat-empty-vectors-huge-dim": lambda m, x, v, i, i0: m.concat([v[:0]], 2 ** 62),
    "cat-empty-vectors-float-dim": lambda m, x, v, i, i0: m.cat([v[:0]], 1.5),
    "cat-empty-vector-and-matrix": lambda m, x, v, i, i0: m.cat([v[:0], x], 5),
    "as_strided-numel-overflow": lambda m, x, v, i, i0: m.as_strided(v, (2 ** 63 - 1, 7), (0, 1)),
    "as_strided-huge-stride-of-size-1": lambda m, x, v, i, i0: m.as_strided(v, (1, 2), (2 ** 62, 1), 1),
    "as_strided-huge-strides-empty": lambda m, x, v, i, i0: m.as_strided(v, (0, 2), (2 ** 62, 2 ** 62)),
    "diagonal-0d": lambda m, x, v, i, i0: m.diagonal(x[0, 0], 0, -1, 0),
    "chunk-empty-dim-huge-count": lambda m, x, v, i, i0: m.chunk(v[:0], 2 ** 62),
    "chunk-empty-dim": lambda m, x, v, i, i0: m.chunk(x[:, :0], 3, 1),
    "split-empty-negative": lambda m, x, v, i, i0: m.split(v[:0], -1),
    "split-zero-size": lambda m, x, v, i, i0: m.split(v, 0),
    "split-empty-zero-size": lambda m, x, v, i, i0: m.split(v[:0], 0),
    "squeeze-dim-twice": lambda m, x, v, i, i0: m.squeeze(x[:1], (-2, 0)),
    "squeeze-0d-dim-twice": lambda m, x, v, i, i0: m.squeeze(x[0, 0], (-1, 0)),
    "squeeze-dims": lambda m, x, v, i, i0: m.squeeze(x[:1], (0, -1)),
}


@pytest.mark.parametrize("case", sorted(VIEW_EDGE_CASES))
def test_view_and_join_edges(case, device):
    _same_as_torch(VIEW_EDGE_CASES[case], device, case)


#: lerp's weight: a 0-d one of any dtype takes part in promotion; one with dims must match
LERP_CASES = {
    "int-0d-weight": lambda m, x, v, i, i0: m.lerp(v, v * 2, i0 + 1),
    "bool-0d-weight": lambda m, x, v, i, i0: m.lerp(v, v * 2, i0 == 0),
    "float64-0d-weight": lambda m, x, v, i, i0: m.lerp(v, v * 2, i0.double() + 0.25),
    "all-0d-float64-weight": lambda m, x, v, i, i0: m.lerp(v[0], v[1], i0.double() + 0.25),
    "int-weight-with-dims": lambda m, x, v, i, i0: m.lerp(x, x * 2, i.reshape(2, 1)),
    "lerp_-bool-0d-weight": lambda m, x, v, i, i0: v.clone().lerp_(v * 2, i0 == 0),
    "lerp_-int-0d-weight": lambda m, x, v, i, i0: v.clone().lerp_(v * 2, i0),
}


@pytest.mark.parametrize("case", sorted(LERP_CASES))
def test_lerp_weight_dtypes(case, device):
    _same_as_torch(LERP_CASES[case], device, case)


#: the devices a cpu tensor can meet (none where only cpu is installed: the test has no case)
DEVICES_BESIDE_CPU = [d for d in registry.device_types() if d != "cpu" and getattr(plugrad, d).is_available()]


@pytest.mark.parametrize("op", ["atan2_", "div_"])
@pytest.mark.parametrize("moved", ["self", "other"])
@pytest.mark.parametrize("device", DEVICES_BESIDE_CPU)
def test_in_place_op_across_devices_names_both(op, moved, device):
    """An int tensor written in place from a float result, one operand a 0-d tensor of another
    device: the error (a device clash, or the refused cast) names both devices."""
    a, b = plugrad.tensor(-1), plugrad.tensor(3, device=device)
    if moved == "self":
        a, b = b, a
    before = a.item()
    with pytest.raises(RuntimeError) as info:
        getattr(a, op)(b)
    assert "cpu" in str(info.value) and device in str(info.value)
    assert a.item() == before and a.dtype == plugrad.int64
