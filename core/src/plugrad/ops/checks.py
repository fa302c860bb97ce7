"""Argument checks that many ops share: argument types, dims, dtypes, devices.

One function per rule, each raising PyTorch's error class with PyTorch's message (the
tests compare both with PyTorch), so that every op states a rule the same way. A rule
that only one op has stays beside that op. ``check_bool``, ``check_int``,
``check_tensor`` and ``check_same_device`` live in ``dispatch`` (the elementwise ops
use them too) and are re-exported here, so an op module finds all its argument checks
in one place.
"""

from __future__ import annotations

from ..layout import normalize_dim
from ..tensor import _LEGACY_NAMES, Tensor
from .dispatch import check_bool, check_int, check_same_device, check_tensor

__all__ = ["check_bool", "check_int", "check_tensor", "check_same_device", "check_tensors", "check_dim",
           "check_device", "check_floating", "type_name"]


def check_tensors(fname: str, **tensors) -> None:
    """Every named argument must be a Tensor (``check_tensor`` for each, in order), so that
    an op taking several tensors names the first wrong one as PyTorch's parser does."""
    for name, value in tensors.items():
        check_tensor(value, fname, name)


def check_dim(dim, x: Tensor) -> int:
    """``dim`` as a dim of ``x``, normalised (IndexError when out of range). A 0-d tensor
    takes dims -1 and 0, both meaning 0: PyTorch reads it as one element along one dim."""
    d = normalize_dim(dim, len(x._shape))
    return d if x._shape else 0


def check_device(x: Tensor, other: Tensor, fname: str, *, cpu_scalar_ok: bool = False) -> None:
    """``other`` must be on ``x``'s device: a kernel reads its operands on one device.
    ``cpu_scalar_ok``: a 0-d cpu tensor goes anyway, read as a number (PyTorch's rule for a
    value written into ``x``). Unlike ``dispatch.check_same_device``, nothing is converted."""
    if other._backend is x._backend or (cpu_scalar_ok and not other._shape and other.device.type == "cpu"):
        return
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                       f"{x.device} and {other.device}! (in {fname})")


def check_floating(x: Tensor, fname: str, what: str = "input") -> None:
    """``x`` must have a floating-point dtype: the op's result is a fraction (a mean, a
    probability, a convolution of float weights) and PyTorch refuses integer inputs."""
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"{fname}(): expected a floating point {what}, got {x._dtype!r}")


def type_name(dtype) -> str:
    """PyTorch's scalar type name of ``dtype`` in its kernels' messages ("Float", "Long", "Bool")."""
    return _LEGACY_NAMES[dtype.name][:-len("Tensor")]
