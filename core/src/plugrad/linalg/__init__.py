"""``plugrad.linalg`` (``torch.linalg``): norms, inverses, solvers and decompositions.

The decompositions and what is built on them live in ``plugrad.ops.decompositions``
(where ``plugrad.inverse``, ``plugrad.det``... are declared); the names PyTorch shares
between ``torch`` and ``torch.linalg`` are the same functions here (``linalg.inv`` is
``inverse``, ``linalg.det`` is ``det``). This module adds the norms and the small
compositions: ``vector_norm``, ``matrix_norm``, ``norm``, ``cross``, ``multi_dot``,
``vecdot``, ``vander``, ``diagonal``.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..layout import broadcast_shapes, normalize_dim
from ..ops import decompositions as _d
from ..ops.dispatch import check_tensor, write_out
from ..ops.join import cat, stack
from ..ops.linalg import matmul
from ..creation import ones_like
from ..dtypes import bool_, float16
from ..ops.reduction import amax, amin, cumprod, norm as _vector_norm, sum as _sum
from ..ops.views import diagonal as _diagonal
from ..tensor import Tensor

__all__ = ["cholesky", "cholesky_ex", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex", "lstsq",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "vander", "vecdot", "vector_norm"]

LinAlgError = _d.LinAlgError
inv = _d.inverse
inv_ex = _d.inv_ex
det = _d.det
slogdet = _d.linalg_slogdet
solve = _d.solve
solve_ex = _d.solve_ex
solve_triangular = _d.solve_triangular
cholesky = _d.linalg_cholesky
cholesky_ex = _d.cholesky_ex
qr = _d.linalg_qr
svd = _d.linalg_svd
svdvals = _d.svdvals
eigh = _d.eigh
eigvalsh = _d.eigvalsh
lstsq = _d.lstsq
pinv = _d.pinv
matrix_rank = _d.matrix_rank
matrix_power = _d.matrix_power
matrix_exp = _d.matrix_exp


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector over ``dim`` (all elements by default):
    ``ord`` a number, ``inf`` or ``-inf`` (0 counts the non-zeros)."""
    check_tensor(x, "linalg.vector_norm", "x")
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    r = _vector_norm(x, ord, dim, keepdim, dtype)
    return r if out is None else write_out(out, r, "linalg.vector_norm")


def _matrix_dims(A, dim, fname):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        got = dim[0] if isinstance(dim, (tuple, list)) and len(dim) == 1 else dim
        raise RuntimeError(f"{fname}: dim must be a 2-tuple. Got {got}")
    d0, d1 = normalize_dim(dim[0], A.dim()), normalize_dim(dim[1], A.dim())
    if d0 == d1:
        raise RuntimeError(f"{fname}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None) -> Tensor:
    """The matrix norm of the matrices over ``dim``: "fro" (Frobenius), "nuc" (the sum of
    singular values), 1/-1 (max/min column sum of |A|), inf/-inf (max/min row sum), 2/-2
    (largest/smallest singular value)."""
    check_tensor(A, "linalg.matrix_norm", "A")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    if not A.is_floating_point():
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype}")
    d0, d1 = _matrix_dims(A, dim, "linalg.matrix_norm")
    if ord == "fro":
        r = _vector_norm(A, 2, (d0, d1), keepdim)
    elif ord in ("nuc", 2, -2):
        s = _d.svdvals(A.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:     # as PyTorch: the two dims restored at the end, then moved back
            r = r.unsqueeze(-1).unsqueeze(-1).movedim((-2, -1), (d0, d1))
    elif ord in (1, -1, math.inf, -math.inf):
        summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)
        if not keepdim and summed < reduced:
            reduced -= 1
        sums = _sum(A.abs(), summed, keepdim=keepdim)
        r = amax(sums, reduced, keepdim=keepdim) if ord > 0 else amin(sums, reduced, keepdim=keepdim)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return r if out is None else write_out(out, r, "linalg.matrix_norm")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """A vector norm (``dim`` an int, or a 1-d input) or a matrix norm (``dim`` a pair,
    or a 2-d input with ``ord`` given); with neither ``ord`` nor ``dim``, the 2-norm of
    all elements."""
    check_tensor(A, "linalg.norm", "A")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is not None and A.dim() > 2:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.dim()}D.")
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and ord is not None and
                                                                        A.dim() == 2):
        r = matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    else:
        r = vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return r if out is None else write_out(out, r, "linalg.norm")


class LinalgCrossBackward0(Node):
    """d (a x b) = (b x g, g x a)"""
    __slots__ = ("dim",)

    def backward(self, g):
        a, b = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        return (_cross(b, g, self.dim) if needs[0] else None, _cross(g, a, self.dim) if needs[1] else None)


def _cross(a, b, dim):
    a0, a1, a2 = a.unbind(dim)
    b0, b1, b2 = b.unbind(dim)
    return stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), dim)


def cross(input, other, *, dim=-1, out=None) -> Tensor:
    """The cross product of the 3-vectors along ``dim`` (the operands broadcast)."""
    check_tensor(input, "linalg.cross", "input")
    check_tensor(other, "linalg.cross", "other")
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shapes(input._shape, other._shape)
    d = normalize_dim(dim, len(shape))
    sizes = [input._shape[d], other._shape[d]]
    if sizes != [3, 3]:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sizes[0]} and {sizes[1]}")
    with no_grad():
        r = _cross(input.expand(shape), other.expand(shape), d)
    if STATE.enabled and (input._requires_grad or other._requires_grad):
        node = LinalgCrossBackward0()
        node.dim = d
        node.save(input, other)
        record(node, (input, other), r)
    return r if out is None else write_out(out, r, "linalg.cross")


def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors)."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2:
        raise RuntimeError("multi_dot(): expected at least 2 tensors but got "
                           f"{len(tensors) if isinstance(tensors, (list, tuple)) else 0}")
    for i, t in enumerate(tensors):
        check_tensor(t, "linalg.multi_dot", f"tensors[{i}]")
        if t.dim() != 2 and not (t.dim() == 1 and i in (0, len(tensors) - 1)):
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    r = tensors[0]
    for t in tensors[1:]:
        r = matmul(r, t)
    r = r.view(r.shape)   # PyTorch's multi_dot ends in a view of its product
    return r if out is None else write_out(out, r, "linalg.multi_dot")


def vecdot(x, y, *, dim=-1, out=None) -> Tensor:
    """The dot product of the vectors along ``dim`` (the operands broadcast)."""
    check_tensor(x, "linalg.vecdot", "x")
    check_tensor(y, "linalg.vecdot", "y")
    r = _sum(x * y, dim)
    return r if out is None else write_out(out, r, "linalg.vecdot")


def vander(x, *, N=None) -> Tensor:
    """The Vandermonde matrix of the last dim of ``x``: columns ``x^0, x^1, ..., x^(N-1)``
    (N defaults to its length), composed as PyTorch does: ones, then a cumulative product."""
    check_tensor(x, "linalg.vander", "x")
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    if x.dtype in (float16, bool_):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{'Half' if x.dtype is float16 else 'Bool'}")
    n = x._shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = cumprod(x.unsqueeze(-1).expand(x._shape + (n - 1,)), -1)
    return cat([ones_like(powers[..., :1]), powers], -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """The diagonals of the matrices over the last two dims (a view)."""
    return _diagonal(A, offset, dim1, dim2)
