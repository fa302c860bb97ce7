"""Weight initialisation (``torch.nn.init``): fill a tensor in place, untracked.

The random fills are ``Tensor.uniform_``/``normal_``, which draw PyTorch's CPU streams,
and the bounds and standard deviations follow PyTorch's formulas: after
``manual_seed(0)``, ``nn.Linear(3, 4)`` holds PyTorch's very weights.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import no_grad
from ..creation import empty, empty_like, eye
from ..linalg import qr
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "dirac_",
           "uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "dirac"]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale of the weights in front of ``nonlinearity`` (1 for linear
    and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2/(1+slope^2)) for leaky_relu,
    3/4 for selu)."""
    if nonlinearity in _LINEAR_LIKE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fill_random(tensor: Tensor, dist: str, low: float, high: float, generator) -> Tensor:
    """``tensor.uniform_(low, high)`` or ``tensor.normal_(low, high)`` untracked: PyTorch's
    streams, so a seeded module starts from PyTorch's very weights."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a Tensor to initialise, got {type(tensor).__name__}")
    if not tensor._dtype.is_floating_point:
        raise RuntimeError(f"{dist} initialisation needs a floating point tensor, got {tensor._dtype!r}")
    with no_grad():
        if dist == "uniform":
            return tensor.uniform_(low, high, generator=generator)
        return tensor.normal_(low, high, generator=generator)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill_random(tensor, "uniform", float(a), float(b), generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    return _fill_random(tensor, "normal", float(mean), float(std), generator)


def constant_(tensor: Tensor, val) -> Tensor:
    """Fill with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-d tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        tensor.copy_(eye(*tensor._shape, dtype=tensor._dtype, device=tensor.device))
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    """Fan-in and fan-out of a weight: (in, out) times the receptive field size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for n in tensor._shape[2:]:
        receptive *= n
    return tensor._shape[1] * receptive, tensor._shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> Tensor:
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)`` (He et al.)."""
    if 0 in tensor._shape:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> Tensor:
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He et al.)."""
    if 0 in tensor._shape:
        warnings.warn("Initializing zero-element tensors is a no-op", UserWarning, stacklevel=2)
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b], by PyTorch's rejection sampling:
    redraw from the normal while it hits the bounds often (P(a<=X<=b) > 0.3), else
    draw uniformly on [a, b] and accept with the normal density relative to its peak."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    with no_grad():
        if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
            normal_(tensor, mean, std, generator)
            lo, hi = (empty((), dtype=tensor._dtype).fill_(v).item() for v in (a, b))   # as the tensor holds them
            while True:
                pending = (tensor < lo) | (tensor > hi)
                if not pending.any():
                    return tensor
                tensor.copy_(normal_(empty_like(tensor), mean, std, generator).where(pending, tensor))
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        candidates = uniform_(empty_like(tensor), a, b, generator)
        result = candidates
        pending = None
        while True:
            log_density = ((candidates - mean) / std) ** 2 * -0.5 - log_peak
            rejected = uniform_(empty_like(tensor), 0.0, 1.0, generator).log() > log_density
            pending = rejected if pending is None else pending & rejected
            if not pending.any():
                tensor.copy_(result)
                return tensor
            candidates = uniform_(empty_like(tensor), a, b, generator)
            result = candidates.where(pending, result)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (Saxe et al. 2013), trailing dims flattened:
    the Q of a Gaussian matrix's QR, its columns' signs fixed by R's diagonal so that Q
    is Haar-distributed, times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor._shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        flattened = normal_(empty((rows, cols), dtype=tensor._dtype, device=tensor.device), 0.0, 1.0, generator)
        if rows < cols:
            flattened = flattened.t()
        q, r = qr(flattened)
        q = q * r.diagonal().sign()
        if rows < cols:
            q = q.t()
        tensor.copy_((q * gain).reshape(tensor._shape))
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta, so the convolution
    passes as many input channels through unchanged as it can (per group)."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor._shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    centre = tuple(n // 2 for n in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(per_group, sizes[1])):
                tensor[(g * per_group + d, d) + centre] = 1
    return tensor


def _make_deprecate(meth):
    """The pre-0.4 name without the trailing underscore: warns like PyTorch, then fills."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.", FutureWarning,
                      stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...): deprecated, use ``nn.init.{new_name}``."
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
dirac = _make_deprecate(dirac_)
