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
from ..dtypes import bool_, float64, int32, int64, opmath
from ..layout import normalize_dim
from ..optable import ops
from ..tensor import Tensor
from .checks import check_device, check_int, check_tensor, check_tensors, type_name
from .forms import general_inplace
from .dispatch import check_bool
from .join import cat
from .elementwise import erf, exp, expm1, log1p, sigmoid, where
from .loss import _Named, _named
from .reduction import norm, softmax
from .declare import declare
from .dense import _renorm_rows_

__all__ = ["relu6", "leaky_relu", "elu", "softplus", "silu", "gelu", "hardtanh", "logsigmoid", "softmin", "normalize",
           "dropout", "one_hot", "selu", "celu", "mish", "hardswish", "hardsigmoid", "prelu", "glu", "softsign",
           "tanhshrink", "softshrink", "hardshrink", "threshold", "rrelu", "selu_", "celu_", "threshold_", "rrelu_",
           "elu_", "leaky_relu_", "hardtanh_", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "embedding_bag", "bilinear", "channel_shuffle"]


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

def _number(value, fname: str, argname: str):
    """A Number parameter (a Python int, float or bool, or a NumPy scalar); PyTorch's
    TypeError for anything else."""
    if isinstance(value, (int, float)) or (hasattr(value, "__float__") and not isinstance(value, (str, Tensor))
                                           and not hasattr(value, "__len__")):
        return value
    raise TypeError(f"{fname}(): argument '{argname}' must be Number, not {type(value).__name__}")


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
    backward sees the exponential's slope only where x < 0, as in PyTorch. ``selu`` and
    ``celu`` are elu with a ``scale`` of the result and an ``input_scale`` of x (PyTorch's
    own parametrisation): ``scale * g`` where x > 0, ``input_scale * alpha * scale *
    exp(input_scale * x) * g`` elsewhere."""
    __slots__ = ("alpha", "scale", "input_scale")

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.scale == 1 and self.input_scale == 1:
            return (where(x <= 0, g * exp(where(x < 0, x, 0.0)) * self.alpha, g),)
        neg = g * exp(where(x < 0, x, 0.0) * self.input_scale) * (self.alpha * self.scale * self.input_scale)
        return (where(x <= 0, neg, g * self.scale),)


class EluBackward1(EluBackward0):
    """in-place elu, from the result: (result + alpha) * g where result <= 0 (a double
    backward sees the result's part only where it is negative, as in PyTorch)"""
    __slots__ = ()

    def backward(self, g):
        _refuse_negative_inplace("elu", "alpha", self.alpha)
        (y,) = self.saved_tensors
        y = self.output_alias(y)
        if self.scale == 1 and self.input_scale == 1:
            return (where(y <= 0, g * (where(y < 0, y, 0.0) + self.alpha), g),)
        neg = g * (where(y < 0, y, 0.0) + self.alpha * self.scale) * self.input_scale
        return (where(y <= 0, neg, g * self.scale),)


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
        node.alpha, node.scale, node.input_scale = alpha, 1.0, 1.0
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
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, computed as ``x sigmoid(2u)``.
    float16 and bfloat16 compute in float32 and round once, as PyTorch's kernel does."""
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, not {approximate!r}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"GeluKernelImpl\" not implemented for '{input._dtype.name.capitalize()}': "
                                  f"gelu needs a floating tensor")
    x = input.detach()
    with no_grad():
        wide = x.to(opmath(x._dtype))
        if approximate == "none":
            r = 0.5 * wide * (1 + erf(wide * _SQRT_HALF))
        else:
            r = wide * _tanh_form_sigmoid(wide)
        r = r.to(x._dtype)
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
            scale.div_(1.0 - p)     # PyTorch's noise.div_(1 - p): its float32 bits, not mul by 1/(1-p)
    return input.mul_(scale) if inplace else input * scale


def _bernoulli_like(input: Tensor, prob: float) -> Tensor:
    """``empty_like(input).bernoulli_(prob)``: ones with probability ``prob``, else zeros
    (PyTorch's dropout noise, from its stream)."""
    with no_grad():
        return ops.empty(input._shape, dtype=input._dtype, device=input.device).bernoulli_(prob)


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



# ---- more activations: selu, celu, mish, hardswish, hardsigmoid, prelu, glu, shrinks, threshold, rrelu ----

def _float_kernel(input: Tensor, kernel: str) -> None:
    """PyTorch's float-only activation kernels refuse integer and bool inputs."""
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{type_name(input._dtype)}': {kernel} "
                                  f"needs a floating tensor")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class CeluBackward0(EluBackward0):
    """d celu(x) = elu's derivative with input_scale = 1 / alpha"""
    __slots__ = ()


class CeluBackward1(EluBackward1):
    """in-place celu, from the result"""
    __slots__ = ()


def _scaled_elu(input: Tensor, alpha, scale, input_scale, node_cls) -> Tensor:
    """``scale * x`` where x > 0, ``alpha * scale * (exp(input_scale * x) - 1)`` elsewhere."""
    x = input.detach() if input._requires_grad else input
    r = where(x > 0, x * scale, expm1((x * input_scale).clamp(max=0)) * (alpha * scale))
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.alpha, node.scale, node.input_scale = alpha, scale, input_scale
        return _record(node, input, r, input if node_cls in (EluBackward0, CeluBackward0) else r.detach())
    return r


_scaled_elu_ = general_inplace(_scaled_elu, "selu_")


@declare
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al."""
    _float_kernel(input, "elu")
    if inplace:
        return _scaled_elu_(input, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward1)
    return _scaled_elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, EluBackward0)


@declare
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _float_kernel(input, "elu")
    alpha = _param(alpha, input)
    if inplace:
        return _scaled_elu_(input, alpha, 1.0, 1.0 / alpha, CeluBackward1)
    return _scaled_elu(input, alpha, 1.0, 1.0 / alpha, CeluBackward0)


class MishBackward0(Node):
    """d mish(x) = g * (t + x * sigmoid(x) * (1 - t^2)), t = tanh(softplus(x))"""

    def backward(self, g):
        (x,) = self.saved_tensors
        t = softplus(x).tanh()
        return (g * (t + x * sigmoid(x) * (1 - t * t)),)


def _mish(input: Tensor) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = x * softplus(x).tanh()
    if STATE.enabled and input._requires_grad:
        return _record(MishBackward0(), input, r, input)
    return r


_mish_ = general_inplace(_mish, "mish_")


@declare(public=False)
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _float_kernel(input, "mish")
    return _mish_(input) if inplace else _mish(input)


class HardswishBackward0(Node):
    """d hardswish(x) = 0 up to -3, g * (x / 3 + 1/2) strictly inside (-3, 3), g from 3 on"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(x <= -3, 0.0, where(x < 3, g * (x / 3 + 0.5), g)),)


def _hardswish(input: Tensor) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = x * (x + 3).clamp(0, 6) / 6
    if STATE.enabled and input._requires_grad:
        return _record(HardswishBackward0(), input, r, input)
    return r


_hardswish_ = general_inplace(_hardswish, "hardswish_")


@declare(public=False)
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _float_kernel(input, "hardswish")
    return _hardswish_(input) if inplace else _hardswish(input)


class HardsigmoidBackward0(Node):
    """d hardsigmoid(x) = g / 6 strictly inside (-3, 3), 0 elsewhere"""

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where((x > -3) & (x < 3), g / 6, 0.0),)


def _hardsigmoid(input: Tensor) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = (x + 3).clamp(0, 6) / 6
    if STATE.enabled and input._requires_grad:
        return _record(HardsigmoidBackward0(), input, r, input)
    return r


_hardsigmoid_ = general_inplace(_hardsigmoid, "hardsigmoid_")


@declare(public=False)
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    _float_kernel(input, "hardsigmoid")
    return _hardsigmoid_(input) if inplace else _hardsigmoid(input)


class PreluKernelBackward0(Node):
    """d prelu(x, w) = (g where x > 0 else w g, sum over all but the channel dim of x g where x <= 0)"""
    __slots__ = ("w_shape", "axes")

    def backward(self, g):
        x, w, w_b = self.saved_tensors
        need = [f is not None for f, _ in self.next_functions]
        pos = x > 0
        gx = where(pos, g, g * w_b) if need[0] else None
        gw = None
        if need[1]:
            gw = where(pos, 0.0, g * x)
            gw = (gw.sum(self.axes) if self.axes else gw).reshape(self.w_shape)
        return gx, gw


@declare(method=True)
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has one element, or one per
    channel (dim 1)."""
    check_tensor(weight, "prelu", "weight")
    check_device(input, weight, "prelu")
    _float_kernel(input, "prelu")
    if weight._dtype is not input._dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {type_name(input._dtype)} and "
                           f"{type_name(weight._dtype)}")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    n = weight.numel()
    channels = input._shape[1] if input.dim() > 1 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    if n == 1:
        w_b = weight.detach().reshape(())
        axes = tuple(range(input.dim()))
    else:
        w_b = weight.detach().reshape((channels,) + (1,) * (input.dim() - 2))
        axes = tuple(d for d in range(input.dim()) if d != 1)
    x = input.detach()
    with no_grad():
        r = where(x > 0, x, x * w_b.to(x._dtype))
    if STATE.enabled and (input._requires_grad or weight._requires_grad):
        node = PreluKernelBackward0()
        node.w_shape, node.axes = weight._shape, axes
        if n == 1:
            w_src = weight.reshape(())
        else:
            w_src = weight.reshape(w_b._shape)
        node.save(input, weight, w_src if weight._requires_grad else w_src.detach())
        record(node, (input, weight), r)
    return r


class GluBackward0(Node):
    """d (a * sigmoid(b)) = (g sigmoid(b), g a sigmoid(b) (1 - sigmoid(b))), joined along dim"""
    __slots__ = ("dim",)

    def backward(self, g):
        (x,) = self.saved_tensors
        a, b = x.chunk(2, self.dim)
        s = sigmoid(b)
        return (cat((g * s, g * a * s * (1 - s)), self.dim),)


@declare(public=False)
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: ``a * sigmoid(b)``, ``a`` and ``b`` the halves of ``input`` along ``dim``."""
    check_tensor(input, "glu", "input")
    if not input._shape:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, input.dim())
    if input._shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input._shape[d]}")
    _float_kernel(input, "glu")
    x = input.detach()
    a, b = x.chunk(2, d)
    r = a * sigmoid(b)
    if STATE.enabled and input._requires_grad:
        node = GluBackward0()
        node.dim = d
        return _record(node, input, r, input)
    return r


@declare(public=False)
def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)`` (a composition, as in PyTorch: its ``grad_fn`` is a division's)."""
    return input / (input.abs() + 1)


@declare(public=False)
def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)`` (a composition, as in PyTorch)."""
    return input - input.tanh()


def _check_lambd(input: Tensor, lambd) -> None:
    hi = 3.4028234663852886e38 if input._dtype is not float64 else 1.7976931348623157e308
    if not 0 <= lambd <= hi:
        raise RuntimeError(f"lambda must be in range [0, {hi:g}] for input dtype {type_name(input._dtype)}, but "
                           f"found {lambd:g}")


class SoftshrinkBackward0(Node):
    """d softshrink(x) = g where |x| > lambd, 0 elsewhere"""
    __slots__ = ("lambd",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where((x >= -self.lambd) & (x <= self.lambd), 0.0, g),)


class HardshrinkBackward0(SoftshrinkBackward0):
    """d hardshrink(x) = g where |x| > lambd, 0 elsewhere"""
    __slots__ = ()


@declare(public=False)
def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    _float_kernel(input, "softshrink")
    _check_lambd(input, _number(lambd, "softshrink", "lambd"))
    x = input.detach() if input._requires_grad else input
    r = where((x >= -lambd) & (x <= lambd), 0.0, where(x > lambd, x - lambd, x + lambd))   # NaN stays NaN
    if STATE.enabled and input._requires_grad:
        node = SoftshrinkBackward0()
        node.lambd = lambd
        return _record(node, input, r, input)
    return r


@declare(method=True)
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    _float_kernel(input, "hardshrink")
    lambd = _param(_number(lambd, "hardshrink", "lambd"), input)
    x = input.detach() if input._requires_grad else input
    r = where((x >= -lambd) & (x <= lambd), 0.0, x)
    if STATE.enabled and input._requires_grad:
        node = HardshrinkBackward0()
        node.lambd = lambd
        return _record(node, input, r, input)
    return r


class ThresholdBackward0(Node):
    """d threshold(x) = g where x > threshold, 0 elsewhere"""
    __slots__ = ("threshold",)

    def backward(self, g):
        (x,) = self.saved_tensors
        return (where(x <= self.threshold, 0.0, g),)


class ThresholdBackward1(ThresholdBackward0):
    """in-place threshold: the same mask, read from the input as it was before the write"""
    __slots__ = ()


def _threshold(input: Tensor, threshold, value, node_cls=ThresholdBackward0) -> Tensor:
    x = input.detach() if input._requires_grad else input
    r = where(x <= threshold, ops.full((), value, dtype=x._dtype, device=x.device), x)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.threshold = threshold
        return _record(node, input, r, input)
    return r


_threshold_ = general_inplace(_threshold, "threshold_")


@declare
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    check_tensor(input, "threshold", "input")
    if input._dtype is bool_:
        raise RuntimeError("\"threshold_cpu\" not implemented for 'Bool'")
    threshold, value = _number(threshold, "threshold", "threshold"), _number(value, "threshold", "value")
    if not input._dtype.is_floating_point:   # both numbers in the input's integer type, as in PyTorch
        threshold, value = input._dtype.checked_scalar(threshold), input._dtype.checked_scalar(value)
    else:
        threshold, value = _param(threshold, input), _param(value, input)
    if inplace:
        return _threshold_(input, threshold, value, node_cls=ThresholdBackward1)
    return _threshold(input, threshold, value)


_threshold_op = threshold   # threshold_'s own parameter shadows the op's name


class RreluWithNoiseBackward0(Node):
    """d rrelu(x) = g * noise while training (the slope drawn for each element, 1 where
    x > 0); the mean slope's leaky_relu derivative in evaluation"""
    __slots__ = ("slope", "training")

    def backward(self, g):
        x, noise = self.saved_tensors
        if self.training:
            return (g * noise,)
        return (where(x > 0, g, g * self.slope),)


class RreluWithNoiseBackward1(RreluWithNoiseBackward0):
    """in-place rrelu, from the result (its sign is the input's: every slope is >= 0)"""
    __slots__ = ()

    def backward(self, g):
        y, noise = self.saved_tensors
        if self.training:
            return (g * noise,)
        return (where(self.output_alias(y) > 0, g, g * self.slope),)


def _rrelu(input: Tensor, lower, upper, training, node_cls=RreluWithNoiseBackward0) -> Tensor:
    x = input.detach() if input._requires_grad else input
    noise = None
    if training:
        # PyTorch's rrelu_with_noise: one double uniform in [lower, upper] (the bounds
        # rounded to the input's dtype) per element <= 0, in order; the others keep slope 1
        with no_grad():
            negative = x <= 0
            noise = ops.ones(x._shape, dtype=x._dtype, device=x.device)
            count = int(negative.sum().item())
            if count:
                low, high = (ops.full((), float(v), dtype=x._dtype).item() for v in (lower, upper))
                noise[negative] = ops.empty((count,), dtype=float64, device=x.device).uniform_(low, high).to(x._dtype)
        r = x * noise
    else:
        slope = (lower + upper) / 2
        r = where(x > 0, x, x * slope)
    if STATE.enabled and input._requires_grad:
        node = node_cls()
        node.slope, node.training = (lower + upper) / 2, training
        node.save(input if node_cls is RreluWithNoiseBackward0 else r.detach(), noise)
        record(node, (input,), r)
    return r


_rrelu_ = general_inplace(_rrelu, "rrelu_")


@declare
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: while ``training`` each negative element is scaled by a slope
    drawn uniformly from ``[lower, upper]``; in evaluation by their mean."""
    _float_kernel(input, "rrelu_with_noise")
    lower, upper = _number(lower, "rrelu", "lower"), _number(upper, "rrelu", "upper")
    for name, v in (("lower", lower), ("upper", upper)):
        if not math.isfinite(v):
            raise RuntimeError(f"rrelu: {name} bound must be finite, got {v}")
        _param(v, input)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if type(training) is not bool:
        check_bool(training, "rrelu", "training")
    if inplace:
        return _rrelu_(input, lower, upper, training, node_cls=RreluWithNoiseBackward1)
    return _rrelu(input, lower, upper, training)


# ---- the in-place function forms (``F.selu_``...; ``plugrad.selu_`` where PyTorch has it) ----

@declare(name="selu_")
def selu_(input: Tensor) -> Tensor:
    """``selu`` written into ``input``."""
    return selu(input, inplace=True)


@declare(name="celu_")
def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``celu`` written into ``input``."""
    return celu(input, alpha, inplace=True)


@declare(name="threshold_")
def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``threshold`` written into ``input``."""
    return _threshold_op(input, threshold, value, inplace=True)


@declare(name="rrelu_")
def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """``rrelu`` written into ``input``."""
    return rrelu(input, lower, upper, training, inplace=True)


@declare(name="elu_", public=False)
def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``elu`` written into ``input``."""
    return elu(input, alpha, inplace=True)


@declare(name="leaky_relu_", public=False)
def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


@declare(name="hardtanh_", public=False)
def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``hardtanh`` written into ``input``: PyTorch's kernel itself, without the function's
    check that ``min_val <= max_val`` (a larger min_val gives max_val everywhere)."""
    check_tensor(input, "hardtanh_", "input")
    min_val, max_val = _number(min_val, "hardtanh_", "min_val"), _number(max_val, "hardtanh_", "max_val")
    if input._dtype is bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if input._dtype.is_floating_point:
        lo, hi = _param(min_val, input), _param(max_val, input)
    else:
        lo, hi = input._dtype.checked_scalar(min_val), input._dtype.checked_scalar(max_val)
    return _hardtanh_(input, lo, hi)


# ---- channel-wise and alpha dropout ------------------------------------------------------------

#: alpha dropout's constants (SELU's negative saturation value, -scale * alpha)
_ALPHA_PRIME = 1.7580993408473766


def _check_p(p) -> None:
    """PyTorch's Python check (ValueError), which a NaN passes to fail in its kernel (RuntimeError)."""
    if p != p:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool, alpha: bool) -> Tensor:
    """PyTorch's ``_dropout_impl``: one Bernoulli(1 - p) draw per element (or per channel of
    each sample, ``feature``), scaled to keep the mean (``1 / (1 - p)``) or, for ``alpha``
    dropout, the mean and variance of SELU's output (dropped values become SELU's
    saturation value)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' must be Tensor, not {type(input).__name__}")
    if type(training) is not bool:
        check_bool(training, "dropout", "train")
    if p == 0.0 or not training or not input.numel():
        return input
    if p == 1.0:
        zero = ops.zeros((), dtype=input._dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = input._shape[:2] + (1,) * (input.dim() - 2) if feature else input._shape
    noise = _bernoulli_like(ops.empty(shape, dtype=input._dtype, device=input.device), 1.0 - p)
    with no_grad():
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
            b = (noise - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p
            noise.mul_(a)
        else:
            noise.div_(1.0 - p)
    if not alpha:
        return input.mul_(noise) if inplace else input * noise
    return input.mul_(noise).add_(b) if inplace else input * noise + b


def _feature_dropout_nd(name: str, input: Tensor, p, training, inplace, batched_dim: int) -> Tensor:
    """Channel-wise dropout of an input of ``batched_dim`` dims, or of one less (unbatched),
    with PyTorch's rules per function: dropout1d refuses other ranks; dropout2d and
    dropout3d warn and go on, dropout2d reading a 3-d input as batched (N, C, L)."""
    _check_p(p)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    d = input.dim()
    spatial = batched_dim - 2
    if d not in (batched_dim - 1, batched_dim):
        if name == "dropout1d":
            raise RuntimeError(f"{name}: Expected {batched_dim - 1}D or {batched_dim}D input, but received a {d}D "
                               f"input. Note that {name} exists to provide channel-wise dropout on inputs with 1 "
                               f"spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or "
                               f"3D inputs).")
        warnings.warn(f"{name}: Received a {d}-D input to {name}, which is deprecated and will result in an error in "
                      f"a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{batched_dim - 1}D or {batched_dim}D inputs).", UserWarning, stacklevel=3)
    if name == "dropout2d":
        if d == 3:
            warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                          "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                          "dim. This behavior will change in a future release to interpret the input as one without "
                          "a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                          "behavior, please switch to using dropout1d instead.", UserWarning, stacklevel=3)
        return _noise_dropout(input, p, training, inplace, True, False)
    if d == batched_dim:
        return _noise_dropout(input, p, training, inplace, True, False)
    x = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    r = _noise_dropout(x, p, training, inplace, True, False)
    return r.squeeze_(0) if inplace else r.squeeze(0)


@declare(public=False)
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``, scaling the
    rest by ``1 / (1 - p)``."""
    return _feature_dropout_nd("dropout1d", input, p, training, inplace, 3)


@declare(public=False)
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (a 3-d input is
    read as (N, C, L), with PyTorch's warning)."""
    return _feature_dropout_nd("dropout2d", input, p, training, inplace, 4)


@declare(public=False)
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``."""
    return _feature_dropout_nd("dropout3d", input, p, training, inplace, 5)


@declare
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements take SELU's saturation value and an affine
    map keeps the mean and variance."""
    _check_p(p)
    return _noise_dropout(input, p, training, inplace, False, True)


@declare
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    _check_p(p)
    return _noise_dropout(input, p, training, inplace, True, True)


# ---- bags of embeddings and the bilinear map ------------------------------------------------------

#: C++ names of the dtypes in PyTorch's "All tensors must have the same dtype" message
_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "bool": "bool",
            "float16": "c10::Half", "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}


class EmbeddingBagBackward0(_Named):
    """PyTorch's ``grad_fn`` of ``embedding_bag``: the gradient goes on to the looked-up rows"""
    __slots__ = ()


def _bags(fname, input, offsets, per_sample_weights, include_last_offset):
    """The flat indices, each index's bag and the number of bags (PyTorch's rules: a 2-d
    input is one bag per row; a 1-d input is split at ``offsets``)."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {offsets._type_label()}")
        n_bags, length = input._shape
        bag_of = [i // length for i in range(input.numel())] if length else []
        flat = input.reshape(-1)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
        return flat, bag_of, n_bags, psw
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    check_tensor(offsets, fname, "offsets")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    starts = [int(v) for v in offsets.tolist()]
    n = input.numel()
    if starts and starts[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {starts[0]}")
    if any(b < a for a, b in zip(starts, starts[1:])) or (starts and starts[-1] > n):
        raise RuntimeError(f"offsets must be non-decreasing and at most the number of indices ({n}), got {starts}")
    n_bags = len(starts) - 1 if include_last_offset else len(starts)
    ends = starts[1:n_bags] + [n]   # the last bag runs to the end (PyTorch ignores a last offset short of it)
    bag_of = [-1] * n
    for b in range(n_bags):
        for k in range(starts[b], ends[b]):
            bag_of[k] = b
    return input, bag_of, n_bags, per_sample_weights


@declare(public=False)   # torch.embedding_bag takes (weight, indices, ...) and returns four tensors
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None) -> Tensor:
    """The sum, mean or max of the embedding rows in each bag of indices (a row of a 2-d
    ``input``, or a stretch of a 1-d one between ``offsets``); ``padding_idx`` entries
    count for nothing and an empty bag gives zeros. ``per_sample_weights`` scales each
    row (mode ``'sum'``)."""
    check_tensor(input, "embedding_bag", "input")
    check_tensor(weight, "embedding_bag", "weight")
    if per_sample_weights is not None and input._shape != per_sample_weights._shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if padding_idx is not None:
        padding_idx = check_int(padding_idx, "embedding_bag", "padding_idx")
    if input.dim() == 2 and offsets is None and not input._shape[1]:
        raise RuntimeError("step must be nonzero")   # PyTorch's offsets: arange(0, numel, 0)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if scale_grad_by_freq or sparse:
        raise RuntimeError("embedding_bag(): scale_grad_by_freq and sparse gradients are not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    flat, bag_of, n_bags, psw = _bags("embedding_bag", input, offsets, per_sample_weights, include_last_offset)
    if flat._dtype not in (int64, int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {flat._type_label()} instead (while checking arguments for "
                           f"embedding_bag)")
    if not weight._dtype.is_floating_point:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the following scalar types: "
                           f"Half, BFloat16, Float, Double; but got {weight._type_label()} instead (while checking "
                           f"arguments for embedding_bag)")
    check_device(weight, flat, "embedding_bag")
    num, dim = weight._shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-num} through {num - 1}, but "
                               f"got {padding_idx}")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    flat = flat.long()
    values = flat.tolist()
    for k, v in enumerate(values):
        if not 0 <= v < num:
            raise RuntimeError(f"Index {k} of input takes value {v} which is not in the valid range [0, {num})")
    if max_norm is not None:
        _renorm_rows_(weight, flat, max_norm, norm_type)
    # each bag's positions in order, padding left out, padded to the longest bag with -1
    members = [[] for _ in range(n_bags)]
    for k, b in enumerate(bag_of):
        if b >= 0 and values[k] != padding_idx:
            members[b].append(k)
    length = max((len(m) for m in members), default=0)
    dev = weight.device
    # no row at all: zeros, still on the table's graph (an empty sum of it), as in PyTorch
    out = weight.narrow(0, 0, 0).sum(0).expand((n_bags, dim)).contiguous()
    if length:
        pos = ops.tensor([m + [-1] * (length - len(m)) for m in members], dtype=int64, device=dev)   # (bags, L)
        valid = pos >= 0
        safe = where(valid, pos, 0)
        rows = weight[flat[safe]]                                                              # (bags, L, dim)
        if psw is not None:
            rows = rows * psw[safe].unsqueeze(2)
        if mode == "max":
            # PyTorch's order: the first row, then each later row that is strictly larger (a NaN
            # first stays, a NaN later is passed over); the gradient goes to the row kept
            out = where(valid[:, :1], rows[:, 0], 0.0)
            for i in range(1, length):
                row = rows[:, i]
                out = where(valid[:, i:i + 1] & (row > out), row, out)
        else:
            # masked, not multiplied by 0: a NaN or infinite row outside a bag stays out of it
            out = where(valid.unsqueeze(2), rows, 0.0).sum(1)
            if mode == "mean":
                counts = valid.sum(1, keepdim=True).clamp(min=1).to(weight._dtype)
                out = out / counts
    return _named(EmbeddingBagBackward0, out)


@declare
def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """``y[..., o] = x1[..., :] @ weight[o] @ x2[..., :] + bias[o]``."""
    check_tensors("bilinear", input1=input1, input2=input2, weight=weight)
    if bias is not None:
        check_tensor(bias, "bilinear", "bias")
        if not bias._shape:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    for t in (input2, weight) + (() if bias is None else (bias,)):
        check_device(input1, t, "bilinear")
    dts = [t._dtype for t in (input1, input2, weight) + (() if bias is None else (bias,))]
    if len(set(dts)) > 1:
        names = ", ".join(f"{k}: {_C_NAMES.get(d.name, d.name)}" for k, d in zip(("input1", "input2", "weight", "bias"),
                                                                              dts))
        raise RuntimeError(f"All tensors must have the same dtype, got {names}")
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if input1._shape[:-1] != input2._shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1._shape)} and "
                           f"{list(input2._shape)}")
    if weight.dim() < 3:   # PyTorch reads weight.size(1) and size(2) first
        d = weight.dim()
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(d, 1)}, {max(d, 1) - 1}], but "
                         f"got {d}): bilinear() needs a weight of shape (out, in1, in2)")
    if weight.dim() > 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()}")
    out, n1, n2 = weight._shape
    if input1._shape[-1] != n1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1._shape[-1]} but "
                           f"expected {n1}")
    if input2._shape[-1] != n2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2._shape[-1]} but "
                           f"expected {n2}")
    if bias is not None and bias._shape[0] != out:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias._shape[0]} but expected "
                           f"{out}")
    a, b = input1.reshape(-1, n1), input2.reshape(-1, n2)
    y = ((a.unsqueeze(0) @ weight) * b.unsqueeze(0)).sum(-1).transpose(0, 1)     # (batch, out)
    y = y.contiguous().reshape(tuple(input1._shape[:-1]) + (out,))
    return y if bias is None else y + bias


class ChannelShuffleBackward0(_Named):
    """PyTorch's ``grad_fn`` of ``channel_shuffle``"""
    __slots__ = ()


@declare
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """The channels (dim 1) of ``input`` split into ``groups`` groups and interleaved:
    channel ``g * (C / groups) + k`` moves to ``k * groups + g``."""
    check_tensor(input, "channel_shuffle", "input")
    groups = check_int(groups, "channel_shuffle", "groups")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input._shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c = input._shape[0], input._shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(input._shape[2:])
    shuffled = input.reshape((n, groups, c // groups) + rest).transpose(1, 2).contiguous().reshape(input._shape)
    return _named(ChannelShuffleBackward0, shuffled)
