"""Matrix decompositions and what is built on them: ``inverse``, ``det``, ``slogdet``,
``logdet``, ``cholesky``, ``qr``, ``svd``, ``pinverse``, ``matrix_power`` (PyTorch's
top-level forms), and the ``torch.linalg`` functions of the same family (``solve``,
``cholesky_ex``, ``eigh``, ``svdvals``, ``pinv``...), which ``plugrad.linalg`` names.

The factorizations run on the device's optional linalg kernels
(``Backend.linalg_solve``, ``linalg_slogdet``, ``linalg_cholesky``, ``linalg_qr``,
``linalg_eigh``, ``linalg_svd``), whose default computes on the host in plain Python:
every device has them. Batches ``(..., m, n)`` are folded into one ``(B, m, n)``
call. Each op records PyTorch's node (``LinalgInvExBackward0``,
``LinalgSvdBackward0``...), whose backward is PyTorch's formula written with plugrad
ops, so gradients run on every device and are differentiable again.
"""

from __future__ import annotations

import math
from collections import namedtuple

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..dtypes import float32, float64, int32, int64
from ..layout import broadcast_shapes, numel
from ..optable import ops
from ..tensor import Tensor, make
from .checks import check_tensor
from .declare import declare, names_declared_in
from .dispatch import write_out

__all__: list = []   # set at the end: the declared ops


class LinAlgError(RuntimeError):
    """A matrix the operation cannot factor (singular, not positive-definite):
    PyTorch's ``torch.linalg.LinAlgError``, a RuntimeError."""


def _result_type(name, fields):
    cls = namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n"
                                 + ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")")
    return cls


SlogdetResult = _result_type("linalg_slogdet", ["sign", "logabsdet"])
TopSlogdetResult = _result_type("slogdet", ["sign", "logabsdet"])
InvExResult = _result_type("linalg_inv_ex", ["inverse", "info"])
SolveExResult = _result_type("linalg_solve_ex", ["result", "info"])
CholeskyExResult = _result_type("linalg_cholesky_ex", ["L", "info"])
QrResult = _result_type("linalg_qr", ["Q", "R"])
TopQrResult = _result_type("qr", ["Q", "R"])
SvdResult = _result_type("linalg_svd", ["U", "S", "Vh"])
TopSvdResult = _result_type("svd", ["U", "S", "V"])
EighResult = _result_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
LstsqResult = _result_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---- checks and the kernel calls ------------------------------------------------------------------

def check_matrices(A, fname: str, square: bool = True) -> None:
    """PyTorch's checks of a linalg input: a float32/float64 tensor of matrices (square ones)."""
    check_tensor(A, fname, "A")
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    d = A._dtype
    if not d.is_floating_point:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{d.name.capitalize() if d.name != 'int64' else 'Long'}")
    if d is not float32 and d is not float64:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got "
                           f"{'BFloat16' if d.name == 'bfloat16' else 'Half'}")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")


def _folded(A: Tensor) -> Tensor:
    """``A`` (detached) as a contiguous ``(B, m, n)`` tensor."""
    m, n = A._shape[-2:]
    return A.detach().contiguous().reshape(numel(A._shape[:-2]), m, n)


def _empty(like: Tensor, shape, dtype=None) -> Tensor:
    dtype = dtype or like._dtype
    shape = tuple(shape)
    return make(like._backend, like._backend.empty(shape, dtype), shape, dtype)


def _raise_info(infos, batch_shape, fname: str, message) -> None:
    """Raise LinAlgError for the first non-zero ``info``, naming its batch element."""
    for i, info in enumerate(infos):
        if info:
            where = f"(Batch element {i}): " if batch_shape else ""
            raise LinAlgError(f"{fname}: {where}{message(info)}")


def _solve_raw(A: Tensor, B: Tensor):
    """``(X, infos)`` with ``A X = B`` for ``A`` (..., n, n) and ``B`` (..., n, k) of one
    batch shape, untracked."""
    n, k = A._shape[-1], B._shape[-1]
    a, b = _folded(A), _folded(B)
    batch, backend = a._shape[0], a._backend
    x = _empty(a, (batch, n, k))
    infos = [0] * batch
    if batch and n:
        if k:
            infos = backend.linalg_solve(a._a, b._a, x._a, a._dtype, batch, n, k)
        else:   # no right-hand side: a singular A is still reported
            probe = ops.zeros(batch, n, 1, dtype=a._dtype, device=a.device)
            infos = backend.linalg_solve(a._a, probe._a, _empty(a, (batch, n, 1))._a, a._dtype, batch, n, 1)
    return x.reshape(B._shape), infos


def _eye_like(A: Tensor) -> Tensor:
    n = A._shape[-1]
    return ops.eye(n, dtype=A._dtype, device=A.device).expand(A._shape)


def _diag_embed(v: Tensor) -> Tensor:
    """Matrices with ``v``'s last dim on their diagonals (differentiable)."""
    n = v._shape[-1]
    return v.unsqueeze(-1) * ops.eye(n, dtype=v._dtype, device=v.device)


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


# ---- cholesky ------------------------------------------------------------------------------------------------

def _cholesky_grad(L: Tensor, gL: Tensor, upper: bool) -> Tensor:
    """PyTorch's ``cholesky_backward``: ``L^-H Phi(L^H gL) L^-1`` with Phi taking the lower
    triangle, its diagonal halved, mirrored (a symmetric gradient)."""
    if upper:
        L, gL = L.mT, gL.mT
    phi = (L.mT @ gL).tril()
    phi = 0.5 * (phi + phi.tril(-1).mT)
    X = solve(L.mT, phi)                 # L^-H phi
    return solve(L.mT, X.mT).mT          # X L^-1


class LinalgCholeskyExBackward0(Node):
    """d cholesky(A) (see _cholesky_grad)"""
    n_outputs = 2
    __slots__ = ("upper",)

    def backward(self, g, g_info=None):
        (L,) = self.saved_tensors
        return (_cholesky_grad(self.output_alias(L), g, self.upper),)


class CholeskyBackward0(Node):
    """d torch.cholesky(A) (see _cholesky_grad)"""
    __slots__ = ("upper",)

    def backward(self, g):
        (L,) = self.saved_tensors
        return (_cholesky_grad(self.output_alias(L), g, self.upper),)


def _cholesky_raw(A, upper, check_errors, fname):
    check_matrices(A, fname)
    n = A._shape[-1]
    with no_grad():
        a = _folded(A)
        batch = a._shape[0]
        low = _empty(a, (batch, n, n))
        infos = [0] * batch
        if batch and n:
            infos = a._backend.linalg_cholesky(a._a, low._a, a._dtype, batch, n)
        low = low.reshape(A._shape).tril()
        r = low.mT.contiguous() if upper else low
    if check_errors:
        _raise_info(infos, A._shape[:-2], fname, lambda info: (
            f"The factorization could not be completed because the input is not positive-definite (the leading "
            f"minor of order {info} is not positive-definite)."))
    return r, ops.tensor(infos, dtype=int32, device=A.device).reshape(A._shape[:-2])


def _cholesky_ex(A, upper, check_errors, fname):
    r, info = _cholesky_raw(A, upper, check_errors, fname)
    if STATE.enabled and A._requires_grad:
        node = LinalgCholeskyExBackward0()
        node.upper = upper
        node.save(r.detach())
        record(node, (A,), (r, info))
    return r, info


@declare(method=True)
def cholesky(input, upper=False, *, out=None) -> Tensor:
    """``torch.cholesky``: the lower (or ``upper``) Cholesky factor of each symmetric
    positive-definite matrix."""
    r, _ = _cholesky_raw(input, upper, True, "linalg.cholesky")
    if STATE.enabled and input._requires_grad:
        node = CholeskyBackward0()
        node.upper = upper
        node.save(r.detach())
        record(node, (input,), r)
    return r if out is None else write_out(out, r, "cholesky")


def linalg_cholesky(A, *, upper=False, out=None) -> Tensor:
    """``torch.linalg.cholesky``: ``L`` with ``A = L L^H`` (``U^H U`` when ``upper``); a
    matrix that is not positive-definite raises ``LinAlgError``."""
    r, _ = _cholesky_ex(A, upper, True, "linalg.cholesky")
    return r if out is None else write_out(out, r, "linalg.cholesky")


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``(L, info)``: ``info`` is the order of the first leading minor that is not
    positive-definite (0 when the factorization succeeded)."""
    r = CholeskyExResult(*_cholesky_ex(A, upper, check_errors, "linalg.cholesky_ex"))
    return r if out is None else CholeskyExResult(*(write_out(o, t, "linalg.cholesky_ex") for o, t in zip(out, r)))


# ---- QR ----------------------------------------------------------------------------------------------------------

def _copyltu(M: Tensor) -> Tensor:
    """The symmetric matrix with ``M``'s lower triangle."""
    return M.tril() + M.tril(-1).mT


def _qr_grad_tall(gQ, gR, Q, R):
    """m >= n: ``gA = [gQ + Q copyltu(M)] R^-H``, ``M = R gR^H - gQ^H Q``."""
    M = 0
    if gR is not None:
        M = R @ gR.mT
    if gQ is not None:
        M = M - gQ.mT @ Q
    B = Q @ _copyltu(M) if not isinstance(M, int) else Q * 0
    if gQ is not None:
        B = B + gQ
    return solve(R, B.mT).mT      # B R^-H


class LinalgQrBackward0(Node):
    """d qr(A) for m >= n (reduced), and for m < n by splitting A = [X | Y] (X square)"""
    n_outputs = 2
    __slots__ = ("mode",)

    def backward(self, gQ, gR):
        Q, R = self.saved_tensors
        Q, R = self.output_alias(Q, 0), self.output_alias(R, 1)
        m, n = Q._shape[-2], R._shape[-1]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return (_qr_grad_tall(gQ, gR, Q, R),)
        U, V = R[..., :, :m], R[..., :, m:]
        Y = (Q @ V)
        gU = gR[..., :, :m] if gR is not None else None
        gV = gR[..., :, m:] if gR is not None else None
        gQx = gQ if gV is None else (Y @ gV.mT if gQ is None else gQ + Y @ gV.mT)
        gX = _qr_grad_tall(gQx, gU, Q, U)
        gY = Q @ gV if gV is not None else gX[..., :, :0].expand(Y._shape) * 0
        return (ops.cat([gX, gY], -1),)


def _qr(A, mode, fname, result_type):
    check_matrices(A, fname, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    m, n = A._shape[-2:]
    k = m if mode == "complete" else min(m, n)
    with no_grad():
        a = _folded(A)
        batch = a._shape[0]
        q, r = _empty(a, (batch, m, k)), _empty(a, (batch, k, n))
        if batch and m and n:
            a._backend.linalg_qr(a._a, q._a, r._a, a._dtype, batch, m, n, mode == "complete")
        elif batch:
            q = _eye_like(ops.zeros(batch, m, m, dtype=a._dtype, device=a.device))[..., :k].contiguous()
            r = ops.zeros(batch, k, n, dtype=a._dtype, device=a.device)
        q, r = q.reshape(A._shape[:-2] + (m, k)), r.reshape(A._shape[:-2] + (k, n))
        if mode == "r":
            q = ops.zeros(0, dtype=A._dtype, device=A.device)
    if STATE.enabled and A._requires_grad:
        node = LinalgQrBackward0()
        node.mode = mode
        node.save(q.detach(), r.detach())
        record(node, (A,), (q, r))
    return result_type(q, r)


@declare(method=True)
def qr(input, some=True, *, out=None):
    """``torch.qr``: ``(Q, R)`` reduced (``some``) or complete."""
    r = _qr(input, "reduced" if some else "complete", "linalg.qr", TopQrResult)
    return r if out is None else TopQrResult(*(write_out(o, t, "qr") for o, t in zip(out, r)))


def linalg_qr(A, mode="reduced", *, out=None):
    """``torch.linalg.qr``: ``(Q, R)`` with ``mode`` "reduced", "complete" or "r" (R only;
    Q empty)."""
    r = _qr(A, mode, "linalg.qr", QrResult)
    return r if out is None else QrResult(*(write_out(o, t, "linalg.qr") for o, t in zip(out, r)))


# ---- eigh ----------------------------------------------------------------------------------------------------

class LinalgEighBackward0(Node):
    """d eigh(A) = V (diag(gL) + skew(V^H gV) / E) V^H, E_ij = L_j - L_i"""
    n_outputs = 2

    def backward(self, gL, gV):
        L, V = self.saved_tensors
        L, V = self.output_alias(L, 0), self.output_alias(V, 1)
        if gV is None:
            inner = _diag_embed(gL)
        else:
            VhgV = V.mT @ gV
            VhgV = 0.5 * (VhgV - VhgV.mT)
            E = L.unsqueeze(-2) - L.unsqueeze(-1)
            n = L._shape[-1]
            eye = ops.eye(n, dtype=L._dtype, device=L.device)
            inner = VhgV / (E + eye) * (1 - eye)
            if gL is not None:
                inner = inner + _diag_embed(gL)
        return (V @ inner @ V.mT,)


def _eigh(A, UPLO, fname):
    check_matrices(A, fname)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = A._shape[-1]
    with no_grad():
        a = _folded(A if UPLO == "L" else A.mT)
        batch = a._shape[0]
        w, v = _empty(a, (batch, n)), _empty(a, (batch, n, n))
        if batch and n:
            a._backend.linalg_eigh(a._a, w._a, v._a, a._dtype, batch, n)
        w, v = w.reshape(A._shape[:-1]), v.reshape(A._shape)
    if STATE.enabled and A._requires_grad:
        node = LinalgEighBackward0()
        node.save(w.detach(), v.detach())
        record(node, (A,), (w, v))
    return EighResult(w, v)


def eigh(A, UPLO="L", *, out=None):
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix (read from its lower
    triangle, or the upper one with ``UPLO="U"``): ascending eigenvalues, orthonormal
    eigenvectors as columns."""
    r = _eigh(A, UPLO, "linalg.eigh")
    return r if out is None else EighResult(*(write_out(o, t, "linalg.eigh") for o, t in zip(out, r)))


def eigvalsh(A, UPLO="L", *, out=None) -> Tensor:
    """The ascending eigenvalues of each symmetric matrix."""
    r = _eigh(A, UPLO, "linalg.eigvalsh").eigenvalues
    return r if out is None else write_out(out, r, "linalg.eigvalsh")


# ---- SVD ----------------------------------------------------------------------------------------------------------

def _svd_grad(gU, gS, gVh, U, S, Vh):
    """PyTorch's ``svd_backward`` (real matrices, reduced U and Vh)."""
    m, n = U._shape[-2], Vh._shape[-1]
    if gU is None and gVh is None:
        return (U * gS.unsqueeze(-2)) @ Vh
    S2 = S * S
    k = S._shape[-1]
    eye = ops.eye(k, dtype=S._dtype, device=S.device)
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye     # 1 on the diagonal: its entries are dropped
    UhgU = (U.mT @ gU) - (U.mT @ gU).mT if gU is not None else None
    VhgV = (Vh @ gVh.mT) - (Vh @ gVh.mT).mT if gVh is not None else None
    if UhgU is not None and VhgV is not None:
        inner = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        inner = (UhgU / E) * S.unsqueeze(-2)
    else:
        inner = S.unsqueeze(-1) * (VhgV / E)
    inner = inner * (1 - eye)
    if gS is not None:
        inner = inner + _diag_embed(gS)
    if m > n and gU is not None:
        gA = U @ inner
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (U.mT @ gUSinv)
        return gA @ Vh
    if m < n and gVh is not None:
        gA = inner @ Vh
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = gA + SinvgVh - (SinvgVh @ Vh.mT) @ Vh
        return U @ gA
    return U @ (inner @ Vh) if m >= n else (U @ inner) @ Vh


class LinalgSvdBackward0(Node):
    """d svd(A) (see _svd_grad); with full_matrices the extra columns get no gradient"""
    n_outputs = 3
    __slots__ = ("full_matrices",)

    def backward(self, gU, gS, gVh):
        U, S, Vh = self.saved_tensors
        U, S, Vh = self.output_alias(U, 0), self.output_alias(S, 1), self.output_alias(Vh, 2)
        k = S._shape[-1]
        if self.full_matrices:
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        if gS is None:
            gS = S * 0
        return (_svd_grad(gU, gS, gVh, U, S, Vh),)


def _svd_raw(A, full_matrices):
    m, n = A._shape[-2:]
    k = min(m, n)
    a = _folded(A)
    batch = a._shape[0]
    ucols, vrows = (m, n) if full_matrices else (k, k)
    u, s, vh = _empty(a, (batch, m, ucols)), _empty(a, (batch, k)), _empty(a, (batch, vrows, n))
    if batch and k:
        a._backend.linalg_svd(a._a, u._a, s._a, vh._a, a._dtype, batch, m, n, full_matrices)
    elif batch:
        eye_m = ops.eye(m, dtype=a._dtype, device=a.device)
        eye_n = ops.eye(n, dtype=a._dtype, device=a.device)
        u = eye_m[:, :ucols].expand(batch, m, ucols).contiguous()
        vh = eye_n[:vrows].expand(batch, vrows, n).contiguous()
    lead = A._shape[:-2]
    return u.reshape(lead + (m, ucols)), s.reshape(lead + (k,)), vh.reshape(lead + (vrows, n))


def _svd(A, full_matrices, fname):
    check_matrices(A, fname, square=False)
    with no_grad():
        u, s, vh = _svd_raw(A, full_matrices)
    if STATE.enabled and A._requires_grad:
        node = LinalgSvdBackward0()
        node.full_matrices = full_matrices
        node.save(u.detach(), s.detach(), vh.detach())
        record(node, (A,), (u, s, vh))
    return u, s, vh


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """``torch.linalg.svd``: ``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending."""
    r = SvdResult(*_svd(A, full_matrices, "linalg.svd"))
    return r if out is None else SvdResult(*(write_out(o, t, "linalg.svd") for o, t in zip(out, r)))


def svdvals(A, *, driver=None, out=None) -> Tensor:
    """The singular values of each matrix, descending."""
    s = _svd(A, False, "linalg.svdvals")[1]
    return s if out is None else write_out(out, s, "linalg.svdvals")


@declare(method=True)
def svd(input, some=True, compute_uv=True, *, out=None):
    """``torch.svd``: ``(U, S, V)`` (V, not its transpose), reduced unless ``some`` is
    False; without ``compute_uv``, U and V are zeros."""
    m, n = input._shape[-2:] if isinstance(input, Tensor) and input.dim() >= 2 else (0, 0)
    if compute_uv:
        u, s, vh = _svd(input, not some, "linalg.svd")
        r = TopSvdResult(u, s, vh.mT)
    else:
        s = _svd(input, False, "linalg.svd")[1]
        lead = input._shape[:-2]
        r = TopSvdResult(ops.zeros(lead + (m, m), dtype=input._dtype, device=input.device), s,
                         ops.zeros(lead + (n, n), dtype=input._dtype, device=input.device))
    return r if out is None else TopSvdResult(*(write_out(o, t, "svd") for o, t in zip(out, r)))


# ---- pinv, lstsq, matrix_rank, matrix_power ---------------------------------------------------------------

def _tolerance(S: Tensor, A: Tensor, atol, rtol) -> Tensor:
    """The cut of singular values, ``max(atol, rtol * s_max)`` per matrix (keepdim):
    rtol defaults to ``eps * max(m, n)`` when atol is not given (or not positive), to 0
    otherwise (PyTorch's rule); either may be a tensor of the batch shape."""
    m, n = A._shape[-2:]
    eps = 2.220446049250313e-16 if A._dtype is float64 else 1.1920928955078125e-07
    if rtol is None:
        rtol = eps * max(m, n) if atol is None or (not isinstance(atol, Tensor) and atol <= 0) else 0.0
    smax = S.amax(-1, keepdim=True) if S._shape[-1] else S.sum(-1, keepdim=True)
    cut = smax * (rtol.unsqueeze(-1) if isinstance(rtol, Tensor) else rtol)
    if atol is None:
        return cut
    return ops.maximum(cut, atol.unsqueeze(-1) if isinstance(atol, Tensor) else ops.full_like(cut, atol))


def _pinv_grad(g, pinvA, A):
    """PyTorch's ``pinv_backward``."""
    m, n = A._shape[-2:]
    pinvAh, gh = pinvA.mT, g.mT
    if m <= n:
        K = gh @ pinvA
        KpinvAh = K @ pinvAh
        return -(pinvA @ K).mT + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gh - K @ A)
    K = pinvA @ gh
    pinvAhK = pinvAh @ K
    return -(K @ pinvA).mT + (gh - A @ K) @ pinvA @ pinvAh + pinvAhK - pinvAhK @ pinvA @ A


class LinalgPinvBackward0(Node):
    """d pinv(A) (see _pinv_grad)"""

    def backward(self, g):
        A, pinvA = self.saved_tensors
        return (_pinv_grad(g, self.output_alias(pinvA), A),)


def _pinv_raw(A, atol, rtol, hermitian):
    if hermitian:
        w, V = _eigh(A.detach(), "L", "linalg.pinv")
        S = ops.abs(w)
        keep = S > _tolerance(S, A, atol, rtol)
        inv_w = ops.where(keep, 1 / ops.where(keep, w, 1.0), 0.0)
        return (V * inv_w.unsqueeze(-2)) @ V.mT
    U, S, Vh = _svd_raw(A.detach(), False)
    keep = S > _tolerance(S, A, atol, rtol)
    inv_s = ops.where(keep, 1 / ops.where(keep, S, 1.0), 0.0)
    return (Vh.mT * inv_s.unsqueeze(-2)) @ U.mT


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, from the SVD (the eigendecomposition when
    ``hermitian``): singular values at or below ``max(atol, rtol * s_max)`` count as 0."""
    check_matrices(A, "linalg.pinv", square=hermitian)
    with no_grad():
        r = _pinv_raw(A, atol, rtol, hermitian)
    if STATE.enabled and A._requires_grad:
        node = LinalgPinvBackward0()
        node.save(A, r.detach())
        record(node, (A,), r)
    return r if out is None else write_out(out, r, "linalg.pinv")


@declare(method=True)
def pinverse(input, rcond=1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv(input, rtol=rcond)``."""
    return pinv(input, rtol=rcond)


class LinalgLstsqBackward0(Node):
    """X = pinv(A) B: gB = pinv(A)^H g, gA = pinv_backward(g B^H, pinv(A), A)"""
    n_outputs = 4
    __slots__ = ("vector",)

    def backward(self, g, *_others):
        A, B, pinvA = self.saved_tensors
        needs = [e[0] is not None for e in self.next_functions]
        if self.vector:
            g, B = g.unsqueeze(-1), B.unsqueeze(-1)
        gA = _pinv_grad(g @ B.mT, pinvA, A) if needs[0] else None
        gB = pinvA.mT @ g if needs[1] else None
        return gA, (gB.squeeze(-1) if self.vector and gB is not None else gB)


def lstsq(A, B, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)`` of the least-squares problem
    ``min ||A X - B||``, as PyTorch's default driver (gelsy) gives it on the CPU: the
    minimum-norm solution (singular values below ``rcond`` times the largest dropped),
    the rank, and empty residuals and singular values."""
    check_matrices(A, "linalg.lstsq", square=False)
    check_tensor(B, "linalg.lstsq", "B")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                           f"but got {driver}")
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm._shape[-2] != A._shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got "
                           f"{A._shape[-2]} and {Bm._shape[-2]}")
    with no_grad():
        pinvA = _pinv_raw(A, None, rcond, False)
        x = pinvA @ Bm.detach()
        x = x.squeeze(-1) if vector else x
        S = _svd_raw(A.detach(), False)[1]
        rank = (S > _tolerance(S, A, None, rcond)).sum(-1)
    empty = ops.zeros(0, dtype=A._dtype, device=A.device)
    if STATE.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgLstsqBackward0()
        node.vector = vector
        node.save(A, B, pinvA)
        record(node, (A, B), (x, None, None, None))
    return LstsqResult(x, empty, rank.to(int64), empty)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None) -> Tensor:
    """The number of singular values (|eigenvalues| when ``hermitian``) above
    ``max(atol, rtol * s_max)``, as int64."""
    check_matrices(A, "linalg.matrix_rank", square=hermitian)
    with no_grad():
        if hermitian:
            S = ops.abs(_eigh(A.detach(), "L", "linalg.matrix_rank").eigenvalues)
        else:
            S = _svd_raw(A.detach(), False)[1]
        r = (S > _tolerance(S, A, atol, rtol)).sum(-1)
    return r if out is None else write_out(out, r, "linalg.matrix_rank")


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
