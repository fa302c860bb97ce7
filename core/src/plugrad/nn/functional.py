"""``plugrad.nn.functional`` (``torch.nn.functional``): the layers as functions.

Ops with a gradient formula of their own live in ``plugrad.ops`` (convolution,
pooling, dense, normalization, loss, padding) and are re-exported here; the
functions defined below are compositions of existing ops.
"""

from __future__ import annotations

import warnings

from ..autograd.grad_mode import no_grad
from ..dtypes import bool_, float64, int64
from ..layout import normalize_dim
from ..ops.convolution import conv1d, conv2d, conv_transpose2d, fold, unfold
from ..ops.dense import embedding, linear
from ..ops.elementwise import where
from ..ops.guard import guard_function_forms
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, l1_loss,
                        mse_loss, nll_loss, smooth_l1_loss)
from ..ops.normalization import batch_norm, layer_norm
from ..ops.padding import pad
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_pool2d_with_indices
from ..ops import elementwise as _ew
from ..ops import reduction as _rd
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "linear", "conv1d", "conv2d", "conv_transpose2d", "unfold", "fold", "max_pool2d", "max_pool2d_with_indices",
    "avg_pool2d", "adaptive_avg_pool2d", "dropout", "batch_norm", "layer_norm", "embedding", "one_hot", "pad",
    "relu", "relu_", "relu6", "leaky_relu", "elu", "softplus", "silu", "hardtanh", "logsigmoid", "sigmoid", "tanh",
    "softmax", "log_softmax", "softmin", "normalize",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]


# ---- activations ---------------------------------------------------------------------------

def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return input.relu_() if inplace else _ew.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def sigmoid(input: Tensor) -> Tensor:
    return _ew.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _ew.tanh(input)


def _inplace_result(input, result, inplace):
    return input.copy_(result) if inplace else result


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


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    negative_slope = _param(negative_slope, input)
    return _inplace_result(input, where(input > 0, input, input * negative_slope), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


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
    return _inplace_result(input, input.clamp(lo, hi), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    alpha = _param(alpha, input)
    neg = alpha * _ew.expm1(input.clamp(max=0))
    if -65504.0 <= alpha <= 65504.0:
        return _inplace_result(input, where(input > 0, input, neg), inplace)
    # alpha NaN, infinite or infinite in float16: alpha * expm1(0) would make a NaN of every
    # zero, which PyTorch keeps
    return _inplace_result(input, where(input < 0, neg, input), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    beta, threshold = _param(beta, input), _param(threshold, input)
    bx = input * beta
    return where(bx > threshold, input, _ew.log1p(_ew.exp(bx.clamp(max=threshold))) / beta)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    return _inplace_result(input, input * _ew.sigmoid(input), inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow: ``-softplus(-x)``."""
    return -(_ew.log1p(_ew.exp(-input.abs())) + (-input).clamp(min=0))


def _implicit_dim(name, input, dim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", UserWarning, stacklevel=3)
        return 0 if input.dim() in (0, 1, 3) else 1
    if not input._shape:   # a 0-d tensor has dims -1 and 0 only (IndexError otherwise)
        normalize_dim(dim, 0)
    return dim


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    return _rd.softmax(input, _implicit_dim("softmax", input, dim), dtype=dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    return _rd.log_softmax(input, _implicit_dim("log_softmax", input, dim), dtype=dtype)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _rd.softmax(-input, _implicit_dim("softmin", input, dim), dtype=dtype)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim`` (any ``p`` of ``norm``: 0 and +-inf too)."""
    from ..ops.reduction import norm
    if isinstance(input, Tensor) and not input._shape and type(dim) is int:
        normalize_dim(dim, 0)   # a 0-d tensor has dims -1 and 0 only (IndexError otherwise)
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)


# ---- dropout -------------------------------------------------------------------------------

def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (identity when not ``training``)."""
    if not isinstance(input, Tensor):   # checked here: the identity paths would hand it back
        raise TypeError(f"dropout(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
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
    from ..creation import empty
    mask = empty(input._shape, dtype=input._dtype, device=input.device)
    if mask.numel():
        mask._backend.random("bernoulli", mask._a, default_generator.next_seed(), prob, None)
    return mask


# ---- encodings -----------------------------------------------------------------------------

def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor with a trailing dim of ``num_classes``: 1 at each index, 0 elsewhere."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' must be Tensor, not {type(tensor).__name__}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"one_hot(): argument 'num_classes' must be int, not {type(num_classes).__name__}")
    if tensor._dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    from ..creation import zeros
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
    out = zeros(tensor._shape + (num_classes,), dtype=int64, device=tensor.device)
    if tensor.numel():
        out = out.scatter(-1, tensor.unsqueeze(-1), 1)
    return out


guard_function_forms(globals())
