"""More tensor factories with PyTorch's names: signal windows (``hann_window``...),
``tril_indices``/``triu_indices``, ``logspace``, the deprecated inclusive ``range``,
``empty_strided`` and ``asarray``.

They take no tensor input, so they are not ops: the values are computed on the host
in double precision (a window or an index list is small) and become a tensor of the
requested dtype on the requested device, like ``plugrad.creation``'s factories.
"""

from __future__ import annotations

import math
import warnings

from .creation import arange, as_tensor, empty, tensor
from .dtypes import get_default_dtype, int64
from .ops.dispatch import write_out
from .tensor import Tensor

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window", "tril_indices",
           "triu_indices", "logspace", "range", "empty_strided", "asarray"]

_range = range


def _window(name, window_length, periodic, dtype, device, requires_grad, value):
    """A window of ``window_length`` points, ``value(n, N)`` at point n of a symmetric
    window of N points; a periodic window is the symmetric one of length + 1 without
    its last point (PyTorch's rule)."""
    if type(window_length) is not int:
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    dtype = get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        values = [1.0] * window_length
    else:
        n_points = window_length + 1 if periodic else window_length
        values = [value(n, n_points) for n in _range(window_length)]
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.5 - 0.5 * math.cos(2 * math.pi * n / (N - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """The Hamming window ``alpha - beta cos(2 pi n / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: alpha - beta * math.cos(2 * math.pi * n / (N - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.42 - 0.5 * math.cos(2 * math.pi * n / (N - 1))
                   + 0.08 * math.cos(4 * math.pi * n / (N - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window ``1 - |2n / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 1 - abs(2 * n / (N - 1) - 1))


def _i0(x: float) -> float:
    """The modified Bessel function I0 by its power series (it converges for every x;
    terms are added until they no longer change the sum)."""
    total, term, k = 1.0, 1.0, 0
    quarter = x * x / 4
    while True:
        k += 1
        term *= quarter / (k * k)
        if total + term == total:
            return total
        total += term


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """The Kaiser window ``I0(beta sqrt(1 - (2n / (N - 1) - 1)**2)) / I0(beta)``."""
    scale = _i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: _i0(beta * math.sqrt(max(0.0, 1 - (2 * n / (N - 1) - 1) ** 2))) / scale)


def _triangle_indices(name, row, col, offset, dtype, device, keep):
    for arg, v in (("row", row), ("col", col), ("offset", offset)):
        if type(v) is not int:
            raise TypeError(f"{name}(): argument '{arg}' must be int, not {type(v).__name__}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row and col must be non-negative, got row={row}, col={col}")
    pairs = [(i, j) for i in _range(row) for j in _range(col) if keep(j - i, offset)]
    return tensor([[i for i, _ in pairs], [j for _, j in pairs]], dtype=dtype, device=device).reshape(2, len(pairs))


def tril_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the lower triangle of a row x col matrix (diagonals
    up to ``offset`` above the main one), as a 2 x N tensor in row-major order."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, lambda d, k: d <= k)


def triu_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None) -> Tensor:
    """The (row, column) indices of the upper triangle (diagonals from ``offset`` on)."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, lambda d, k: d >= k)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` points from ``base**start`` to ``base**end``, evenly spaced in the exponent
    (the exponents stepped as ``linspace`` steps them: from both ends toward the middle)."""
    if type(steps) is not int or steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps}")
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    exponents = [start + i * step if i < steps / 2 else end - (steps - 1 - i) * step
                 for i in _range(steps)]
    r = tensor([float(base) ** e for e in exponents], device=device).to(dtype or get_default_dtype())
    if out is not None:
        return write_out(out, r, "logspace")
    return r.requires_grad_() if requires_grad else r


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: ``start`` to ``end`` *inclusive*, ``step`` apart, in the default float
    dtype; warns, as PyTorch does (use ``arange``, which excludes ``end``)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    count = int(math.floor((end - start) / step)) + 1
    r = arange(count, dtype=dtype or get_default_dtype(), device=device) * step + start
    r = r.to(dtype or get_default_dtype())
    if out is not None:
        return write_out(out, r, "range")
    return r.requires_grad_() if requires_grad else r


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialized tensor with the given shape and strides (over a storage just
    long enough for them)."""
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} vs {len(stride)})")
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    r = empty(extent, dtype=dtype, device=device).as_strided(size, stride)
    return r.requires_grad_() if requires_grad else r


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """``obj`` as a tensor: a tensor itself when it already has the dtype and device
    (and ``copy`` is not True); ``copy=True`` always copies, ``copy=False`` refuses to."""
    if isinstance(obj, Tensor):
        r = obj.to(device=device or obj.device, dtype=dtype or obj.dtype)
        if copy is False and r is not obj:
            raise ValueError("asarray(): can't satisfy copy=False: a dtype or device change needs a copy")
    else:
        r = as_tensor(obj, dtype=dtype, device=device)
    if copy is True and (r is obj or isinstance(obj, Tensor) and r.data_ptr() == obj.data_ptr()):
        r = r.clone()
    return r.requires_grad_() if requires_grad and not r.requires_grad else r
