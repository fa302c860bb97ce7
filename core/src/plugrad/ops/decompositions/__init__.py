"""Matrix decompositions and what is built on them: ``inverse``, ``det``, ``slogdet``,
``logdet``, ``cholesky``, ``cholesky_solve``, ``cholesky_inverse``, ``qr``, ``svd``,
``pinverse``, ``matrix_power``, ``matrix_exp`` (PyTorch's top-level forms), and the
``torch.linalg`` functions of the same family (``solve``, ``cholesky_ex``, ``eigh``,
``svdvals``, ``pinv``...), which ``plugrad.linalg`` names.

The factorizations run on the device's optional linalg kernels (``Backend.linalg_solve``,
``linalg_slogdet``, ``linalg_cholesky``, ``linalg_qr``, ``linalg_eigh``, ``linalg_svd``),
whose default computes on the host in plain Python: every device has them. Batches
``(..., m, n)`` are folded into one ``(B, m, n)`` call. Each op records PyTorch's node
(``LinalgInvExBackward0``, ``LinalgSvdBackward0``...), whose backward is PyTorch's
formula written with plugrad ops, so gradients run on every device and are
differentiable again.

``common`` (checks, result types, kernel calls) <- ``solvers`` (inverses, determinants,
solves, powers) <- ``factorizations`` (Cholesky, QR, eigh, SVD) <- ``pseudoinverse``.
"""

from . import factorizations, pseudoinverse, solvers
from .common import LinAlgError
from .factorizations import (cholesky, cholesky_ex, cholesky_inverse, cholesky_solve, eigh, eigvalsh, linalg_cholesky,
                             linalg_qr, linalg_svd, qr, svd, svdvals)
from .pseudoinverse import lstsq, matrix_rank, pinv, pinverse
from .solvers import (det, inv_ex, inverse, linalg_slogdet, logdet, matrix_exp, matrix_power, slogdet, solve, solve_ex,
                      solve_triangular)

__all__ = [*solvers.__all__, *factorizations.__all__, *pseudoinverse.__all__]
