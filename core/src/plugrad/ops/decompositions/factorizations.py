"""The factorizations: Cholesky (``cholesky``, ``linalg.cholesky``/``cholesky_ex``, and
``cholesky_solve``/``cholesky_inverse`` on a factor), QR, the symmetric
eigendecomposition (``linalg.eigh``/``eigvalsh``) and the SVD (``svd``,
``linalg.svd``/``svdvals``), each with PyTorch's backward formula."""

from __future__ import annotations

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...dtypes import int32
from ...optable import ops
from ...tensor import Tensor
from ..checks import check_tensor
from ..declare import declare, names_declared_in
from ..dispatch import write_out
from .common import (CholeskyExResult, EighResult, LinAlgError, QrResult, SvdResult, TopQrResult, TopSvdResult,
                     _diag_embed, _empty, _eye_like, _folded, _raise_info, check_matrices, check_same_device)
from .solvers import solve, solve_triangular


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


class CholeskySolveBackward0(Node):
    """X = (L L^H)^-1 B: gB = cholesky_solve(g, L), gL = -(gB X^H + X gB^H) L (L^H (...) when upper)"""
    __slots__ = ("upper",)

    def backward(self, g):
        L, X = self.saved_tensors
        X = self.output_alias(X)
        needs = [e[0] is not None for e in self.next_functions]
        gB = cholesky_solve(g, L, self.upper)
        gL = None
        if needs[1]:
            common = gB @ X.mT
            common = common + common.mT
            gL = -(L @ common) if self.upper else -(common @ L)
        return gB if needs[0] else None, gL


@declare(method=True)
def cholesky_solve(input, input2, upper=False, *, out=None) -> Tensor:
    """``X`` with ``A X = input`` given ``A``'s Cholesky factor ``input2`` (lower, or upper
    with ``upper``): two triangular solves."""
    B, L = input, input2
    check_matrices(L, "cholesky_solve")
    check_tensor(B, "cholesky_solve", "input")
    check_same_device(L, B, "cholesky_solve")
    if B.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.dim()} dimensions instead")
    with no_grad():
        low = L.mT if upper else L
        Y = solve_triangular(low, B, upper=False)
        X = solve_triangular(low.mT, Y, upper=True)
    if STATE.enabled and (B._requires_grad or L._requires_grad):
        node = CholeskySolveBackward0()
        node.upper = upper
        node.save(L, X.detach())
        record(node, (B, L), X)
    return X if out is None else write_out(out, X, "cholesky_solve")


class CholeskyInverseBackward0(Node):
    """Y = (L L^H)^-1: gL = -Y (g + g^H) Y L (-L Y (g + g^H) Y when upper)"""
    __slots__ = ("upper",)

    def backward(self, g):
        L, Y = self.saved_tensors
        Y = self.output_alias(Y)
        common = Y @ (g + g.mT) @ Y
        return (-(L @ common) if self.upper else -(common @ L),)


@declare(method=True)
def cholesky_inverse(input, upper=False, *, out=None) -> Tensor:
    """The inverse of ``A = L L^H`` from its Cholesky factor ``input`` (upper with ``upper``)."""
    check_matrices(input, "cholesky_inverse")
    with no_grad():
        eye = _eye_like(input).contiguous()
        low = input.mT if upper else input
        Y = solve_triangular(low.mT, solve_triangular(low, eye, upper=False), upper=True)
    if STATE.enabled and input._requires_grad:
        node = CholeskyInverseBackward0()
        node.upper = upper
        node.save(input, Y.detach())
        record(node, (input,), Y)
    return Y if out is None else write_out(out, Y, "cholesky_inverse")


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
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        Q, R = self.saved_tensors
        Q, R = self.output_alias(Q, 0), self.output_alias(R, 1)
        m, n = Q._shape[-2], R._shape[-1]
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
        gY = Q @ gV if gV is not None else ops.zeros_like(Y)
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
        if not bool(ops.isfinite(a).all()):  # PyTorch's LAPACK path refuses it before factoring
            raise LinAlgError("linalg.svd: The algorithm failed to converge because the input matrix contained "
                              "non-finite values.")
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


__all__ = names_declared_in(__name__)
