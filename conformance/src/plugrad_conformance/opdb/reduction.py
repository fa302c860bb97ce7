"""Entries for ``plugrad.ops.reduction``: sums, means, products, extremes, variance,
logic reductions, cumulative ops, logsumexp, softmax and norms."""

from __future__ import annotations

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import ALL, INT_TO_INT64, NUMERIC, TO_FLOAT, TO_INT64, ErrorInput, OpInfo, Sample
from .common import EVEN, ODD, TIES, D, reduction_dims

FAMILY = "plugrad.ops.reduction"

#: float16 accumulates in float16 on some devices: looser, but still catches wrong values
SUM_TOL = {"float16": (8e-3, 4e-2)}


def _r(name, ref, sample, **kw):
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _axis(dim, x=None):
    """NumPy's axis for a ``dim`` argument (a 0-d input accepts dim 0 and -1: all of it)."""
    if x is not None and x.ndim == 0:
        return None
    return tuple(dim) if isinstance(dim, list) else dim


def _dim_errors(dtype="float32"):
    return [ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "dim 2 of a 2-d tensor", dtype),
            ErrorInput(lambda g: Sample(g.array((2, 3)), (0, 0)), RuntimeError, "the same dim twice", dtype)]


def _dims_sample(multi=True, domain=D, keepdim=True, unique=False, min_size=None, with_dtype=False):
    def sample(g):
        shape = g.shape(min_size=min_size)
        x = g.array(shape, domain, unique=unique and g.purpose != "forward")
        dim = reduction_dims(g, len(shape), multi)
        s = Sample(x) if dim is None and g.boolean() else Sample(x, dim)
        if keepdim and len(s.args) == 2 and g.boolean():
            s.kwargs["keepdim"] = True
        if with_dtype and g.integers(0, 3) == 0:
            s.kwargs["dtype"] = g.dtype
        return s
    return sample


def _sum_ref(x, dim=None, keepdim=False, dtype=None):
    return np.sum(x, axis=_axis(dim, x), keepdims=keepdim)


def _mean_ref(x, dim=None, keepdim=False, dtype=None):
    return np.mean(x, axis=_axis(dim, x), keepdims=keepdim)


# ---- prod -------------------------------------------------------------------------------------

def _prod_sample(g):
    shape = g.shape()
    dom = Domain(-2, 2) if g.kind == "float" else Domain(-3, 3)
    x = g.array(shape, dom)
    if x.size and g.kind == "float" and g.integers(0, 2) == 0:
        flat = x.reshape(-1)
        flat[g.integers(0, flat.size - 1)] = 0.0        # the gradient's exact path for zeros
    if g.boolean():
        return Sample(x)
    s = Sample(x, g.dim(len(shape)))
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _prod_ref(x, dim=None, keepdim=False, dtype=None):
    if x.ndim == 0:
        return x.copy()
    return np.prod(x, axis=dim, keepdims=keepdim if dim is not None else False)


# ---- max / min ----------------------------------------------------------------------------------

def _extreme_sample(g):
    forward = g.purpose == "forward"
    shape = g.shape(min_size=1)
    dom = TIES if forward else D
    x = g.array(shape, dom, unique=not forward)
    variant = g.integers(0, 2) if g.purpose != "broadcast" else 2
    if variant == 0:
        return Sample(x)
    if variant == 1:
        s = Sample(x, g.dim(len(shape)))
        if g.boolean():
            s.kwargs["keepdim"] = True
        return s
    sa, sb = g.shapes(2, min_size=1)
    return Sample(g.array(sa, TIES if forward else EVEN), g.array(sb, TIES if forward else ODD))


def _extreme_ref(kind):
    red, arg, elementwise = (np.max, np.argmax, np.maximum) if kind == "max" else (np.min, np.argmin, np.minimum)

    def ref(x, dim=None, keepdim=False):
        if isinstance(dim, np.ndarray):
            return elementwise(x, dim)
        if dim is None:
            return red(x)
        if x.ndim == 0:
            return x.copy(), np.asarray(0, dtype=np.int64)
        return red(x, axis=dim, keepdims=keepdim), arg(x, axis=dim, keepdims=keepdim).astype(np.int64)
    return ref


def _extreme_dtype(d, s):
    if len(s.args) >= 2 and isinstance(s.args[1], int):
        return (d, plugrad.int64)
    return d


def _extreme_errors(kind):
    return [ErrorInput(lambda g: Sample(g.array((0, 3))), RuntimeError, f"{kind} of an empty tensor without dim"),
            ErrorInput(lambda g: Sample(g.array((0, 3)), 0), IndexError, f"{kind} over a size-0 dim"),
            ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "dim 2 of a 2-d tensor")]


def _amax_sample(g):
    shape = g.shape(min_size=1)
    forward = g.purpose == "forward"
    x = g.array(shape, TIES if forward else D, unique=not forward)
    dim = reduction_dims(g, len(shape))
    s = Sample(x) if dim is None else Sample(x, dim)
    if dim is not None and g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _amax_ref(kind):
    red = np.max if kind == "max" else np.min

    def ref(x, dim=(), keepdim=False):
        axis = None if dim in ((), []) else _axis(dim)
        if x.ndim == 0:
            return x.copy()
        return red(x, axis=axis, keepdims=keepdim)
    return ref


def _aminmax_sample(g):
    s = _amax_sample(g)
    if len(s.args) == 2:
        dim = s.args[1]
        s = Sample(s.args[0], dim=dim if not isinstance(dim, tuple) else dim[0], **s.kwargs)
    return s


def _aminmax_ref(x, dim=None, keepdim=False):
    if x.ndim == 0:
        return x.copy(), x.copy()
    return np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)


def _arg_sample(g):
    shape = g.shape(min_size=1)
    x = g.array(shape, TIES)
    if g.boolean():
        return Sample(x)
    s = Sample(x, g.dim(len(shape)))
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _arg_ref(fn):
    def ref(x, dim=None, keepdim=False):
        if x.ndim == 0:
            return np.asarray(0, dtype=np.int64)
        r = fn(x, axis=dim)
        if keepdim:
            r = np.asarray(r).reshape([1] * x.ndim if dim is None else
                                      [1 if i == dim % x.ndim else n for i, n in enumerate(x.shape)])
        return np.asarray(r, dtype=np.int64)
    return ref


def _arg_errors(name):
    return [ErrorInput(lambda g: Sample(g.array((0,))), IndexError, f"{name} of an empty tensor"),
            ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, f"{name} of a bool tensor", "bool")]


# ---- var / std ------------------------------------------------------------------------------------

def _var_sample(g):
    shape = g.shape(min_size=1)
    x = g.array(shape, D, unique=True)
    dim = reduction_dims(g, len(shape))
    axes = range(len(shape)) if dim is None else ([dim] if isinstance(dim, int) else dim)
    n = int(np.prod([shape[a] for a in axes])) if shape else 1
    variant = g.integers(0, 2)
    c = [1, 0, 0][variant] if variant < 2 else g.choice([0, 1, 2])
    g.assume(n > c and (n >= 2 or g.purpose == "forward"))
    s = Sample(x, dim) if dim is not None else Sample(x)
    if variant == 1:
        s.kwargs["unbiased"] = False
    elif variant == 2:
        s.kwargs["correction"] = c
    if dim is not None and g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _var_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return np.var(x, axis=_axis(dim, x), ddof=_correction(unbiased, correction), keepdims=keepdim)


def _std_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return np.std(x, axis=_axis(dim, x), ddof=_correction(unbiased, correction), keepdims=keepdim)


def _var_mean_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _var_ref(x, dim, unbiased, keepdim, correction), np.mean(x, axis=_axis(dim, x), keepdims=keepdim)


def _std_mean_ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return _std_ref(x, dim, unbiased, keepdim, correction), np.mean(x, axis=_axis(dim, x), keepdims=keepdim)


_VAR_TOL = {"float16": (1e-2, 2e-2)}
_FLOAT_ONLY = [ErrorInput(lambda g: Sample(g.array((2, 3))), RuntimeError, "an integer input", "int64")]
#: softmax's dim has no default (torch.softmax(x) is a TypeError)
_FLOAT_ONLY_ALONG_DIM = [ErrorInput(lambda g: Sample(g.array((2, 3)), 1), RuntimeError, "an integer input", "int64")]


def _logic_dtype(d, s):
    """all/any give bool, except for uint8 input, which gives uint8 (PyTorch's legacy rule)."""
    return d if d == plugrad.uint8 else plugrad.bool


# ---- cumulative -------------------------------------------------------------------------------------

def _scan_sample(zeros):
    def sample(g):
        shape = g.shape()
        x = g.array(shape, Domain(-2, 2) if g.kind == "float" else Domain(-3, 3))
        if zeros and x.size and g.kind == "float" and g.integers(0, 2) == 0:
            x.reshape(-1)[g.integers(0, x.size - 1)] = 0.0
        s = Sample(x, g.dim(len(shape)))
        if g.integers(0, 3) == 0:
            s.kwargs["dtype"] = g.dtype
        return s
    return sample


def _scan_ref(fn):
    def ref(x, dim, dtype=None):
        if x.ndim == 0:
            return x.copy()
        return fn(x, axis=dim)
    return ref


# ---- logsumexp / softmax ---------------------------------------------------------------------------

def _lse_sample(g):
    shape = g.shape()
    x = g.array(shape, D)
    dim = reduction_dims(g, len(shape))
    s = Sample(x, g.dim(len(shape)) if dim is None else dim)
    if g.boolean():
        s.kwargs["keepdim"] = True
    return s


def _lse_ref(x, dim, keepdim=False):
    if x.ndim == 0:
        return x.copy()
    axis = _axis(dim)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdim))
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=axis)


def _softmax_sample(g):
    shape = g.shape()
    return Sample(g.array(shape, D), g.dim(len(shape)))


def _softmax_ref(log):
    def ref(x, dim):
        if x.ndim == 0:
            return np.zeros_like(x) if log else np.ones_like(x)
        if x.size == 0:
            return x.copy()
        shifted = x - np.max(x, axis=dim, keepdims=True)
        lse = np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        return shifted - lse if log else np.exp(shifted - lse)
    return ref


# ---- sum_to / count_nonzero / norm -------------------------------------------------------------------

def _sum_to_sample(g):
    shape = g.shape()
    lead = g.integers(0, len(shape))
    target = tuple(1 if g.integers(0, 2) == 0 else n for n in shape[lead:])
    return Sample(g.array(shape), target)


def _sum_to_ref(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def _count_sample(g):
    shape = g.shape()
    x = g.array(shape, TIES)
    return Sample(x) if g.boolean() else Sample(x, g.dim(len(shape)))


def _count_ref(x, dim=None):
    return np.asarray(np.count_nonzero(x, axis=_axis(dim, x)), dtype=np.int64)


_INF = float("inf")


def _norm_sample(g):
    shape = g.shape(min_size=1) if g.purpose != "forward" else g.shape()
    p = g.choice(["fro", 2, 1, _INF, 3])
    if g.purpose == "forward":
        x = g.array(shape, D)
    else:
        # magnitudes distinct and away from 0: no kink of |x|, no tie of the max
        mags = g.array(shape, Domain(0.25, 4), unique=True)
        signs = np.array([1.0 if g.boolean() else -1.0 for _ in range(mags.size)]).reshape(shape)
        x = np.asarray(mags * signs)
    dim = reduction_dims(g, len(shape)) if len(shape) else None
    s = Sample(x, p)
    if dim is not None:
        s.kwargs["dim"] = dim
        if g.boolean():
            s.kwargs["keepdim"] = True
    if p == _INF and x.size == 0:
        g.assume(False)
    return s


def _norm_ref(x, p="fro", dim=None, keepdim=False, dtype=None):
    axis = _axis(dim)
    a = np.abs(x)
    if p in ("fro", 2):
        return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdim))
    if p == _INF:
        return np.max(a, axis=axis, keepdims=keepdim)
    if p == 1:
        return np.sum(a, axis=axis, keepdims=keepdim)
    return np.sum(a ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)


ENTRIES = [
    _r("sum", _sum_ref, _dims_sample(with_dtype=True), dtypes=ALL, result_dtype=INT_TO_INT64, tol=SUM_TOL,
       errors=_dim_errors() + [ErrorInput(lambda g: Sample([1.0, 2.0]), TypeError, "a list instead of a tensor")]),
    _r("mean", _mean_ref, _dims_sample(), tol=SUM_TOL, errors=_dim_errors() + _FLOAT_ONLY),
    _r("prod", _prod_ref, _prod_sample, dtypes=ALL, result_dtype=INT_TO_INT64, tol=SUM_TOL,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "dim 2 of a 2-d tensor")]),
    _r("max", _extreme_ref("max"), _extreme_sample, dtypes=ALL, result_dtype=_extreme_dtype,
       out_when=lambda s: len(s.args) == 2, errors=_extreme_errors("max")),
    _r("min", _extreme_ref("min"), _extreme_sample, dtypes=ALL, result_dtype=_extreme_dtype,
       out_when=lambda s: len(s.args) == 2, errors=_extreme_errors("min")),
    _r("amax", _amax_ref("max"), _amax_sample, dtypes=ALL, errors=_dim_errors()),
    _r("amin", _amax_ref("min"), _amax_sample, dtypes=ALL, errors=_dim_errors()),
    _r("aminmax", _aminmax_ref, _aminmax_sample, dtypes=ALL, result_dtype=lambda d, s: (d, d)),
    _r("argmax", _arg_ref(np.argmax), _arg_sample, dtypes=NUMERIC, result_dtype=TO_INT64, differentiable=False,
       errors=_arg_errors("argmax")),
    _r("argmin", _arg_ref(np.argmin), _arg_sample, dtypes=NUMERIC, result_dtype=TO_INT64, differentiable=False,
       errors=_arg_errors("argmin")),
    _r("var", _var_ref, _var_sample, tol=_VAR_TOL, errors=_dim_errors() + _FLOAT_ONLY),
    _r("std", _std_ref, _var_sample, tol=_VAR_TOL, errors=_dim_errors() + _FLOAT_ONLY),
    _r("var_mean", _var_mean_ref, _var_sample, tol=_VAR_TOL, result_dtype=lambda d, s: (d, d)),
    _r("std_mean", _std_mean_ref, _var_sample, tol=_VAR_TOL, result_dtype=lambda d, s: (d, d)),
    _r("all", lambda x, dim=None, keepdim=False: np.all(x, axis=_axis(dim, x), keepdims=keepdim),
       _dims_sample(multi=False, domain=TIES), dtypes=ALL, result_dtype=_logic_dtype, differentiable=False),
    _r("any", lambda x, dim=None, keepdim=False: np.any(x, axis=_axis(dim, x), keepdims=keepdim),
       _dims_sample(multi=False, domain=TIES), dtypes=ALL, result_dtype=_logic_dtype, differentiable=False),
    _r("count_nonzero", _count_ref, _count_sample, dtypes=ALL, result_dtype=TO_INT64, differentiable=False),
    _r("cumsum", _scan_ref(np.cumsum), _scan_sample(False), dtypes=ALL, result_dtype=INT_TO_INT64, tol=SUM_TOL,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "dim 2 of a 2-d tensor")]),
    _r("cumprod", _scan_ref(np.cumprod), _scan_sample(True), dtypes=ALL, result_dtype=INT_TO_INT64,
       tol=SUM_TOL),
    _r("logsumexp", _lse_ref, _lse_sample, dtypes=NUMERIC, result_dtype=TO_FLOAT, tol=SUM_TOL,
       errors=_dim_errors()),
    _r("softmax", _softmax_ref(False), _softmax_sample, errors=_FLOAT_ONLY_ALONG_DIM),
    _r("log_softmax", _softmax_ref(True), _softmax_sample, errors=_FLOAT_ONLY_ALONG_DIM, tol=SUM_TOL),
    _r("sum_to", _sum_to_ref, _sum_to_sample, tol=SUM_TOL),
    _r("norm", _norm_ref, _norm_sample, tol=SUM_TOL),
]

__all__ = ["ENTRIES"]
