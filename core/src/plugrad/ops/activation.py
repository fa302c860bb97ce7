"""The activations and the other ops of ``torch.nn.functional`` that no other family
holds: ``leaky_relu``, ``hardtanh``/``relu6``, ``elu``, ``softplus``, ``silu``, ``gelu``,
``logsigmoid`` and ``softmin``, then ``normalize``, ``dropout`` and ``one_hot``.

Each activation with a gradient formula of its own is one op with one node named as in
PyTorch (``LeakyReluBackward0``...). ``plugrad.nn.functional`` re-exports these; the
activations that share a name with a ``plugrad`` op (``relu``, ``sigmoid``, ``tanh``,
``softmax``, ``log_softmax``) stay there as argument-forwarding functions over
``plugrad.ops.elementwise``/``reduction``, so that ``ops.relu`` is ``plugrad.relu``.
``normalize``, ``dropout`` and ``one_hot`` are compositions of other ops, kept here
until a family of their own needs them.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..dtypes import bool_, float64, int64
from ..layout import normalize_dim
from ..optable import ops
from ..random import default_generator
from ..tensor import Tensor
from .forms import general_inplace
from .dispatch import check_bool
from .elementwise import erf, exp, expm1, log1p, sigmoid, where
from .reduction import norm, softmax
from .declare import declare

__all__ = ["relu6", "leaky_relu", "elu", "softplus", "silu", "gelu", "hardtanh", "logsigmoid", "softmin", "normalize",
           "dropout", "one_hot"]


# ---- activations ---------------------------------------------------------------------------

#: a Python float beyond this overflows float32, the type PyTorch's kernels take an
#: activation's parameter in for every floating input but float64
_FLOAT32_MAX = 3.4028234663852886e38


def _param(value, input: Tensor):
    """An activation's number parameter (``alpha``, ``beta``...), refused as PyTorch refuses
    it: a finite value beyond float32's range cannot be converted for a non-float64 input.
    The common case is one comparison pair."""
    if -_FLOAT32_MAX <= value <= _FLOAT32_MAX or input._dtype is float64 or value != value \
            or abs(value) == float("inf"):
        return value
    raise RuntimeError("value cannot be converted to type float without overflow")


# Each activation is one op: its forward runs on a detached alias (nothing is recorded
# for the parts) and one node named as in PyTorch carries the gradient. The in-place
# forms (``inplace=True``) go through ``general_inplace``: the op runs on a snapshot of the
# target and the target takes over its node (a ``...Backward1`` where PyTorch saves the
# result instead of the input).

def _record(node, input: Tensor, r: Tensor, saved: Tensor) -> Tensor:
    node.save(saved)
    record(node, (input,), r)
    return r


def _refuse_negative_inplace(op: str, what: str, value) -> None:
    """An in-place activation's gradient is read from its result, whose sign tells which
    inputs were negative only while ``value`` is not: PyTorch refuses the backward then."""
    if value < 0:
        raise RuntimeError(f"In-place {op} backward is not supported with a negative {what}: the result no longer "
                           f"tells which inputs were negative. Call the out-of-place form instead.")


class LeakyReluBackward0(Node):
    """d leaky_relu(x) = g where x > 0, negative_slope * g elsewhere (the kink and NaN too)"""
    __slots__ = ("slope",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(x > 0, g, g * self.slope),)


class LeakyReluBackward1(LeakyReluBackward0):
    """in-place leaky_relu, from the result (its sign is the input's for a slope >= 0)"""
    __slots__ = ()

    def backward(self, g):
        _refuse_negative_inplace("leaky_relu", "slope", self.slope)
        return LeakyReluBackward0.backward(self, g)


def _leaky_relu(input: Tensor, negative_slope, node_cls=LeakyReluBackward0) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = where(x > 0, x, x * negative_slope)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.slope = negative_slope
        return _record(node, input, r, input if node_cls is LeakyReluBackward0 else r.detach())
    return r


_leaky_relu_ = general_inplace(_leaky_relu, "leaky_relu_")


@declare(public=False)
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    negative_slope = _param(negative_slope, input)
    if inplace:
        return _leaky_relu_(input, negative_slope, node_cls=LeakyReluBackward1)
    return _leaky_relu(input, negative_slope)


class HardtanhBackward0(Node):
    """d hardtanh(x) = g strictly inside (min_val, max_val), 0 at and beyond the bounds
    (a NaN input passes g, as in PyTorch)"""
    __slots__ = ("lo", "hi")

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where((x <= self.lo) | (x >= self.hi), 0.0, g),)


def _hardtanh(input: Tensor, lo, hi) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = x.clamp(lo, hi)
    if STATE.enabled and input._requires_grad:
        node = HardtanhBackward0()
        node.lo, node.hi = lo, hi
        return _record(node, input, r, input)
    return r


_hardtanh_ = general_inplace(_hardtanh, "hardtanh_")


@declare(public=False)
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


@declare(public=False)
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` clamped to ``[min_val, max_val]``, in the input's dtype (integer inputs
    stay integers: the bounds are converted to that dtype first, as PyTorch does)."""
    if min_val > max_val:   # PyTorch compares first: a None or a string bound fails here, TypeError
        raise ValueError("min_val cannot be greater than max_val")
    dt = input._dtype
    if dt is bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if dt.kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    lo, hi = dt.checked_scalar(min_val), dt.checked_scalar(max_val)
    return _hardtanh_(input, lo, hi) if inplace else _hardtanh(input, lo, hi)


class EluBackward0(Node):
    """d elu(x) = alpha * exp(x) * g where x <= 0, g elsewhere (NaN included); a double
    backward sees the exponential's slope only where x < 0, as in PyTorch"""
    __slots__ = ("alpha",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(x <= 0, g * exp(where(x < 0, x, 0.0)) * self.alpha, g),)


class EluBackward1(EluBackward0):
    """in-place elu, from the result: (result + alpha) * g where result <= 0 (a double
    backward sees the result's part only where it is negative, as in PyTorch)"""
    __slots__ = ()

    def backward(self, g):
        _refuse_negative_inplace("elu", "alpha", self.alpha)
        (y,) = self.saved_tensors
        y = self.output_alias(y)
        return (where(y <= 0, g * (where(y < 0, y, 0.0) + self.alpha), g),)


def _elu(input: Tensor, alpha, node_cls=EluBackward0) -> Tensor:
    x = input.detach() if input._requires_grad else input
    neg = expm1(x.clamp(max=0)) * alpha
    if -65504.0 <= alpha <= 65504.0:
        r = where(x > 0, x, neg)
    else:
        # alpha NaN, infinite or infinite in float16: alpha * expm1(0) would make a NaN of
        # every zero, which PyTorch keeps
        r = where(x < 0, neg, x)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.alpha = alpha
        return _record(node, input, r, input if node_cls is EluBackward0 else r.detach())
    return r


_elu_ = general_inplace(_elu, "elu_")


@declare(public=False)
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    alpha = _param(alpha, input)
    return _elu_(input, alpha, node_cls=EluBackward1) if inplace else _elu(input, alpha)


class SoftplusBackward0(Node):
    """d softplus(x) = g where beta x > threshold, else g * z / (z + 1) with z = exp(beta x);
    a double backward sees z's slope only where beta x < threshold, as in PyTorch"""
    __slots__ = ("beta", "threshold")

    def backward(self, g):
        (x,) = self.saved_tensors
        bx = x * self.beta
        z = exp(where(bx >= self.threshold, self.threshold, bx))
        return (where(bx > self.threshold, g, g * z / (z + 1)),)


@declare(public=False)
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    beta, threshold = _param(beta, input), _param(threshold, input)
    x = input.detach() if input._requires_grad else input
    bx = x * beta
    # the clamp only keeps exp() finite where the linear branch is taken; a NaN threshold
    # selects the log branch everywhere, as in PyTorch, so nothing is clamped then
    capped = bx.clamp(max=threshold) if threshold == threshold else bx
    r = where(bx > threshold, x, log1p(exp(capped)) / beta)
    if STATE.enabled and input._requires_grad:
        node = SoftplusBackward0()
        node.beta, node.threshold = beta, threshold
        return _record(node, input, r, input)
    return r


class SiluBackward0(Node):
    """d silu(x) = g * s * (1 + x (1 - s)) with s = sigmoid(x)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        s = sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)


def _silu(input: Tensor) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = x * sigmoid(x)
    if STATE.enabled and input._requires_grad:
        return _record(SiluBackward0(), input, r, input)
    return r


_silu_ = general_inplace(_silu, "silu_")


@declare(public=False)
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    return _silu_(input) if inplace else _silu(input)


_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_TWO_PI = 1 / math.sqrt(2 * math.pi)


def _gelu_derivative(x: Tensor, approximate: str) -> Tensor:
    """d gelu(x)/dx: Phi(x) + x phi(x) for the exact form; for the tanh form, written with
    s = sigmoid(2u) = (1 + tanh(u)) / 2, u = k (x + 0.044715 x^3): s + 2 x s (1 - s) u'."""
    if approximate == "none":
        return 0.5 * (1 + erf(x * _SQRT_HALF)) + x * exp(-0.5 * x * x) * _INV_SQRT_TWO_PI
    s = _tanh_form_sigmoid(x)
    return s + 2 * x * s * (1 - s) * _SQRT_TWO_OVER_PI * (1 + 3 * 0.044715 * x * x)


def _tanh_form_sigmoid(x: Tensor) -> Tensor:
    """``(1 + tanh(u)) / 2`` as ``sigmoid(2u)``: equal, but exact where a device's tanh is
    one unit in the last place short of -1 (PoCL's float32 tanh at -inf), which would
    turn gelu(-inf) into -inf instead of PyTorch's NaN."""
    return sigmoid(2 * _SQRT_TWO_OVER_PI * (x + 0.044715 * x * x * x))


class GeluBackward0(Node):
    """d gelu(x) = g * gelu'(x)  (see _gelu_derivative)"""
    __slots__ = ("approximate",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * _gelu_derivative(x, self.approximate),)


@declare(public=False)
def gelu(input: Tensor, *, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, Phi the standard normal distribution function, computed from
    ``erf`` (a composition: every device has it); ``approximate="tanh"`` gives
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, computed as ``x sigmoid(2u)``."""
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, not {approximate!r}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{input._dtype.name.capitalize()}': "
                                  f"gelu needs a floating tensor")
    x = input.detach()
    with no_grad():
        if approximate == "none":
            r = 0.5 * x * (1 + erf(x * _SQRT_HALF))
        else:
            r = x * _tanh_form_sigmoid(x)
    if STATE.enabled and input._requires_grad:
        node = GeluBackward0()
        node.approximate = approximate
        return _record(node, input, r, input)
    return r


class LogSigmoidBackward0(Node):
    """d log(sigmoid(x)) = g * sigmoid(-x)"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (g * sigmoid(-x),)


@declare(public=False)
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow: ``min(x, 0) - log(1 + exp(-|x|))``."""
    x = input.detach() if input._requires_grad else input
    r = x.clamp(max=0) - log1p(exp(-x.abs()))
    if STATE.enabled and input._requires_grad:
        return _record(LogSigmoidBackward0(), input, r, input)
    return r


# ---- softmin, normalize -------------------------------------------------------------------

def implicit_dim(name: str, input: Tensor, dim):
    """``dim`` of a softmax-like call, or the dimension PyTorch picks (with its deprecation
    warning, attributed to the caller of the function that calls this) when it is None."""
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", UserWarning, stacklevel=3)
        return 0 if input.dim() in (0, 1, 3) else 1
    if not input._shape:   # a 0-d tensor has dims -1 and 0 only (IndexError otherwise)
        normalize_dim(dim, 0)
    return dim


@declare(public=False)
def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return softmax(-input, implicit_dim("softmin", input, dim), dtype=dtype)


@declare(public=False)
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim`` (any ``p`` of ``norm``: 0 and +-inf too)."""
    if isinstance(input, Tensor) and not input._shape and type(dim) is int:
        normalize_dim(dim, 0)   # a 0-d tensor has dims -1 and 0 only (IndexError otherwise)
    if type(eps) is not float and not isinstance(eps, (int, float, Tensor)):
        raise TypeError(f"normalize(): argument 'eps' must be a number or a Tensor, not {type(eps).__name__}")
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)


# ---- dropout -------------------------------------------------------------------------------

@declare(public=False)
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (identity when not ``training``)."""
    if not isinstance(input, Tensor):   # checked here: the identity paths would hand it back
        raise TypeError(f"dropout(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if type(training) is not bool:
        check_bool(training, "dropout", "train")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        scale = input.new_zeros(input._shape)
    else:
        scale = _bernoulli_like(input, 1.0 - p)
        with no_grad():
            scale.mul_(1.0 / (1.0 - p))
    return input.mul_(scale) if inplace else input * scale


def _bernoulli_like(input: Tensor, prob: float) -> Tensor:
    """A tensor shaped like ``input`` of ones with probability ``prob``, else zeros."""
    mask = ops.empty(input._shape, dtype=input._dtype, device=input.device)
    if mask.numel():
        mask._backend.random("bernoulli", mask._a, default_generator.next_seed(), prob, None)
    return mask


# ---- encodings -----------------------------------------------------------------------------

@declare(public=False)
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing dim of ``num_classes``: 1 at each index, 0 elsewhere."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' must be Tensor, not {type(tensor).__name__}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    if tensor._dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel():
        lo, hi = int(tensor.min()), int(tensor.max())
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
    else:
        lo, hi = 0, -1
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = ops.zeros(tensor._shape + (num_classes,), dtype=int64, device=tensor.device)
    if tensor.numel():
        out = out.scatter(-1, tensor.unsqueeze(-1), 1)
    return out

