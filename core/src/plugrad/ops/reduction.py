"""Reductions over dims: sum, mean, prod, max/min, arg max/min, var/std, any/all,
cumulative sums and products, logsumexp, softmax and log_softmax."""

from __future__ import annotations

from collections import namedtuple

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import arange, eye, zeros
from ..dtypes import bool_, dtype as dtype_, int64, uint8
from ..layout import normalize_dim, numel, reduced_shape
from ..optable import ops
from ..tensor import Tensor, empty_like_layout, make
from .checks import check_bool, check_dim, check_floating, check_int, check_tensor
from .dispatch import ALL_DIMS, cast, write_out
from .elementwise import exp, log, where
from .views import expand_to
from .declare import declare

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "var_mean",
           "std_mean", "all", "any", "cumsum", "cumprod", "logsumexp", "softmax", "log_softmax", "sum_to",
           "count_nonzero", "norm", "aminmax"]

def _values_indices_type(name):
    """The (values, indices) result of max/min(dim), printed as PyTorch prints it."""
    cls = namedtuple(name, ["values", "indices"])
    cls.__repr__ = lambda self: f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    return cls


_values_indices = {name: _values_indices_type(name) for name in ("max", "min")}


# ---- helpers ------------------------------------------------------------------------

def reduce_axes(dim, ndim: int, fname: str, empty_is_all: bool = True) -> tuple:
    """Normalised, sorted axes of a ``dim`` argument. None means every dim, and so does an
    empty tuple or list, as in PyTorch's sum, mean, amax, var... (``all`` and ``any``, which
    pass ``empty_is_all=False``, reduce no dim for it)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if not dim and empty_is_all:
            return tuple(range(ndim))
        axes = []
        for d in dim:
            a = normalize_dim(d, ndim)
            if a in axes:
                raise RuntimeError(f"{fname}(): dim {a} appears multiple times in the list of dims")
            axes.append(a)
        return tuple(sorted(axes)) if ndim else ()  # dim 0 (or -1) of a 0-d tensor is the tensor itself
    axis = normalize_dim(dim, ndim)        # a 0-d tensor accepts dims -1 and 0: the tensor itself
    return (axis,) if ndim else ()


def run_reduce(op: str, x: Tensor, axes: tuple, keepdim: bool, out_dtype=None) -> Tensor:
    """Call the reduce kernel; the result has the reduced (or keepdim) shape."""
    backend = x._backend
    od = out_dtype or x._dtype
    if len(axes) == len(x._shape):   # every dim (axes are normalised and distinct): sum(), mean()...
        kd_shape = (1,) * len(axes)
        shape = kd_shape if keepdim else ()
    else:
        kd_shape = reduced_shape(x._shape, axes, True)
        shape = kd_shape if keepdim else reduced_shape(x._shape, axes, False)
    r = empty_like_layout(backend, shape, od)
    kernel_out = r._a if shape == kd_shape else backend.reshape(r._a, kd_shape)
    if axes:
        backend.reduce(op, x._a, axes, kernel_out)
    else:
        backend.copy(x._a, kernel_out)
    return r


def _expand_back(g: Tensor, in_shape: tuple, axes: tuple, keepdim: bool) -> Tensor:
    """Gradient of a reduction, brought back to the input's shape."""
    if not keepdim and axes:
        g = g.reshape(reduced_shape(in_shape, axes, True))
    return expand_to(g, in_shape)


_LEADING_AXES = tuple(tuple(range(n)) for n in range(9))


def sum_to(g: Tensor, shape: tuple) -> Tensor:
    """Sum ``g`` down to ``shape`` (undoing a broadcast): the one place gradients are
    un-broadcast."""
    gshape = g._shape
    lead = len(gshape) - len(shape)
    axes = _LEADING_AXES[lead] if lead < len(_LEADING_AXES) else tuple(range(lead))
    if shape:
        axes += tuple(i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1)
    if not axes:
        return g.reshape(shape) if gshape != shape else g
    if not STATE.enabled:
        # no double backward being recorded: one kernel straight into the target shape
        backend = g._backend
        r = empty_like_layout(backend, shape, g._dtype)
        kd_shape = (1,) * lead + shape if lead else shape
        backend.reduce("sum", g._a, axes, r._a if kd_shape == shape else backend.reshape(r._a, kd_shape))
        return r
    r = sum(g, axes, keepdim=True)
    return r.reshape(shape) if r._shape != shape else r


# ---- sum / mean / prod -------------------------------------------------------------

class SumBackward0(Node):
    """d sum(a) = g broadcast to a's shape"""
    __slots__ = ("shape",)

    def backward(self, g):
        return (expand_to(g, self.shape),)


class SumBackward1(Node):
    """d sum(a, dims) = g broadcast back over dims"""
    __slots__ = ("shape", "axes", "keepdim")

    def backward(self, g):
        return (_expand_back(g, self.shape, self.axes, self.keepdim),)


@declare(method=True)
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """Sum over ``dim`` (all dims by default); bool and int inputs sum in int64."""
    if not isinstance(input, Tensor):
        check_tensor(input, "sum", "input")
    if type(keepdim) is not bool:
        check_bool(keepdim, "sum", "keepdim")
    axes = reduce_axes(dim, len(input._shape), "sum")
    od = dtype or (int64 if not input._dtype.is_floating_point else input._dtype)
    x = cast(input, od)
    r = run_reduce("sum", x, axes, keepdim)
    if STATE.enabled and input._requires_grad:
        if dim is None:
            node = SumBackward0()
            node.shape = input._shape
        else:
            node = SumBackward1()
            node.shape, node.axes, node.keepdim = input._shape, axes, keepdim
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "sum")


class MeanBackward0(Node):
    """d mean(a) = g / n broadcast"""
    __slots__ = ("shape", "n")

    def backward(self, g):
        if not STATE.enabled:
            # no double backward being recorded: g / n broadcast by the kernel straight into a
            # new tensor of the input's shape (the same values as dividing, then expanding)
            backend = g._backend
            r = empty_like_layout(backend, self.shape, g._dtype)
            backend.binary("div", g._a, g._dtype._py(self.n), r._a)
            return (r,)
        return (expand_to(g / self.n, self.shape),)


class MeanBackward1(Node):
    """d mean(a, dims) = g / n broadcast back over dims"""
    __slots__ = ("shape", "axes", "keepdim", "n")

    def backward(self, g):
        return (_expand_back(g / self.n, self.shape, self.axes, self.keepdim),)


@declare(method=True)
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """Average over ``dim`` (all dims by default); needs a floating dtype."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "mean", "keepdim")
    od = dtype or input._dtype
    if not isinstance(od, dtype_):
        raise TypeError(f"mean(): argument 'dtype' must be a dtype (like plugrad.float32), not {type(od).__name__}")
    if not od.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {input._dtype.name.capitalize()}")
    if dim is None:   # loss.mean(): every dim, n the number of elements
        axes = _LEADING_AXES[len(input._shape)] if len(input._shape) < len(_LEADING_AXES) \
            else tuple(range(len(input._shape)))
        n = numel(input._shape)
    else:
        axes = reduce_axes(dim, len(input._shape), "mean")
        n = 1
        for a in axes:
            n *= input._shape[a]
    x = input if od is input._dtype else cast(input, od)
    r = run_reduce("sum", x, axes, keepdim)
    r._backend.binary("div", r._a, float(n) if n else float("nan"), r._a)
    if STATE.enabled and input._requires_grad:
        if dim is None:
            node = MeanBackward0()
            node.shape, node.n = input._shape, n
        else:
            node = MeanBackward1()
            node.shape, node.axes, node.keepdim, node.n = input._shape, axes, keepdim, n
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "mean")


class ProdBackward0(Node):
    """d prod(a) = g * prod of the other elements (exact with zeros)"""
    __slots__ = ("shape", "axes", "keepdim")

    def backward(self, g):
        x, result = self.saved_tensors
        result = self.output_alias(result)
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        res = _expand_back(result, self.shape, self.axes, self.keepdim)
        zero = x == 0
        if not bool(zero.any()):
            return (g * res / x,)
        # with zeros: product of the others, computed without dividing
        others = _prod_of_others(x, self.axes)
        return (g * others,)


class ProdBackward1(ProdBackward0):
    """d prod(a, dim) = g * prod of the other elements along dim"""


def _prod_of_others(x: Tensor, axes: tuple) -> Tensor:
    """For every element, the product of the other elements in its reduction group."""
    keep = [d for d in range(x.dim()) if d not in axes]
    perm = keep + list(axes)
    xp = x.permute(perm)
    lead = [x._shape[d] for d in keep]
    n = numel([x._shape[d] for d in axes])
    flat = xp.reshape(lead + [n])
    ones = flat[..., :1] * 0 + 1
    left = cumprod(flat[..., :-1], -1) if n > 1 else flat[..., :0]
    left = _cat_last(ones, left)
    rev = flat.flip(-1)
    right = cumprod(rev[..., :-1], -1) if n > 1 else rev[..., :0]
    right = _cat_last(ones, right).flip(-1)
    others = (left * right).reshape([x._shape[d] for d in perm])
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return others.permute(inv)


def _cat_last(a, b):
    return ops.cat([a, b], -1)


@declare(method=True)
def prod(input, dim=ALL_DIMS, keepdim=False, *, dtype=None) -> Tensor:
    """Product over one ``dim`` (of every element when left out); ints multiply in int64."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "prod", "keepdim")
    if dim is ALL_DIMS:
        if keepdim:
            raise TypeError("prod(): argument 'keepdim' needs a 'dim' to reduce")
        dim = None
    else:
        check_int(dim, "prod", "dim")
    od = dtype or (int64 if not input._dtype.is_floating_point else input._dtype)
    axes = reduce_axes(dim, len(input._shape), "prod")
    r = run_reduce("prod", cast(input, od), axes, keepdim)
    if STATE.enabled and input._requires_grad:
        node = ProdBackward0() if dim is None else ProdBackward1()
        node.shape, node.axes, node.keepdim = input._shape, axes, keepdim if dim is not None else False
        node.save(input, r.detach())
        record(node, (input,), r)
    return r


# ---- max / min -----------------------------------------------------------------------

class MaxBackward1(Node):
    """d max(a) = g shared equally among the elements equal to the max"""
    __slots__ = ("shape", "axes", "keepdim")

    def backward(self, g):
        x, result = self.saved_tensors
        return (_share_among_extremes(x, result, g, self.shape, self.axes, self.keepdim),)


def _share_among_extremes(x, result, g, shape, axes, keepdim):
    """The gradient of an extreme value: ``g`` split equally among the elements of
    ``x`` that equal it."""
    res = _expand_back(result, shape, axes, keepdim)
    mask = (x == res)
    count = _expand_back(sum(mask, axes, keepdim=keepdim), shape, axes, keepdim)
    return where(mask, _expand_back(g, shape, axes, keepdim) / count, 0.0)


class MinBackward1(MaxBackward1):
    """d min(a) = g shared equally among the elements equal to the min"""


class AmaxBackward0(MaxBackward1):
    """d amax(a, dims) = g shared equally among the maxima"""


class AminBackward0(MaxBackward1):
    """d amin(a, dims) = g shared equally among the minima"""


class MaxBackward0(Node):
    """d max(a, dim) = g at the index of the max, 0 elsewhere"""
    __slots__ = ("shape", "dim", "keepdim")

    def backward(self, g):
        (indices,) = self.saved_tensors
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            indices = indices.unsqueeze(self.dim)
        return (ops.scatter(zeros(self.shape, dtype=g._dtype, device=g.device), self.dim, indices, g),)


class MinBackward0(MaxBackward0):
    """d min(a, dim) = g at the index of the min, 0 elsewhere"""


def _extreme(kind, input, dim, keepdim, out):
    if isinstance(dim, Tensor):
        return (ops.maximum if kind == "max" else ops.minimum)(input, dim, out=out)
    if type(keepdim) is not bool:
        check_bool(keepdim, kind, "keepdim")
    if dim is ALL_DIMS:
        if keepdim:
            raise TypeError(f"{kind}(): argument 'keepdim' needs a 'dim' to reduce")
        if numel(input._shape) == 0:
            raise RuntimeError(f"{kind}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.")
        axes = tuple(range(len(input._shape)))
        r = run_reduce(kind, input, axes, False)
        if STATE.enabled and input._requires_grad:
            node = (MaxBackward1 if kind == "max" else MinBackward1)()
            node.shape, node.axes, node.keepdim = input._shape, axes, False
            node.save(input, r.detach())
            record(node, (input,), r)
        return r if out is None else write_out(out, r, kind)
    d = normalize_dim(check_int(dim, kind, "dim"), len(input._shape))
    if input._shape and input._shape[d] == 0:
        raise IndexError(f"{kind}(): Expected reduction dim {d} to have non-zero size.")
    axes = (d,) if input._shape else ()
    values = run_reduce(kind, input, axes, keepdim)
    indices = _arg(("argmax" if kind == "max" else "argmin"), input, d, keepdim)
    if STATE.enabled and input._requires_grad:
        node = (MaxBackward0 if kind == "max" else MinBackward0)()
        node.shape, node.dim, node.keepdim = input._shape, d, keepdim
        node.save(indices)
        record(node, (input,), values)
    result = _values_indices[kind](values, indices)
    if out is not None:
        write_out(out[0], values, kind)
        write_out(out[1], indices, kind)
        return _values_indices[kind](out[0], out[1])
    return result


@declare
def max(input, dim=ALL_DIMS, keepdim=False, *, out=None):
    """The largest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise maximum."""
    return _extreme("max", input, dim, keepdim, out)


@declare
def min(input, dim=ALL_DIMS, keepdim=False, *, out=None):
    """The smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise minimum."""
    return _extreme("min", input, dim, keepdim, out)


def _amaxmin(kind, input, dim, keepdim):
    if type(keepdim) is not bool:
        check_bool(keepdim, "a" + kind, "keepdim")
    if (dim is None or (isinstance(dim, (tuple, list)) and not dim)) and numel(input._shape) == 0:
        raise RuntimeError(f"a{kind}(): Expected reduction dim to be specified for input.numel() == 0. "
                           f"Specify the reduction dim with the 'dim' argument.")
    axes = reduce_axes(dim, len(input._shape), "a" + kind)
    for a in axes:
        if input._shape[a] == 0:
            raise IndexError(f"a{kind}(): Expected reduction dim {a} to have non-zero size.")
    r = run_reduce(kind, input, axes, keepdim)
    if STATE.enabled and input._requires_grad:
        node = (AmaxBackward0 if kind == "max" else AminBackward0)()
        node.shape, node.axes, node.keepdim = input._shape, axes, keepdim
        node.save(input, r.detach())
        record(node, (input,), r)
    return r


@declare(method=True)
def amax(input, dim=(), keepdim=False) -> Tensor:
    """Maximum over dims (gradient shared among ties)."""
    return _amaxmin("max", input, dim, keepdim)


@declare(method=True)
def amin(input, dim=(), keepdim=False) -> Tensor:
    """Minimum over dims (gradient shared among ties)."""
    return _amaxmin("min", input, dim, keepdim)


class AminmaxBackward0(Node):
    """d aminmax(a) = g_min shared among the minima + g_max shared among the maxima"""
    __slots__ = ("shape", "axes", "keepdim")
    n_outputs = 2

    def backward(self, g_min, g_max):
        x, lo, hi = self.saved_tensors
        parts = [_share_among_extremes(x, r, g, self.shape, self.axes, self.keepdim)
                 for r, g in ((lo, g_min), (hi, g_max)) if g is not None]
        return (parts[0] if len(parts) == 1 else parts[0] + parts[1],)


_aminmax_result = namedtuple("aminmax", ["min", "max"])
_aminmax_result.__repr__ = lambda self: f"torch.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


@declare(method=True)
def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (all elements when None) in one pass of the graph."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "aminmax", "keepdim")
    if dim is not None:
        check_int(dim, "aminmax", "dim")
    if dim is None and numel(input._shape) == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    axes = reduce_axes(dim, len(input._shape), "aminmax")
    for a in axes:
        if input._shape[a] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {a} to have non-zero size.")
    lo = run_reduce("min", input, axes, keepdim)
    hi = run_reduce("max", input, axes, keepdim)
    if STATE.enabled and input._requires_grad:
        node = AminmaxBackward0()
        node.shape, node.axes, node.keepdim = input._shape, axes, keepdim
        node.save(input, lo.detach(), hi.detach())
        record(node, (input,), (lo, hi))
    return _aminmax_result(lo, hi)


def _arg(op, input, d, keepdim):
    backend = input._backend
    if not input._shape:
        return make(backend, _zero_index(backend), (), int64)
    kd_shape = reduced_shape(input._shape, (d,), True)
    shape = kd_shape if keepdim else reduced_shape(input._shape, (d,), False)
    arr = backend.empty(shape, int64)
    backend.arg_reduce(op, input._a, d, arr if shape == kd_shape else backend.reshape(arr, kd_shape))
    return make(backend, arr, shape, int64)


def _zero_index(backend):
    arr = backend.empty((), int64)
    backend.fill(arr, 0)
    return arr


@declare(method=True)
def argmax(input, dim=None, keepdim=False) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    return _argext("argmax", input, dim, keepdim)


@declare(method=True)
def argmin(input, dim=None, keepdim=False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    return _argext("argmin", input, dim, keepdim)


def _argext(op, input, dim, keepdim):
    if type(keepdim) is not bool:
        check_bool(keepdim, op, "keepdim")
    if dim is not None:
        check_int(dim, op, "dim")
    if input._dtype is bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    if dim is None and numel(input._shape) == 0:
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is not None and input._shape and input._shape[normalize_dim(dim, input.dim())] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {normalize_dim(dim, input.dim())} to have non-zero size.")
    if dim is None:
        flat = input.reshape(-1)
        r = _arg(op, flat, 0, False)
        return r.reshape([1] * input.dim()) if keepdim else r
    return _arg(op, input, normalize_dim(dim, input.dim()), keepdim)


# ---- var / std --------------------------------------------------------------------

def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased else 0


class VarBackward0(Node):
    """d var(a) = g * 2 (a - mean) / (n - correction)"""
    __slots__ = ("axes", "keepdim", "denom")

    def backward(self, g):
        (x,) = self.saved_tensors
        centered = x - mean(x, self.axes, keepdim=True)
        return (_expand_back(g, x._shape, self.axes, self.keepdim) * 2 * centered / self.denom,)


class StdBackward0(Node):
    """d std(a) = g (a - mean) / ((n - correction) std)"""
    __slots__ = ("axes", "keepdim", "denom")

    def backward(self, g):
        (x, result) = self.saved_tensors
        result = self.output_alias(result)
        centered = x - mean(x, self.axes, keepdim=True)
        res = _expand_back(result, x._shape, self.axes, self.keepdim)
        return (_expand_back(g, x._shape, self.axes, self.keepdim) * centered / (self.denom * res),)


def _var_impl(input, dim, unbiased, keepdim, correction, fname):
    if type(dim) is bool:  # var(x, False) is the legacy var(x, unbiased=False)
        unbiased, dim = dim, None
    if type(unbiased) is not bool:
        check_bool(unbiased, fname, "unbiased")
    if type(keepdim) is not bool:
        check_bool(keepdim, fname, "keepdim")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"{fname}(): input dtype should be a floating point dtype, got {input._dtype!r}")
    c = _correction(unbiased, correction)
    axes = reduce_axes(dim, len(input._shape), fname)
    n = 1
    for a in axes:
        n *= input._shape[a]
    denom = n - c
    with no_grad():
        centered = input - mean(input, axes, keepdim=True)
        squares = sum(centered * centered, axes, keepdim=keepdim)
        # no degrees of freedom left: PyTorch divides by max(0, n - correction), giving inf (nan for 0/0)
        v = squares / (denom if denom > 0 else 0)
    return v, axes, denom


@declare(method=True)
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    v, axes, denom = _var_impl(input, dim, unbiased, keepdim, correction, "var")
    if STATE.enabled and input._requires_grad:
        node = VarBackward0()
        node.axes, node.keepdim, node.denom = axes, keepdim, denom
        node.save(input)
        record(node, (input,), v)
    return v


@declare(method=True)
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None) -> Tensor:
    """Standard deviation over ``dim`` (``correction=1`` by default)."""
    v, axes, denom = _var_impl(input, dim, unbiased, keepdim, correction, "std")
    with no_grad():
        s = v.sqrt()
    if STATE.enabled and input._requires_grad:
        node = StdBackward0()
        node.axes, node.keepdim, node.denom = axes, keepdim, denom
        node.save(input, s.detach())
        record(node, (input,), s)
    return s


class VarMeanBackward0(Node):
    """d (var(a), mean(a)) = g_var 2 (a - mean) / (n - correction) + g_mean / n"""
    __slots__ = ("axes", "keepdim", "denom", "n")
    n_outputs = 2

    def backward(self, g_var, g_mean):
        (x,) = self.saved_tensors
        grad = None
        if g_var is not None:
            centered = x - mean(x, self.axes, keepdim=True)
            grad = _expand_back(g_var, x._shape, self.axes, self.keepdim) * 2 * centered / self.denom
        return (_add_mean_part(grad, g_mean, x._shape, self.axes, self.keepdim, self.n),)


class StdMeanBackward0(Node):
    """d (std(a), mean(a)) = g_std (a - mean) / ((n - correction) std) + g_mean / n"""
    __slots__ = ("axes", "keepdim", "denom", "n")
    n_outputs = 2

    def backward(self, g_std, g_mean):
        x, result = self.saved_tensors
        grad = None
        if g_std is not None:
            centered = x - mean(x, self.axes, keepdim=True)
            res = _expand_back(self.output_alias(result, 0), x._shape, self.axes, self.keepdim)
            grad = _expand_back(g_std, x._shape, self.axes, self.keepdim) * centered / (self.denom * res)
        return (_add_mean_part(grad, g_mean, x._shape, self.axes, self.keepdim, self.n),)


def _add_mean_part(grad, g_mean, shape, axes, keepdim, n):
    if g_mean is None:
        return grad
    part = _expand_back(g_mean / n, shape, axes, keepdim)
    return part if grad is None else grad + part


def _moments(kind, node_cls, input, dim, unbiased, keepdim, correction):
    v, axes, denom = _var_impl(input, dim, unbiased, keepdim, correction, kind)
    n = 1
    for a in axes:
        n *= input._shape[a]
    with no_grad():
        first = v.sqrt() if kind == "std_mean" else v
        m = mean(input, axes or None, keepdim)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.axes, node.keepdim, node.denom, node.n = axes, keepdim, denom, n
        if kind == "std_mean":
            node.save(input, first.detach())
        else:
            node.save(input)
        record(node, (input,), (first, m))
    return first, m


@declare
def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, as one node of the graph."""
    return _moments("var_mean", VarMeanBackward0, input, dim, unbiased, keepdim, correction)


@declare
def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, as one node of the graph."""
    return _moments("std_mean", StdMeanBackward0, input, dim, unbiased, keepdim, correction)


# ---- any / all / count ------------------------------------------------------------------

@declare(method=True)
def all(input, dim=None, keepdim=False) -> Tensor:
    """True where every element along ``dim`` is non-zero."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "all", "keepdim")
    axes = reduce_axes(dim, len(input._shape), "all", empty_is_all=False)
    r = run_reduce("all", cast(input, bool_), axes, keepdim)
    return cast(r, uint8) if input._dtype is uint8 else r  # uint8 in, uint8 out (PyTorch's legacy rule)


@declare(method=True)
def any(input, dim=None, keepdim=False) -> Tensor:
    """True where some element along ``dim`` is non-zero."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "any", "keepdim")
    axes = reduce_axes(dim, len(input._shape), "any", empty_is_all=False)
    r = run_reduce("any", cast(input, bool_), axes, keepdim)
    return cast(r, uint8) if input._dtype is uint8 else r


@declare(method=True)
def count_nonzero(input, dim=None) -> Tensor:
    return sum(cast(input, bool_), dim)


# ---- cumulative --------------------------------------------------------------------------

class CumsumBackward0(Node):
    """d cumsum(a) = reversed cumulative sum of g"""
    __slots__ = ("dim",)

    def backward(self, g):
        return (sum(g, self.dim, keepdim=True) - cumsum(g, self.dim) + g,)


class CumprodBackward0(Node):
    """d cumprod(a)_i = sum over j >= i of g_j * prod_{k <= j, k != i} a_k"""
    __slots__ = ("dim",)

    def backward(self, g):
        x, result = self.saved_tensors
        if not x._shape:  # cumprod of a 0-d tensor is the identity
            return (g,)
        result = self.output_alias(result)
        d = self.dim
        if not bool((x == 0).any()):
            gr = g * result
            return ((sum(gr, d, keepdim=True) - cumsum(gr, d) + gr) / x,)
        return (_cumprod_grad_exact(x, g, d),)


def _cumprod_grad_exact(x, g, d):
    """Exact cumprod gradient for inputs with zeros: O(n^2) along ``d``."""
    n = x._shape[d]
    xm = x.movedim(d, -1)
    gm = g.movedim(d, -1)
    eye_n = eye(n, dtype=x._dtype, device=x.device) > 0
    # m[..., i, k] = x_k for k != i, 1 for k == i
    m = where(eye_n, 1.0, xm.unsqueeze(-2).expand(*xm._shape[:-1], n, n))
    partial = cumprod(m, -1)                         # prod_{k <= j, k != i}
    idx = arange(n, device=x.device)
    upper = idx.unsqueeze(0) >= idx.unsqueeze(1)   # [i, j]: j >= i
    contrib = where(upper, gm.unsqueeze(-2) * partial, 0.0)
    return sum(contrib, -1).movedim(-1, d)


def _scan(op, input, dim, dtype):
    d = normalize_dim(dim, len(input._shape))
    od = dtype or (int64 if not input._dtype.is_floating_point else input._dtype)
    x = cast(input, od)
    backend = x._backend
    arr = backend.empty(x._shape, od)
    if x._shape:
        backend.scan(op, x._a, d, arr)
    else:
        backend.copy(x._a, arr)
    return make(backend, arr, x._shape, od), d


@declare(method=True)
def cumsum(input, dim, *, dtype=None) -> Tensor:
    """Running sum along ``dim``."""
    r, d = _scan("cumsum", input, dim, dtype)
    if STATE.enabled and input._requires_grad:
        node = CumsumBackward0()
        node.dim = d
        record(node, (input,), r)
    return r


@declare(method=True)
def cumprod(input, dim, *, dtype=None) -> Tensor:
    """Running product along ``dim``."""
    r, d = _scan("cumprod", input, dim, dtype)
    if STATE.enabled and input._requires_grad:
        node = CumprodBackward0()
        node.dim = d
        node.save(input, r.detach())
        record(node, (input,), r)
    return r


# ---- logsumexp, softmax -------------------------------------------------------------------

class LogsumexpBackward0(Node):
    """d logsumexp(a) = g * exp(a - result)"""
    __slots__ = ("axes", "keepdim")

    def backward(self, g):
        x, result = self.saved_tensors
        res = _expand_back(self.output_alias(result), x._shape, self.axes, self.keepdim)
        return (_expand_back(g, x._shape, self.axes, self.keepdim) * exp(x - res),)


def _stable_max(x, axes, finite=True):
    """The max along ``axes`` to shift by before ``exp``. ``finite``: an infinite max shifts
    by 0 (logsumexp's rule: its result is then +-inf); softmax shifts by the raw max, as
    PyTorch does, so a slice holding +inf, or only -inf, is NaN throughout."""
    if axes and numel(x._shape) == 0:  # an empty slice has no max, and needs no shift
        return x.new_zeros(reduced_shape(x._shape, axes, True))
    m = amax(x, axes, keepdim=True) if axes else x
    return where(m.isinf(), 0.0, m) if finite else m


@declare(method=True)
def logsumexp(input, dim, keepdim=False) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "logsumexp", "keepdim")
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    axes = reduce_axes(dim, len(input._shape), "logsumexp")
    with no_grad():
        x = input if input._dtype.is_floating_point else input.float()
        m = _stable_max(x, axes)
        r = log(sum(exp(x - m), axes, keepdim=True)) + m
        if not keepdim:
            r = r.reshape(reduced_shape(x._shape, axes, False))
    if STATE.enabled and input._requires_grad:
        node = LogsumexpBackward0()
        node.axes, node.keepdim = axes, keepdim
        node.save(input, r.detach())
        record(node, (input,), r)
    return r


class SoftmaxBackward0(Node):
    """d softmax = y * (g - sum(g * y))"""
    __slots__ = ("dim",)

    def backward(self, g):
        (y,) = self.saved_tensors
        y = self.output_alias(y)
        return (y * (g - sum(g * y, self.dim, keepdim=True)),)


class LogSoftmaxBackward0(Node):
    """d log_softmax = g - exp(y) * sum(g)"""
    __slots__ = ("dim",)

    def backward(self, g):
        (y,) = self.saved_tensors
        y = self.output_alias(y)
        return (g - exp(y) * sum(g, self.dim, keepdim=True),)


def _softmax_dim(input, dim, fname):
    """``dim`` normalised; an int is required (nn.functional resolves an implicit one)."""
    if type(dim) is not int:
        dim = check_int(dim, fname, "dim")
    return check_dim(dim, input)


@declare(method=True)
def softmax(input, dim, dtype=None, **_ignored) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    d = _softmax_dim(input, dim, "softmax")
    x = cast(input, dtype) if dtype is not None else input
    check_floating(x, "softmax", "tensor")
    axes = (d,) if x._shape else ()
    with no_grad():
        e = exp(x - _stable_max(x, axes, finite=False))
        r = e / sum(e, axes, keepdim=True) if axes else e / e
    if STATE.enabled and input._requires_grad:
        node = SoftmaxBackward0()
        node.dim = axes
        node.save(r.detach())
        record(node, (input,), r)
    return r


@declare(method=True)
def log_softmax(input, dim, dtype=None, **_ignored) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    d = _softmax_dim(input, dim, "log_softmax")
    x = cast(input, dtype) if dtype is not None else input
    check_floating(x, "log_softmax", "tensor")
    axes = (d,) if x._shape else ()
    with no_grad():
        shifted = x - _stable_max(x, axes, finite=False)
        r = shifted - log(sum(exp(shifted), axes, keepdim=True)) if axes else shifted - shifted
    if STATE.enabled and input._requires_grad:
        node = LogSoftmaxBackward0()
        node.dim = axes
        node.save(r.detach())
        record(node, (input,), r)
    return r


class LinalgVectorNormBackward0(Node):
    """d ||a||_p = g sign(a) |a|^(p-1) / ||a||^(p-1)  (p=1: g sign(a); p=2: g a / ||a||; p=+-inf: g sign(a)
    shared among the elements of extreme |a|; p=0: none). Zero where the norm is zero."""
    __slots__ = ("p", "axes", "keepdim")

    def backward(self, g):
        x, result = self.saved_tensors
        p, axes, keepdim, shape = self.p, self.axes, self.keepdim, x._shape
        g = _expand_back(g, shape, axes, keepdim)
        if p == 0:
            return (None,)  # the count of non-zeros is piecewise constant: no gradient, as in PyTorch
        if p == 1:
            return (g * ops.sign(x),)
        n = _expand_back(self.output_alias(result), shape, axes, keepdim)
        if p in (float("inf"), float("-inf")):
            mask = ops.abs(x) == n
            count = _expand_back(sum(mask, axes, keepdim=True), shape, axes, True)
            return (where(mask, g * ops.sign(x) / count, 0.0),)
        safe = where(n == 0, 1.0, n)  # x is 0 wherever the norm is 0: the gradient there is 0
        if p == 2:
            return (g * x / safe,)
        return (g * ops.sign(x) * ops.abs(x) ** (p - 1) / safe ** (p - 1),)


def _one_element_each(shape, axes) -> bool:
    """Whether a reduction over ``axes`` of ``shape`` gives each result one element."""
    for d in axes:
        if shape[d] != 1:
            return False
    return True


@declare(method=True)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default): ``p`` a number, ``inf``,
    ``-inf``, or "fro" (the 2-norm)."""
    if type(keepdim) is not bool:
        check_bool(keepdim, "norm", "keepdim")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): p={p!r} is not supported; use a number, inf, -inf or 'fro'")
    x = input if dtype is None else input.to(dtype)
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point tensor as input. Got {x._dtype!r}")
    axes = reduce_axes(dim, len(x._shape), "norm")
    p = float(p)
    if p < 0 or p == float("inf"):
        for d in axes:
            if not x._shape[d]:
                raise RuntimeError(f"linalg.vector_norm: the {p} norm has no identity, so it cannot reduce the "
                                   f"empty dim {d} of a tensor of shape {list(x._shape)}")
    with no_grad():
        a = ops.abs(x)
        if p == float("inf") or p != 0 and _one_element_each(x._shape, axes):
            # a norm of one element is its magnitude, whatever p (no |x|**p to overflow or vanish)
            r = amax(a, axes, keepdim)
        elif p == float("-inf"):
            r = amin(a, axes, keepdim)
        elif p == 0:
            r = sum(cast(ops.ne(a, 0), x._dtype), axes, keepdim)
        elif p == 1:
            r = sum(a, axes, keepdim)
        elif p == 2:
            r = sum(a * a, axes, keepdim).sqrt()
        else:
            r = sum(a ** p, axes, keepdim) ** (1.0 / p)
    if STATE.enabled and x._requires_grad:
        node = LinalgVectorNormBackward0()
        node.p, node.axes, node.keepdim = p, axes, keepdim
        node.save(x, r.detach())
        record(node, (x,), r)
    return r


ops.register("sum_to", sum_to)   # the engine un-broadcasts gradients with it, a layer below the ops
