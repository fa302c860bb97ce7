"""Numerical edge cases against the PyTorch oracle, on every device: NaN and inf
propagation, integer division by zero, integer overflow, ``-0.0`` and reductions over
empty dims. Each case is a function of the library (``m`` is plugrad or torch) and of
NumPy inputs; ``fuzz_support.compare`` holds values (NaN positions and signs of zero
included), dtypes and shapes to PyTorch's, and exception classes likewise.
"""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fuzz_support as fz

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

#: the values the hypothesis test draws: the special ones, with 1e9 as the large value (products of up to
#: four of them stay finite in float32: where a product overflows, whether inf * 0 meets a NaN depends
#: on the order of the multiplications, which is each device's own)
HYPOTHESIS_VALUES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0, 1e9, 0.5, -0.75]

#: the devices the hypothesis test draws for (the ``device`` fixture runs the fixed cases everywhere)
DEVICES = [d for d in ("cpu", "opencl") if d in plugrad.plugins.device_types() and getattr(plugrad, d).is_available()]

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0, 2.5e18], dtype=np.float32)
GRID = SPECIAL.reshape(2, 4)


def _run(lib, fn, device, inputs):
    args = [plugrad.tensor(x, device=device) if lib is plugrad else torch.from_numpy(np.array(x)) for x in inputs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # PyTorch's "degrees of freedom is <= 0" and the like
            return fn(lib, *args), None
    except Exception as exc:  # compared below
        return None, exc


def check(fn, device, *inputs, signed_zeros=False):
    ours, our_exc = _run(plugrad, fn, device, inputs)
    theirs, their_exc = _run(torch, fn, "cpu", inputs)
    if their_exc is not None or our_exc is not None:
        assert their_exc is not None, f"plugrad raised {our_exc!r}, torch returned {theirs!r}"
        assert our_exc is not None, f"torch raised {their_exc!r}, plugrad returned {ours!r}"
        assert isinstance(our_exc, fz._wanted(their_exc)), f"plugrad {our_exc!r}, torch {their_exc!r}"
        assert type(our_exc).__module__ == "builtins" or type(our_exc).__module__.startswith("plugrad")
        return
    a, b = fz.describe(ours), fz.describe(theirs)
    fz.compare(a, b)
    if signed_zeros:
        for x, y in _tensors(a, b):
            zeros = (x == 0) & (y == 0)   # a NaN's sign bit means nothing
            np.testing.assert_array_equal(np.signbit(x[zeros]), np.signbit(y[zeros]), err_msg="signs of zeros differ")


def _tensors(a, b):
    if a[0] == "tensor":
        yield a[3], b[3]
    elif a[0] == "seq":
        for x, y in zip(a[1], b[1]):
            yield from _tensors(x, y)


NAN_INF = {
    "add": lambda m, x: x + x.flip(0),
    "mul": lambda m, x: x * x.flip(0),
    "div": lambda m, x: x / x.flip(0),
    "exp-log": lambda m, x: (x.exp(), x.log(), x.sqrt(), x.tanh(), x.sigmoid()),
    "maximum": lambda m, x: (m.maximum(x, x.flip(0)), m.minimum(x, x.flip(0))),
    "clamp": lambda m, x: x.clamp(-1.0, 1.0),
    "sum-mean": lambda m, x: (x.sum(), x.sum(1), x.mean(0), x.prod(1)),
    "max-min": lambda m, x: (x.max(), x.min(), x.amax(1), x.amin(0), x.max(1).values, x.min(0).values),
    "argmax": lambda m, x: (x.argmax(), x.argmin(), x.argmax(1), x.argmin(0)),
    "std-var": lambda m, x: (x.std(), x.var(1), x.std(0, correction=0)),
    "matmul": lambda m, x: x @ x.t(),
    "softmax": lambda m, x: x.softmax(1),
    "cumsum": lambda m, x: x.cumsum(1),
    "compare": lambda m, x: (x == x, x < 1, x.isnan(), x.isinf(), x.isfinite()),
    "relu": lambda m, x: m.relu(x),
    "where": lambda m, x: m.where(x > 0, x, -x),
}


@pytest.mark.parametrize("case", sorted(NAN_INF))
def test_nan_and_inf_propagate_as_in_torch(case, device):
    check(NAN_INF[case], device, GRID)


@pytest.mark.parametrize("device", DEVICES)
@given(case=st.sampled_from(sorted(NAN_INF)),
       values=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4),
                         elements=st.sampled_from(HYPOTHESIS_VALUES)))
def test_special_values_anywhere_propagate_as_in_torch(device, case, values):
    check(NAN_INF[case], device, values)


INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("op", ["floordiv", "mod", "div-floor", "div-trunc", "truediv", "remainder", "fmod"])
def test_integer_division_by_zero_as_in_torch(op, dtype, device):
    fn = {"floordiv": lambda m, a, b: a // b, "mod": lambda m, a, b: a % b,
          "div-floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
          "div-trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
          "truediv": lambda m, a, b: a / b, "remainder": lambda m, a, b: m.remainder(a, b),
          "fmod": lambda m, a, b: m.fmod(a, b)}[op]
    a = np.array([7, 0, 3], dtype=dtype)
    b = np.array([2, 0, 0], dtype=dtype)
    check(fn, device, a, b)
    check(lambda m, x: fn(m, x, 0), device, a)   # a Python zero


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_overflow_wraps_as_in_torch(dtype, device):
    info = np.iinfo(dtype)
    a = np.array([info.max, info.min, info.max // 2 + 1, -1 if info.min else 1], dtype=dtype)
    check(lambda m, x: (x + x, x * x, x - x.flip(0), x * 3, x + 1, -x if dtype != "uint8" else x, x.sum(),
                        x.cumsum(0), x.prod()), device, a)


NEG_ZERO = np.array([-0.0, 0.0, -1.0, 1.0, -0.25, 0.25], dtype=np.float32)

SIGNED_ZERO = {
    "neg": lambda m, x: x.neg(), "mul": lambda m, x: x * -1, "mul-zero": lambda m, x: x * 0,
    "clone": lambda m, x: x.clone(), "copy": lambda m, x: m.zeros(6).copy_(x),
    "contiguous": lambda m, x: x.reshape(2, 3).t().contiguous(), "abs": lambda m, x: x.abs(),
    "where": lambda m, x: m.where(x == 0, x, x), "floor": lambda m, x: x.floor(), "ceil": lambda m, x: x.ceil(),
    "round": lambda m, x: x.round(), "trunc": lambda m, x: x.trunc(), "sign": lambda m, x: x.sign(),
    "sqrt": lambda m, x: x.sqrt(), "to-float64": lambda m, x: x.double(), "add-zero": lambda m, x: x + 0.0,
    "sum-of-negative-zeros": lambda m, x: x[:1].sum(), "cat": lambda m, x: m.cat([x, x]),
    "maximum": lambda m, x: m.maximum(x, x.flip(0)), "minimum": lambda m, x: m.minimum(x, x.flip(0)),
    "relu": lambda m, x: m.relu(x), "clamp": lambda m, x: x.clamp(min=0), "amax": lambda m, x: x[:2].amax(),
}

#: where plugrad's sign of zero differs from PyTorch's, and why (values are still compared)
SIGNED_ZERO_OPEN = {
    "maximum": "open: on a tie of -0.0 and 0.0 PyTorch returns the first operand, the kernels the second",
    "minimum": "open: as maximum", "relu": "open: relu is maximum(x, 0): relu(-0.0) gives 0.0, PyTorch's -0.0",
    "clamp": "open: as relu", "amax": "open: the max of [-0.0, 0.0] is 0.0 here, -0.0 (the first) in PyTorch",
}


@pytest.mark.parametrize("case", sorted(SIGNED_ZERO))
def test_negative_zero_as_in_torch(case, device):
    check(SIGNED_ZERO[case], device, NEG_ZERO, signed_zeros=case not in SIGNED_ZERO_OPEN)


def test_negative_zero_prints_as_in_torch(device):
    x = np.array([-0.0, 0.0, 1.5], dtype=np.float32)
    assert repr(plugrad.tensor(x, device="cpu")) == repr(torch.from_numpy(x))
    assert plugrad.tensor(-0.0, device=device).item() == torch.tensor(-0.0).item()
    assert str(plugrad.tensor(-0.0, device=device).item()) == str(torch.tensor(-0.0).item())


EMPTY = {
    "sum": lambda m, x: (x.sum(), x.sum(0), x.sum(1), x.sum(0, keepdim=True)),
    "prod": lambda m, x: (x.prod(), x.prod(0)),
    "mean": lambda m, x: (x.mean(), x.mean(0)),
    "std-var": lambda m, x: (x.var(0), x.std(0)),
    "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "amax-all": lambda m, x: x.amax(),
    "amax-empty-dim": lambda m, x: x.amax(0),
    "amax-other-dim": lambda m, x: x.amax(1),
    "max-all": lambda m, x: x.max(),
    "max-empty-dim": lambda m, x: x.max(0),
    "max-other-dim": lambda m, x: x.max(1),
    "argmax-all": lambda m, x: x.argmax(),
    "argmax-empty-dim": lambda m, x: x.argmax(0),
    "argmin-other-dim": lambda m, x: x.argmin(1),
    "min-all": lambda m, x: x.min(),
    "cumsum": lambda m, x: x.cumsum(0),
    "all-any": lambda m, x: (x.all(), x.any(0), (x > 0).all(1)),
    "count_nonzero": lambda m, x: m.count_nonzero(x, 0),
    "norm": lambda m, x: m.norm(x),
    "softmax": lambda m, x: x.softmax(0),
    "matmul": lambda m, x: x.t() @ x,
}


@pytest.mark.parametrize("case", sorted(EMPTY))
def test_reductions_over_empty_dims_as_in_torch(case, device):
    check(EMPTY[case], device, np.zeros((0, 3), dtype=np.float32))


@pytest.mark.parametrize("case", ["sum", "prod", "mean", "amax-all", "argmax-all", "max-empty-dim"])
def test_integer_reductions_over_empty_dims_as_in_torch(case, device):
    check(EMPTY[case], device, np.zeros((0, 3), dtype=np.int64))


INF_ROWS = np.array([[np.inf, -np.inf], [-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 1.0], [np.inf, np.inf],
                     [np.nan, 1.0]], dtype=np.float32)


@pytest.mark.parametrize("case", ["softmax", "log_softmax", "softmin", "logsumexp"])
def test_softmax_of_infinite_rows_as_in_torch(case, device):
    # softmax used to shift a row holding +inf by 0 (logsumexp's rule), giving 0 where PyTorch gives NaN
    fn = {"softmax": lambda m, x: (x.softmax(1), x.softmax(0)), "log_softmax": lambda m, x: x.log_softmax(1),
          "softmin": lambda m, x: m.nn.functional.softmin(x, 1), "logsumexp": lambda m, x: m.logsumexp(x, 1)}[case]
    check(fn, device, INF_ROWS)


def test_a_sum_over_size_one_dims_turns_negative_zero_positive(device):
    # the opencl device copied the values through when every reduced dim had size 1
    check(lambda m, x: (x[:1].sum(), x.reshape(3, 1).sum(1), x.reshape(1, 3).sum(0), x[:1].mean()), device,
          np.array([-0.0, -0.0, 1.5], dtype=np.float32), signed_zeros=True)


@pytest.mark.parametrize("weight", [0.0, 0.25, 0.5, 0.75, 1.0, -0.6, "tensor"])
def test_lerp_of_infinities_as_in_torch(weight, device):
    # lerp used input + w * (end - input) everywhere: inf + 0.5 * (0 - inf) gave NaN where PyTorch
    # (which computes from the end nearer to the weight) gives inf
    start = np.array([np.inf, 1.0, -np.inf, 2.0, np.nan], dtype=np.float32)
    end = np.array([0.0, np.inf, 0.0, 3.0, 1.0], dtype=np.float32)
    if weight == "tensor":
        check(lambda m, a, b, w: m.lerp(a, b, w), device, start, end,
              np.array([0.5, 0.25, 0.75, 1.0, 0.0], dtype=np.float32))
    else:
        check(lambda m, a, b: m.lerp(a, b, weight), device, start, end)


@pytest.mark.parametrize("kwargs", [{"ignore_index": 0, "reduction": "sum"}, {"ignore_index": 0},
                                    {"ignore_index": 1, "reduction": "none"},
                                    {"ignore_index": 0, "label_smoothing": 0.1}])
def test_an_ignored_target_hides_a_nan_input_as_in_torch(kwargs, device):
    # an ignored position was multiplied by a zero weight: NaN * 0 is NaN, PyTorch skips it
    logits = np.array([[np.nan, 1.0, 2.0], [0.5, np.nan, 1.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    target = np.array([0, 1, 2])
    check(lambda m, x, t: (m.nn.functional.cross_entropy(x, t, **kwargs),
                           m.nn.functional.cross_entropy(x[:1], t[:1], **kwargs)), device, logits, target)
    if "label_smoothing" not in kwargs:
        check(lambda m, x, t: m.nn.functional.nll_loss(x, t, **kwargs), device, logits, target)


def test_an_infinity_is_close_only_to_itself(device):
    # |a - inf| <= rtol * |inf| held for every finite a: isclose said -2 was close to inf
    a = np.array([-2.0, np.inf, np.inf, -np.inf, np.nan, 1.0], dtype=np.float32)
    b = np.array([np.inf, np.inf, -np.inf, -np.inf, np.nan, 1.0 + 1e-7], dtype=np.float32)
    check(lambda m, x, y: (m.isclose(x, y), m.isclose(y, x), m.isclose(x, y, equal_nan=True),
                           m.allclose(x[:1], y[:1]), m.isclose(x, y, rtol=0.5, atol=1.0)), device, a, b)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, np.inf, -np.inf, 0.0, np.nan])
def test_normalize_with_any_p_as_in_torch(p, device):
    # normalize raised Python's ZeroDivisionError for p=0 and divided by 1 for p=+-inf
    x = np.array([[3.0, -4.0], [0.5, 0.25], [0.0, 0.0]], dtype=np.float32)
    check(lambda m, t: (m.nn.functional.normalize(t, p=p), m.nn.functional.normalize(t, p=p, dim=0)), device, x)


@pytest.mark.parametrize("output_size", [(3, 4), (5, 5), (2, None)])
def test_adaptive_avg_pool2d_keeps_a_nan_in_its_own_windows(device, output_size):
    """Uneven windows used to be averaged with matrix products, where 0 * NaN spread one
    NaN over every output; the values and the gradients must be PyTorch's."""
    a = np.arange(70, dtype=np.float64).reshape(1, 2, 5, 7) / 7
    a[0, 0, 1, 2], a[0, 1, 4, 6], a[0, 1, 0, 0] = np.nan, np.inf, -np.inf
    g = np.linspace(-1, 1, 2 * 5 * 7).reshape(2, 5, 7)
    results = []
    for m in (plugrad, torch):
        kw = {"device": device} if m is plugrad else {}
        x = m.tensor(a, dtype=m.float64, requires_grad=True, **kw)
        y = m.nn.functional.adaptive_avg_pool2d(x, output_size)
        y.backward(m.tensor(g[:, :y.shape[2], :y.shape[3]].reshape(y.shape), dtype=m.float64, **kw))
        results.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-12)


@pytest.mark.parametrize("alpha", [1.5, 2.5, -1.7, 0.5, True])
@pytest.mark.parametrize("dtype", ["int64", "float32", "bool"])
def test_index_add_converts_alpha_to_the_tensor_dtype_as_in_torch(alpha, dtype, device):
    # a float alpha used to scale an integer source before the conversion (1.5 * 2 added 3, not 2)
    x = np.zeros(2, dtype=dtype)
    src = np.array([1, 0, 1, 1], dtype=dtype) * (1 if dtype == "bool" else 2)
    index = np.array([0, 1, 0, 0])
    check(lambda m, t, i, s: (m.index_add(t, 0, i, s, alpha=alpha), t.clone().index_add_(0, i, s, alpha=alpha)),
          device, x, index, src)


@pytest.mark.parametrize("decimals", [-39, -2, 2, 5, 39, 309, 2 ** 62, -(2 ** 62)])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_round_to_decimals_as_in_torch(decimals, dtype, device):
    # a power of ten beyond a Python float raised OverflowError; float16 scaled in float16 overflowed to inf
    x = np.array([1250.0, 1350.0, 0.125, 2.675, 6e4, -0.0, 12345.67, -7.5, np.nan, np.inf], dtype=dtype)
    check(lambda m, t: m.round(t, decimals=decimals), device, x, signed_zeros=True)


@pytest.mark.parametrize("mode", ["constant", "replicate", "reflect", "circular"])
@pytest.mark.parametrize("size", [2 ** 62, 2 ** 63 - 1])
def test_pad_by_more_than_any_tensor_holds_is_refused_as_in_torch(mode, size, device):
    # replicate padding built a Python list of 2**62 source positions (the process ran out of memory)
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    check(lambda m, t: m.nn.functional.pad(t, (size, 0), mode=mode), device, x)


@pytest.mark.parametrize("op", ["add", "sub", "rsub"])
@pytest.mark.parametrize("alpha", [2, 1.5, 1.0, True])
@pytest.mark.parametrize("dtype", ["int64", "float32", "bool"])
@pytest.mark.parametrize("other", ["number", "tensor"])
def test_alpha_is_checked_against_the_result_dtype_as_in_torch(op, alpha, dtype, other, device):
    # rsub scaled its input by a float alpha before any check (an integer rsub took alpha=1.5), and
    # the fast paths for alpha == 1 took alpha=True and alpha=1.0 without the checks
    x = np.array([0, 1, 3], dtype=dtype)
    check(lambda m, t: getattr(m, op)(t, 2 if other == "number" else t, alpha=alpha), device, x)


@pytest.mark.parametrize("dtype", ["int64", "float32"])
@pytest.mark.parametrize("scales", [{"beta": 1.5, "alpha": 2}, {"beta": 2, "alpha": 1.5}, {"alpha": -2.5}])
def test_addmm_converts_alpha_and_beta_to_the_dtype_as_in_torch(dtype, scales, device):
    # a float alpha or beta made an integer addmm return float32
    m = np.arange(4, dtype=dtype).reshape(2, 2)
    check(lambda lib, a, b, c: lib.addmm(a, b, c, **scales), device, m, m + 1, m - 1)
