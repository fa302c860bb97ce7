"""Inverses, determinants and solvers: ``inverse`` (``linalg.inv``, ``inv_ex``), ``det``,
``slogdet``, ``logdet``, ``linalg.solve``/``solve_ex``, ``linalg.solve_triangular``,
``matrix_power`` and ``matrix_exp``, on the device's LU kernel (``linalg_solve``,
``linalg_slogdet``)."""

from __future__ import annotations

import math

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...dtypes import int32
from ...layout import broadcast_shapes
from ...optable import ops
from ...tensor import Tensor
from ..checks import check_tensor
from ..declare import declare, names_declared_in
from ..dispatch import write_out
from .common import (InvExResult, SlogdetResult, SolveExResult, TopSlogdetResult, _empty,
                     _eye_like, _folded, _raise_info, _solve_raw, check_matrices,
                     check_same_device)


# ---- inverse ------------------------------------------------------------------------------------------

class LinalgInvExBackward0(Node):
    """d A^-1 = -A^-T g A^-T"""
    n_outputs = 2

    def backward(self, g, g_info=None):
        (inv,) = self.saved_tensors
        inv_t = self.output_alias(inv).mT
        return (-(inv_t @ g @ inv_t),)


def _inv_message(info):
    return (f"The diagonal element {info} is zero, the inversion could not be completed because the input matrix "
            f"is singular.")


def _inv_ex(A, check_errors, fname):
    check_matrices(A, fname)
    with no_grad():
        r, infos = _solve_raw(A, _eye_like(A).contiguous())
    if check_errors:
        _raise_info(infos, A._shape[:-2], fname, _inv_message)
    info = ops.tensor(infos, dtype=int32, device=A.device).reshape(A._shape[:-2])
    if STATE.enabled and A._requires_grad:
        node = LinalgInvExBackward0()
        node.save(r.detach())
        record(node, (A,), (r, info))
    return r, info


@declare(method=True)
def inverse(input, *, out=None) -> Tensor:
    """The inverse of each square matrix (``torch.linalg.inv``); a singular one raises
    ``LinAlgError``."""
    r, _ = _inv_ex(input, True, "linalg.inv")
    return r if out is None else write_out(out, r, "inverse")


def inv_ex(A, *, check_errors=False, out=None):
    """``(inverse, info)``: ``info`` (int32) is 0, or the index of the first zero pivot of
    a singular matrix (whose inverse is then undefined), unless ``check_errors`` raises."""
    r = InvExResult(*_inv_ex(A, check_errors, "linalg.inv_ex"))
    return r if out is None else InvExResult(*(write_out(o, t, "linalg.inv_ex") for o, t in zip(out, r)))


# ---- determinants -------------------------------------------------------------------------------------

def _slogdet_raw(A: Tensor):
    n = A._shape[-1]
    a = _folded(A)
    batch = a._shape[0]
    sign, lad = _empty(a, (batch,)), _empty(a, (batch,))
    if batch and n:
        a._backend.linalg_slogdet(a._a, sign._a, lad._a, a._dtype, batch, n)
    elif batch:
        sign, lad = ops.ones(batch, dtype=a._dtype, device=a.device), ops.zeros(batch, dtype=a._dtype,
                                                                                 device=a.device)
    return sign.reshape(A._shape[:-2]), lad.reshape(A._shape[:-2])


def _det_grad(A: Tensor, g: Tensor, det: Tensor) -> Tensor:
    """``g det A^-T``; 0 for a singular matrix, as PyTorch gives it (its solve against
    ``g det = 0``), its inverse taken of the identity instead."""
    scale = (g * det).unsqueeze(-1).unsqueeze(-1)
    singular = (det == 0).unsqueeze(-1).unsqueeze(-1)
    if not bool(singular.any()):
        return scale * inverse(A).mT
    safe = ops.where(singular, _eye_like(A), A)
    return ops.where(singular, 0.0, scale * inverse(safe).mT)


class LinalgDetBackward0(Node):
    """d det(A) = g det(A) A^-T (0 for a singular A)"""

    def backward(self, g):
        A, det = self.saved_tensors
        return (_det_grad(A, g, self.output_alias(det)),)


@declare(method=True)
def det(input) -> Tensor:
    """The determinant of each square matrix (``torch.linalg.det``)."""
    A = input
    check_matrices(A, "linalg.det")
    with no_grad():
        sign, lad = _slogdet_raw(A)
        r = sign * ops.exp(lad)
    if STATE.enabled and A._requires_grad:
        node = LinalgDetBackward0()
        node.save(A, r.detach())
        record(node, (A,), r)
    return r


class LinalgSlogdetBackward0(Node):
    """d log|det A| = g A^-T (the sign has no gradient)"""
    n_outputs = 2

    def backward(self, g_sign, g_logabsdet):
        if g_logabsdet is None:
            return (None,)
        (A,) = self.saved_tensors
        return (g_logabsdet.unsqueeze(-1).unsqueeze(-1) * inverse(A).mT,)


def _slogdet(A, fname, result_type):
    check_matrices(A, fname)
    with no_grad():
        sign, lad = _slogdet_raw(A)
    if STATE.enabled and A._requires_grad:
        node = LinalgSlogdetBackward0()
        node.save(A)
        record(node, (A,), (sign, lad))
    return result_type(sign, lad)


@declare(method=True)
def slogdet(input):
    """``(sign, logabsdet)`` of each square matrix: sign 0 and logabsdet -inf for a
    singular one."""
    return _slogdet(input, "linalg.slogdet", TopSlogdetResult)


def linalg_slogdet(A, *, out=None):
    """``torch.linalg.slogdet``."""
    r = _slogdet(A, "linalg.slogdet", SlogdetResult)
    return r if out is None else SlogdetResult(*(write_out(o, t, "linalg.slogdet") for o, t in zip(out, r)))


@declare(method=True)
def logdet(input) -> Tensor:
    """``log(det(A))``: NaN for a negative determinant, -inf for a singular matrix."""
    sign, lad = _slogdet(input, "logdet", TopSlogdetResult)
    return ops.where(sign == -1, math.nan, lad)


# ---- solve ------------------------------------------------------------------------------------------------

class LinalgSolveExBackward0(Node):
    """X = A^-1 B: gB = A^-T g, gA = -gB X^T (for a vector B, -outer(gB, X))"""
    n_outputs = 2
    __slots__ = ("vector", "left")

    def backward(self, g, g_info=None):
        A, X = self.saved_tensors
        X = self.output_alias(X)
        needs = [e[0] is not None for e in self.next_functions]
        if not self.left:       # X A = B is A^T X^T = B^T
            gB_t = solve(A, g.mT)
            gA = -(X.mT @ gB_t.mT)
            return (gA if needs[0] else None, gB_t.mT if needs[1] else None)
        if self.vector:
            gB = solve(A.mT, g)
            gA = -(gB.unsqueeze(-1) * X.unsqueeze(-2))
        else:
            gB = solve(A.mT, g)
            gA = -(gB @ X.mT)
        return (gA if needs[0] else None, gB if needs[1] else None)


def _solve_ex(A, B, left, check_errors, fname):
    check_matrices(A, fname)
    check_tensor(B, fname, "B")
    check_same_device(A, B, fname)
    if B._dtype is not A._dtype:
        raise RuntimeError(f"{fname}: Expected A and B to have the same dtype, but found A of type "
                           f"{A._dtype.name} and B of type {B._dtype.name} instead")
    n = A._shape[-1]
    vector = left and (B.dim() == 1 or (B.dim() == A.dim() - 1 and B._shape == A._shape[:-1]))
    with no_grad():
        Bm = B.unsqueeze(-1) if vector else B
        if Bm.dim() < 2:
            raise RuntimeError(f"{fname}: B must have at least 1 dimension")
        a, b = (A, Bm) if left else (A.mT, Bm.mT)
        if b._shape[-2] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {Bm._shape[-2]}x{Bm._shape[-1]})")
        batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
        x, infos = _solve_raw(a.expand(batch + a._shape[-2:]), b.expand(batch + b._shape[-2:]))
        x = x if left else x.mT
        x = x.squeeze(-1) if vector else x
    if check_errors:
        _raise_info(infos, (), "torch.linalg.solve", lambda info: "The solver failed because the input matrix is "
                                                                  "singular.")
    info = ops.tensor(infos, dtype=int32, device=A.device).reshape(batch)
    if STATE.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveExBackward0()
        node.vector, node.left = vector, left
        node.save(A, x.detach())
        record(node, (A, B), (x, info))
    return x, info


def solve(A, B, *, left=True, out=None) -> Tensor:
    """``X`` with ``A X = B`` (``X A = B`` when not ``left``); ``B`` a matrix or a vector
    (batched); batch dims broadcast. A singular ``A`` raises ``LinAlgError``."""
    x, _ = _solve_ex(A, B, left, True, "linalg.solve")
    return x if out is None else write_out(out, x, "linalg.solve")


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``(result, info)`` of ``solve``; ``info`` is non-zero for a singular matrix."""
    r = SolveExResult(*_solve_ex(A, B, left, check_errors, "linalg.solve_ex"))
    return r if out is None else SolveExResult(*(write_out(o, t, "linalg.solve_ex") for o, t in zip(out, r)))


# ---- triangular solves ---------------------------------------------------------------------------------------

def _triangle(A: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of ``A`` a triangular solve reads (its strict part when the diagonal is
    taken as ones)."""
    if unitriangular:
        return A.triu(1) if upper else A.tril(-1)
    return A.triu() if upper else A.tril()


def _substitute(T: Tensor, B: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """``X`` with ``T X = B`` by substitution, one row per step (one matrix product each),
    for a triangular ``T`` (zeros off its triangle) and ``B`` of one batch shape; like
    LAPACK's trsm, a zero on the diagonal gives infinities and NaNs, never an error."""
    n = T._shape[-1]
    X = ops.zeros_like(B)
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        row = B[..., i, :] - (T[..., i:i + 1, :] @ X)[..., 0, :]
        X[..., i, :] = row if unitriangular else row / T[..., i, i:i + 1]
    return X


class LinalgSolveTriangularBackward0(Node):
    """X = T^-1 B: gB = T^-H g, gA = -gB X^H on T's triangle (X T = B: gB = g T^-H,
    gA = -X^H gB)"""
    __slots__ = ("upper", "left", "unitriangular")

    def backward(self, g):
        A, X = self.saved_tensors
        X = self.output_alias(X)
        needs = [e[0] is not None for e in self.next_functions]
        gB = solve_triangular(A.mT, g, upper=not self.upper, left=self.left, unitriangular=self.unitriangular)
        gA = None
        if needs[0]:
            gA = _triangle(-(gB @ X.mT) if self.left else -(X.mT @ gB), self.upper, self.unitriangular)
        return gA, gB if needs[1] else None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None) -> Tensor:
    """``X`` with ``A X = B`` (``X A = B`` when not ``left``) for a triangular ``A``: only
    its upper (or lower) triangle is read, its diagonal taken as ones when
    ``unitriangular``; batch dims broadcast. A zero on the diagonal gives infinities and
    NaNs, as LAPACK's trsm does."""
    check_matrices(A, "linalg.solve_triangular")
    check_tensor(B, "linalg.solve_triangular", "B")
    check_same_device(A, B, "linalg.solve_triangular")
    if B.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if B._dtype is not A._dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{A._dtype.name} and B of type {B._dtype.name} instead")
    n = A._shape[-1]
    if (B._shape[-2] if left else B._shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B._shape[-2]}x{B._shape[-1]})")
    with no_grad():
        T, rhs, up = (A, B, upper) if left else (A.mT, B.mT, not upper)
        batch = broadcast_shapes(T._shape[:-2], rhs._shape[:-2])
        T = _triangle(T, up, unitriangular).expand(batch + (n, n))
        X = _substitute(T, rhs.expand(batch + rhs._shape[-2:]).contiguous(), up, unitriangular)
        X = X if left else X.mT
    if STATE.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveTriangularBackward0()
        node.upper, node.left, node.unitriangular = upper, left, unitriangular
        node.save(A, X.detach())
        record(node, (A, B), X)
    return X if out is None else write_out(out, X, "linalg.solve_triangular")


# ---- matrix_exp ---------------------------------------------------------------------------------------------

#: Taylor terms after scaling to a 1-norm of at most 1/2: the remainder is below 1e-22
_EXP_TERMS = 18


def _expm(A: Tensor) -> Tensor:
    """``exp(A)`` by scaling and squaring: the Taylor series of ``A / 2^s`` (1-norm at most
    1/2, s shared by the batch), squared s times."""
    norm = A.abs().sum(-2).amax(-1).amax() if A.numel() else None
    scale = 0
    if norm is not None:
        value = float(norm.item())
        if value != value or value == math.inf:
            return A * math.nan
        while value > 0.5:
            value *= 0.5
            scale += 1
    X = A * (0.5 ** scale)
    result = _eye_like(A) + X
    term = X
    for k in range(2, _EXP_TERMS + 1):
        term = (term @ X) * (1.0 / k)
        result = result + term
    for _ in range(scale):
        result = result @ result
    return result


class LinalgMatrixExpBackward0(Node):
    """d exp(A) = the upper right block of exp([[A^H, g], [0, A^H]])"""

    def backward(self, g):
        (A,) = self.saved_tensors
        n = A._shape[-1]
        At = A.mT.expand(g._shape)
        top = ops.cat([At, g], -1)
        bottom = ops.cat([ops.zeros_like(At), At], -1)
        return (matrix_exp(ops.cat([top, bottom], -2))[..., :n, n:],)


@declare(method=True)
def matrix_exp(input) -> Tensor:
    """The matrix exponential of each square matrix."""
    check_matrices(input, "linalg.matrix_exp")
    with no_grad():
        r = _expm(input.detach())
    if STATE.enabled and input._requires_grad:
        node = LinalgMatrixExpBackward0()
        node.save(input)
        record(node, (input,), r)
    return r


@declare(method=True)
def matrix_power(input, n) -> Tensor:
    """``input`` to the integer power ``n`` by repeated squaring (``n < 0``: of its
    inverse; ``n = 0``: identity matrices)."""
    check_tensor(input, "matrix_power", "input")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if input.dim() < 2 or input._shape[-1] != input._shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input._shape[-2] if input.dim() >= 2 else 1} by {input._shape[-1] if input.dim() else 1}"
                           f" matrices")
    if n == 0:   # as PyTorch: a copy of the input overwritten with identities (a zero gradient)
        return input.clone().copy_(_eye_like(input))
    base = inverse(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


__all__ = names_declared_in(__name__)
