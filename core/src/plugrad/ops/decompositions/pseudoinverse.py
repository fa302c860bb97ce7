"""What is built on the SVD: ``linalg.pinv`` (and ``pinverse``), ``linalg.lstsq`` and
``linalg.matrix_rank``, with PyTorch's rule for the cut of small singular values."""

from __future__ import annotations

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...dtypes import float64, int64
from ...optable import ops
from ...tensor import Tensor
from ..checks import check_tensor
from ..declare import declare, names_declared_in
from ..dispatch import write_out
from .common import LstsqResult, check_matrices, check_same_device
from .factorizations import _eigh, _svd_raw


# ---- pinv, lstsq, matrix_rank ---------------------------------------------------------------

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
        if STATE.enabled:   # a double backward: pinv(A) as a function of A
            pinvA = pinv(A)
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
    check_same_device(A, B, "linalg.lstsq")
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


__all__ = names_declared_in(__name__)
