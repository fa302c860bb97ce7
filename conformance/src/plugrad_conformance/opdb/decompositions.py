"""Entries for the matrix decompositions (``plugrad.ops.decompositions``: ``inverse``,
``det``, ``cholesky``, ``qr``, ``svd``, ``matrix_exp``...) and the ``plugrad.linalg`` namespace
(``solve``, ``eigh``, the norms...), against ``numpy.linalg``.

Where a decomposition is unique only up to signs (the columns of SVD and eigenvector
matrices), the entry calls it through a function of what is unique (the squares of
the vectors' entries), so every device's solver is held to the same values and
gradients; where it reads one triangle (Cholesky, eigh), through a symmetric input
``X X^T + c I``, so the gradient check perturbs the matrix, not one triangle of it.
"""

from __future__ import annotations

import numpy as np
import plugrad
import scipy.linalg

from ..opinfo import INT_TO_INT64, INTS, ErrorInput, OpInfo, Sample

DECOMPOSITIONS = "plugrad.ops.decompositions"
LINALG = "plugrad.linalg"

#: LAPACK's dtypes (PyTorch refuses float16 for the decompositions)
LINALG_DTYPES = frozenset({"float32", "float64"})
#: the layout check expands inputs, which makes a square matrix singular: the entries of
#: the inverses and solvers leave it out (``layouts=False``), and so do the SVDs, whose
#: vectors for the zero singular values of such a matrix are not unique
#: float32 solvers differ in the last bits, and inverses amplify them
TOL = {"float32": (2e-4, 2e-4)}


def _l(name, ref, sample, family=DECOMPOSITIONS, **kw):
    kw.setdefault("dtypes", LINALG_DTYPES)
    kw.setdefault("tol", TOL)
    if family == LINALG:    # Tensor methods of these names are the top-level forms (Tensor.svd is torch.svd)
        kw.setdefault("method", False)
        kw.setdefault("inplace", False)
    return OpInfo(name, family, ref, sample, **kw)


def _n(g, lo=1, hi=3):
    return g.integers(lo, hi)


def _batch(g):
    return g.choice([(), (), (2,)])


def _well_conditioned(g, n, batch=()):
    """A matrix far from singular: random entries plus 4 on the diagonal."""
    return g.array(batch + (n, n)) / 4 + np.eye(n) * 2


def _square_sample(g):
    return Sample(_well_conditioned(g, _n(g), _batch(g)))


def _spd_factor_sample(g):
    """X of a symmetric positive-definite ``X X^T + I``."""
    n = _n(g)
    return Sample(g.array(_batch(g) + (n, n)) / 4)


def _rect_sample(g):
    m, n = _n(g), _n(g)
    return Sample(g.array(_batch(g) + (m, n)))


def _full_rank_sample(g):
    """A rectangular matrix of full rank: an identity block plus small entries."""
    m, n = _n(g), _n(g)
    eye = np.eye(m, n) * 2
    return Sample(g.array(_batch(g) + (m, n)) / 8 + eye)


def _spd(x):
    return x @ np.swapaxes(x, -1, -2) + np.eye(x.shape[-1])


def _spd_tensor(x):
    return x @ x.mT + plugrad.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def _singular(exc=RuntimeError, why="a singular matrix"):
    return ErrorInput(lambda g: Sample(np.array([[1.0, 2.0], [2.0, 4.0]])), exc, why, "float64")


def _not_square():
    return ErrorInput(lambda g: Sample(g.array((2, 3))), RuntimeError, "a 2 x 3 matrix")


def _half_refused():
    return ErrorInput(lambda g: Sample(g.array((2, 2))), RuntimeError, "a float16 matrix", "float16")


def _int_refused():
    return ErrorInput(lambda g: Sample(g.array((2, 2))), RuntimeError, "an int64 matrix", "int64")


SQUARE_ERRORS = [_not_square(), _half_refused(), _int_refused()]


# ---- references ----------------------------------------------------------------------------------

def _slogdet_ref(a):
    s, lad = np.linalg.slogdet(a)
    return s, lad


def _logdet_ref(a):
    s, lad = np.linalg.slogdet(a)
    return np.where(s < 0, np.nan, lad)


def _cholesky_ref(x, upper=False):
    low = np.linalg.cholesky(_spd(x))
    return np.swapaxes(low, -1, -2) if upper else low


def _cholesky_call(fn, attr=None):
    def call(x, **kwargs):
        r = fn(_spd_tensor(x), **kwargs)
        return getattr(r, attr) if attr else r
    return call


def _factor_sample(g, with_rhs):
    """A Cholesky factor (its triangle read, the rest random) and maybe a right-hand side."""
    n = _n(g)
    batch = _batch(g)
    factor = g.array(batch + (n, n)) / 4 + np.eye(n) * 2
    args = (g.array(batch + (n, _n(g))), factor) if with_rhs else (factor,)
    return Sample(*args, upper=g.boolean())


def _triangle_of(x, upper):
    return np.triu(x) if upper else np.tril(x)


def _cholesky_solve_ref(b, factor, upper=False):
    t = _triangle_of(factor, upper)
    a = np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2)
    return np.linalg.solve(a, b)


def _cholesky_inverse_ref(factor, upper=False):
    t = _triangle_of(factor, upper)
    return np.linalg.inv(np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2))


def _triangle_call(fn):
    """``fn`` on the factor's triangle: PyTorch's gradient of a factor is not masked to it,
    so the gradient check must perturb the triangle only."""
    def call(*args, upper=False):
        *rest, factor = args
        return fn(*rest, factor.triu() if upper else factor.tril(), upper=upper)
    return call


def _qr_sample(g):
    m, n = _n(g), _n(g)
    s = Sample(g.array(_batch(g) + (m, n)) / 8 + np.eye(m, n) * 2)
    if m <= n and g.boolean():
        s.kwargs["mode"] = "complete"
    return s


def _qr_ref(a, mode="reduced"):
    return np.linalg.qr(a, mode=mode)


def _top_qr_ref(a):
    return np.linalg.qr(a, mode="reduced")


def _eigh_ref(x):
    w, v = np.linalg.eigh(x + np.swapaxes(x, -1, -2))
    return w, v * v


def _eigh_call(x, **kwargs):
    w, v = plugrad.linalg.eigh(x + x.mT, **kwargs)
    return w, v * v


def _eigvalsh_ref(x):
    return np.linalg.eigvalsh(x + np.swapaxes(x, -1, -2))


def _svd_ref(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u * u, s, vh * vh


def _linalg_svd_call(a):
    u, s, vh = plugrad.linalg.svd(a, full_matrices=False)
    return u * u, s, vh * vh


def _top_svd_call(a):
    u, s, v = plugrad.svd(a)
    return u * u, s, v.mT * v.mT


def _distinct_singular_values_sample(g):
    """Singular values apart (their vectors are then unique up to sign)."""
    m, n = _n(g), _n(g)
    k = min(m, n)
    base = np.zeros((m, n))
    base[range(k), range(k)] = [3.0, 2.0, 1.0][:k]
    return Sample(g.array(_batch(g) + (m, n)) / 16 + base)


def _solve_sample(g):
    n, k = _n(g), _n(g)
    a = _well_conditioned(g, n, _batch(g))
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(a, g.array(a.shape[:-2] + (n, k)))
    if variant == 1:
        return Sample(a, g.array(a.shape[:-1]))        # a batch of vectors
    return Sample(a, g.array(a.shape[:-2] + (k, n)), left=False)


def _solve_ref(a, b, left=True):
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if b.ndim == a.ndim - 1:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def _solve_triangular_sample(g):
    n, k = _n(g), _n(g)
    a = _well_conditioned(g, n, _batch(g))
    left = g.boolean()
    b = g.array(a.shape[:-2] + ((n, k) if left else (k, n)))
    return Sample(a, b, upper=g.boolean(), left=left, unitriangular=g.boolean())


def _solve_triangular_ref(a, b, upper, left=True, unitriangular=False):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t - t * np.eye(a.shape[-1]) + np.eye(a.shape[-1])
    return _solve_ref(t, b, left)


def _exp_sample(g):
    n = _n(g)
    return Sample(g.array(_batch(g) + (n, n)) / 2)


def _matrix_power_sample(g):
    s = _square_sample(g)
    return Sample(s.args[0], g.choice([0, 1, 2, 3, -1, -2]))


def _pinv_sample(g):
    s = _full_rank_sample(g)
    if g.purpose == "forward" and g.boolean():
        s.kwargs["rtol"] = 0.01
    return s


def _pinv_ref(a, rtol=None, atol=None, hermitian=False):
    return np.linalg.pinv(a, rcond=1e-15 if rtol is None else rtol)


def _lstsq_sample(g):
    m, n = _n(g, 2, 4), _n(g)
    a = g.array((m, n)) / 8 + np.eye(m, n) * 2
    return Sample(a, g.array((m, _n(g))))


def _lstsq_ref(a, b):
    return np.linalg.pinv(a) @ b


def _rank_sample(g):
    m, n = _n(g), _n(g)
    a = g.array((m, n))
    if g.boolean() and m > 1:
        a[-1] = a[0] * 2          # a repeated row: rank one less
    return Sample(a)


def _rank_ref(a, **kwargs):
    return np.asarray(np.linalg.matrix_rank(a), dtype=np.int64)


def _norm_values(g, shape):
    """Magnitudes distinct and away from 0 (no kink of |x|, no tie of a max)."""
    if g.purpose == "forward":
        return np.asarray(g.array(shape))
    mags = np.abs(g.array(shape)) + 0.25 + np.arange(int(np.prod(shape))).reshape(shape) * 0.01
    signs = np.array([1.0 if g.boolean() else -1.0 for _ in range(mags.size)]).reshape(shape)
    return np.asarray(mags * signs)


def _vector_norm_sample(g):
    shape = g.shape(min_size=1)
    s = Sample(_norm_values(g, shape), g.choice([2, 1, 3, float("inf"), -float("inf")]))
    if len(shape) and g.boolean():
        s.kwargs["dim"] = -1
        s.kwargs["keepdim"] = g.boolean()
    return s


def _vector_norm_ref(x, ord=2, dim=None, keepdim=False):
    a = np.abs(x)
    axis = None if dim is None else dim
    if ord == float("inf"):
        return np.max(a, axis=axis, keepdims=keepdim)
    if ord == -float("inf"):
        return np.min(a, axis=axis, keepdims=keepdim)
    return np.sum(a ** ord, axis=axis, keepdims=keepdim) ** (1.0 / ord)


def _matrix_norm_sample(g):
    m, n = _n(g), _n(g)
    ord_ = g.choice(["fro", "nuc", 1, -1, 2, float("inf"), -float("inf")])
    x = _norm_values(g, _batch(g) + (m, n))
    if ord_ in ("nuc", 2):    # singular values apart: differentiable
        x = _distinct_singular_values_sample(g).args[0]
    return Sample(x, ord_, keepdim=g.boolean())


def _matrix_norm_ref(a, ord="fro", dim=(-2, -1), keepdim=False):
    if a.ndim == 2:
        r = np.linalg.norm(a, ord, axis=(-2, -1), keepdims=keepdim)
    else:
        r = np.stack([np.linalg.norm(x, ord, keepdims=keepdim) for x in a]) if len(a) else np.zeros((0,))
    return np.asarray(r)


def _linalg_norm_sample(g):
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(_norm_values(g, g.shape(min_size=1)))
    if variant == 1:
        return Sample(_norm_values(g, (_n(g), 3)), g.choice([1, 3]), dim=1)
    return Sample(_norm_values(g, (_n(g), _n(g))), g.choice(["fro", 1, float("inf")]))


def _linalg_norm_ref(a, ord=None, dim=None, keepdim=False):
    if ord is None and dim is None:
        return np.asarray(np.sqrt(np.sum(a * a)))
    if isinstance(dim, int):
        return np.sum(np.abs(a) ** ord, axis=dim) ** (1.0 / ord)
    return np.asarray(np.linalg.norm(a, ord))


def _cross_sample(g):
    batch = _batch(g)
    return Sample(g.array(batch + (3,)), g.array(batch + (3,)))


def _multi_dot_sample(g):
    sizes = [_n(g) for _ in range(4)]
    first = g.array((sizes[0],)) if g.boolean() else g.array((sizes[1], sizes[0]))
    return Sample([first, g.array((sizes[0], sizes[2])), g.array((sizes[2], sizes[3]))])


def _multi_dot_ref(arrays):
    return np.linalg.multi_dot(arrays)


def _vecdot_sample(g):
    shape = _batch(g) + (_n(g),)
    return Sample(g.array(shape), g.array(shape))


def _vander_sample(g):
    s = Sample(g.array(_batch(g) + (_n(g, 2, 4),)))
    if g.boolean():
        s.kwargs["N"] = _n(g, 2, 4)
    return s


def _vander_ref(x, N=None):
    n = x.shape[-1] if N is None else N
    return x[..., None] ** np.arange(n)


def _diagonal_sample(g):
    s = Sample(g.array(_batch(g) + (_n(g), _n(g))))
    if g.boolean():
        s.kwargs["offset"] = g.choice([1, -1])
    return s


def _diagonal_ref(a, offset=0):
    return np.diagonal(a, offset, -2, -1)


ENTRIES = [
    _l("inverse", np.linalg.inv, _square_sample, layouts=False, errors=SQUARE_ERRORS + [_singular()]),
    _l("det", np.linalg.det, _square_sample, errors=SQUARE_ERRORS),
    _l("slogdet", _slogdet_ref, _square_sample, errors=SQUARE_ERRORS),
    _l("logdet", _logdet_ref, _square_sample, errors=SQUARE_ERRORS),
    _l("cholesky", _cholesky_ref, _spd_factor_sample, call=_cholesky_call(plugrad.cholesky), method=False,
       out_when=lambda s: False),
    _l("qr", _top_qr_ref, _full_rank_sample, method=False),
    _l("cholesky_solve", _cholesky_solve_ref, lambda g: _factor_sample(g, True),
       call=_triangle_call(plugrad.cholesky_solve), method=False, out_when=lambda s: False, layouts=False),
    _l("cholesky_inverse", _cholesky_inverse_ref, lambda g: _factor_sample(g, False),
       call=_triangle_call(plugrad.cholesky_inverse), method=False, out_when=lambda s: False, layouts=False),
    _l("svd", _svd_ref, _distinct_singular_values_sample, call=_top_svd_call, method=False, layouts=False,
       out_when=lambda s: False),
    _l("pinverse", _pinv_ref, _full_rank_sample),
    _l("matrix_exp", scipy.linalg.expm, _exp_sample,
       errors=SQUARE_ERRORS),
    _l("matrix_power", np.linalg.matrix_power, _matrix_power_sample, layouts=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 2), RuntimeError, "a 2 x 3 matrix")]),
    # plugrad.linalg's own functions
    _l("inv_ex", np.linalg.inv, _square_sample, family=LINALG, layouts=False,
       call=lambda a: plugrad.linalg.inv_ex(a).inverse, out_when=lambda s: False),
    _l("solve", _solve_ref, _solve_sample, family=LINALG, layouts=False,
       errors=[ErrorInput(lambda g: Sample(np.array([[1.0, 2.0], [2.0, 4.0]]), np.ones(2)), RuntimeError,
                          "a singular matrix", "float64"),
               ErrorInput(lambda g: Sample(np.eye(2), np.ones(3)), RuntimeError, "sizes 2 and 3")]),
    _l("solve_ex", _solve_ref, _solve_sample, family=LINALG, layouts=False,
       call=lambda a, b, **kw: plugrad.linalg.solve_ex(a, b, **kw).result, out_when=lambda s: False),
    _l("solve_triangular", _solve_triangular_ref, _solve_triangular_sample, family=LINALG, layouts=False),
    _l("cholesky", _cholesky_ref, _spd_factor_sample, family=LINALG,
       call=_cholesky_call(plugrad.linalg.cholesky), out_when=lambda s: False),
    _l("cholesky_ex", _cholesky_ref, _spd_factor_sample, family=LINALG,
       call=_cholesky_call(plugrad.linalg.cholesky_ex, "L"), out_when=lambda s: False),
    _l("qr", _qr_ref, _qr_sample, family=LINALG),
    _l("slogdet", _slogdet_ref, _square_sample, family=LINALG),
    _l("eigh", _eigh_ref, _square_sample, family=LINALG, call=_eigh_call, out_when=lambda s: False),
    _l("eigvalsh", _eigvalsh_ref, _square_sample, family=LINALG,
       call=lambda x: plugrad.linalg.eigvalsh(x + x.mT), out_when=lambda s: False),
    _l("svd", _svd_ref, _distinct_singular_values_sample, family=LINALG, call=_linalg_svd_call, layouts=False,
       out_when=lambda s: False),
    _l("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), _distinct_singular_values_sample, family=LINALG),
    _l("pinv", _pinv_ref, _pinv_sample, family=LINALG),
    _l("lstsq", _lstsq_ref, _lstsq_sample, family=LINALG, call=lambda a, b: plugrad.linalg.lstsq(a, b).solution,
       out_when=lambda s: False),
    _l("matrix_rank", _rank_ref, _rank_sample, family=LINALG, differentiable=False,
       result_dtype=lambda d, s: plugrad.int64),
    _l("vector_norm", _vector_norm_ref, _vector_norm_sample, family=LINALG),
    _l("matrix_norm", _matrix_norm_ref, _matrix_norm_sample, family=LINALG),
    _l("norm", _linalg_norm_ref, _linalg_norm_sample, family=LINALG),
    _l("cross", lambda a, b: np.cross(a, b), _cross_sample, family=LINALG),
    _l("multi_dot", _multi_dot_ref, _multi_dot_sample, family=LINALG),
    _l("vecdot", lambda a, b: np.sum(a * b, axis=-1), _vecdot_sample, family=LINALG),
    _l("vander", _vander_ref, _vander_sample, family=LINALG, dtypes=LINALG_DTYPES | INTS, result_dtype=INT_TO_INT64,
       errors=[_half_refused()]),
    _l("diagonal", _diagonal_ref, _diagonal_sample, family=LINALG, view=True),
]

__all__ = ["ENTRIES"]
