"""What the decompositions share: ``LinAlgError``, the result types (PyTorch's
``torch.return_types``), the input checks, and the calls of the device's optional
linalg kernels on ``(B, m, n)`` foldings of batched matrices."""

from __future__ import annotations

from collections import namedtuple

from ...dtypes import float32, float64
from ...layout import numel
from ...optable import ops
from ...tensor import Tensor, make
from ..checks import check_tensor


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


def check_same_device(A: Tensor, B: Tensor, fname: str) -> None:
    """The two operands of a solve live on one device (PyTorch's message names both)."""
    if A._backend is not B._backend:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{A.device} and {B.device}! (in {fname})")


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

