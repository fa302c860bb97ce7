"""``plugrad.linalg`` and the decompositions (``inverse``, ``det``, ``cholesky``, ``qr``,
``svd``...) against PyTorch, on every installed device: the same expression in both
libraries must give the same values, the same ``grad_fn`` name, the same gradients (of
sign-free functions of the vectors where a decomposition fixes them only up to sign),
the same result fields and the same exceptions. The pure-Python solvers behind the
devices without their own (``plugrad.hostlinalg``) are checked against NumPy's LAPACK."""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from plugrad import hostlinalg

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch_oracle, pytest.mark.filterwarnings("ignore::UserWarning")]

RNG = np.random.default_rng(11)
A3 = RNG.standard_normal((2, 3, 3)) + 2 * np.eye(3)
SPD = A3 @ A3.transpose(0, 2, 1) + np.eye(3)
TALL = RNG.standard_normal((4, 3))
WIDE = RNG.standard_normal((3, 4))
RHS = RNG.standard_normal((2, 3, 2))
RHS_TALL = RNG.standard_normal((4, 2))


def _tensors(lib, arrays, device, requires_grad):
    kw = {"device": device} if lib is plugrad else {}
    return [lib.tensor(a, dtype=lib.float64, requires_grad=requires_grad, **kw) for a in arrays]


def _leaves(r):
    return [t for t in (r if isinstance(r, tuple) else (r,)) if t is not None]


def _close(ours, theirs, rtol=1e-8, atol=1e-9):
    assert str(ours.dtype) == str(theirs.dtype), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.array(ours.tolist(), dtype=float).reshape(tuple(ours.shape)),
                               theirs.detach().double().numpy(), rtol=rtol, atol=atol, equal_nan=True)


def _sum_all(lib, r, weights):
    """A scalar from every floating output, weighted so each one's gradient matters."""
    total = 0
    for w, t in zip(weights, _leaves(r)):
        if t.dtype.is_floating_point:
            total = total + (t * w).sum()
    return total


CASES = [
    # (id, grad_fn name, expression, arrays, loss of the outputs or None, second derivatives)
    ("linalg.inv", "LinalgInvExBackward0", lambda m, a: m.linalg.inv(a), [A3], None, True),
    ("inverse", "LinalgInvExBackward0", lambda m, a: m.inverse(a), [A3], None, False),
    ("Tensor.inverse", "LinalgInvExBackward0", lambda m, a: a.inverse(), [A3], None, False),
    ("inv_ex", "LinalgInvExBackward0", lambda m, a: m.linalg.inv_ex(a).inverse, [A3], None, False),
    ("det", "LinalgDetBackward0", lambda m, a: m.linalg.det(a), [A3], None, True),
    ("Tensor.det", "LinalgDetBackward0", lambda m, a: a.det(), [A3], None, False),
    ("det of a singular matrix", "LinalgDetBackward0", lambda m, a: m.det(a),
     [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])], None, False),
    ("slogdet", "LinalgSlogdetBackward0", lambda m, a: m.linalg.slogdet(a), [A3], None, True),
    ("torch.slogdet", "LinalgSlogdetBackward0", lambda m, a: m.slogdet(a), [A3], None, False),
    ("logdet", "WhereBackward0", lambda m, a: m.logdet(a), [SPD], None, True),
    ("solve", "LinalgSolveExBackward0", lambda m, a, b: m.linalg.solve(a, b), [A3, RHS], None, True),
    ("solve a vector", "LinalgSolveExBackward0", lambda m, a, b: m.linalg.solve(a, b), [A3, RHS[..., 0]], None,
     False),
    ("solve broadcast", "LinalgSolveExBackward0", lambda m, a, b: m.linalg.solve(a, b), [A3[0], RHS], None, False),
    ("solve right", "LinalgSolveExBackward0", lambda m, a, b: m.linalg.solve(a, b, left=False),
     [A3, RHS.transpose(0, 2, 1)], None, False),
    ("solve_ex", "LinalgSolveExBackward0", lambda m, a, b: m.linalg.solve_ex(a, b).result, [A3, RHS], None, False),
    ("solve_triangular", "LinalgSolveTriangularBackward0",
     lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [A3, RHS], None, True),
    ("solve_triangular right unit", "LinalgSolveTriangularBackward0",
     lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
     [A3, RHS.transpose(0, 2, 1)], None, True),
    ("cholesky_solve", "CholeskySolveBackward0", lambda m, b, a: m.cholesky_solve(b, m.linalg.cholesky(a)),
     [RHS, SPD], None, True),
    ("Tensor.cholesky_solve upper", "CholeskySolveBackward0",
     lambda m, b, a: b.cholesky_solve(m.linalg.cholesky(a, upper=True), upper=True), [RHS, SPD], None, False),
    ("cholesky_inverse", "CholeskyInverseBackward0", lambda m, a: m.cholesky_inverse(m.linalg.cholesky(a)), [SPD],
     None, True),
    ("linalg.cholesky", "LinalgCholeskyExBackward0", lambda m, a: m.linalg.cholesky(a), [SPD], None, True),
    ("linalg.cholesky upper", "LinalgCholeskyExBackward0", lambda m, a: m.linalg.cholesky(a, upper=True), [SPD],
     None, False),
    ("cholesky_ex", "LinalgCholeskyExBackward0", lambda m, a: m.linalg.cholesky_ex(a).L, [SPD], None, False),
    ("torch.cholesky", "CholeskyBackward0", lambda m, a: m.cholesky(a), [SPD], None, False),
    ("Tensor.cholesky upper", "CholeskyBackward0", lambda m, a: a.cholesky(upper=True), [SPD], None, False),
    ("qr square", "LinalgQrBackward0", lambda m, a: m.linalg.qr(a), [A3], None, True),
    ("qr tall", "LinalgQrBackward0", lambda m, a: m.linalg.qr(a), [TALL], None, False),
    ("qr wide", "LinalgQrBackward0", lambda m, a: m.linalg.qr(a), [WIDE], None, False),
    ("qr wide complete", "LinalgQrBackward0", lambda m, a: m.linalg.qr(a, mode="complete"), [WIDE], None, False),
    ("torch.qr", "LinalgQrBackward0", lambda m, a: m.qr(a), [TALL], None, False),
    ("eigh", "LinalgEighBackward0", lambda m, a: m.linalg.eigh(a), [SPD],
     lambda m, r: (r.eigenvalues * 1.5).sum() + (r.eigenvectors ** 2 * r.eigenvalues.unsqueeze(-2)).sum(), True),
    ("eigh upper", "LinalgEighBackward0", lambda m, a: m.linalg.eigh(a, UPLO="U"), [SPD],
     lambda m, r: (r[1] ** 4).sum() + r[0].sum(), False),
    ("eigvalsh", "LinalgEighBackward0", lambda m, a: m.linalg.eigvalsh(a), [SPD], None, True),
    ("svd", "LinalgSvdBackward0", lambda m, a: m.linalg.svd(a, full_matrices=False), [TALL],
     lambda m, r: (r.U ** 2 * r.S).sum() + (r.Vh ** 4).sum(), True),
    ("svd wide", "LinalgSvdBackward0", lambda m, a: m.linalg.svd(a, full_matrices=False), [WIDE],
     lambda m, r: (r.U ** 2 * r.S).sum() + (r.Vh ** 4).sum(), False),
    ("svd full", "LinalgSvdBackward0", lambda m, a: m.linalg.svd(a), [TALL],
     lambda m, r: ((r.U[..., :3] * r.S) @ r.Vh).sum() + r.S.sum(), False),
    ("torch.svd", "LinalgSvdBackward0", lambda m, a: m.svd(a), [WIDE],
     lambda m, r: (r.U ** 2).sum() * 2 + r.S.sum() + (r.V ** 4).sum(), False),
    ("svdvals", "LinalgSvdBackward0", lambda m, a: m.linalg.svdvals(a), [TALL], None, True),
    ("pinv", "LinalgPinvBackward0", lambda m, a: m.linalg.pinv(a), [TALL], None, True),
    ("pinv wide", "LinalgPinvBackward0", lambda m, a: m.linalg.pinv(a), [WIDE], None, False),
    ("pinv hermitian", "LinalgPinvBackward0", lambda m, a: m.linalg.pinv(a, hermitian=True), [SPD], None, False),
    ("pinverse", "LinalgPinvBackward0", lambda m, a: m.pinverse(a), [WIDE], None, False),
    ("lstsq", "LinalgLstsqBackward0", lambda m, a, b: m.linalg.lstsq(a, b).solution, [TALL, RHS_TALL], None,
     True),
    ("matrix_exp", "LinalgMatrixExpBackward0", lambda m, a: m.linalg.matrix_exp(a), [A3], None, True),
    ("Tensor.matrix_exp", "LinalgMatrixExpBackward0", lambda m, a: (a * 4).matrix_exp(), [A3], None, False),
    ("matrix_power 3", "MmBackward0", lambda m, a: m.linalg.matrix_power(a[0], 3), [A3], None, True),
    ("matrix_power -2", "MmBackward0", lambda m, a: m.matrix_power(a[0], -2), [A3], None, False),
    ("matrix_power 0", "CopyBackwards", lambda m, a: a.matrix_power(0), [A3], None, False),
    ("vector_norm", "LinalgVectorNormBackward0", lambda m, a: m.linalg.vector_norm(a, 3, dim=(0, 2)), [A3], None,
     True),
    ("norm", "LinalgVectorNormBackward0", lambda m, a: m.linalg.norm(a), [A3], None, False),
    ("norm vector", "LinalgVectorNormBackward0", lambda m, a: m.linalg.norm(a, 1, dim=-1), [A3], None, False),
    ("matrix_norm fro", "LinalgVectorNormBackward0", lambda m, a: m.linalg.matrix_norm(a), [A3], None, True),
    ("matrix_norm nuc", "SumBackward1", lambda m, a: m.linalg.matrix_norm(a, "nuc"), [A3], None, False),
    ("matrix_norm 2 keepdim", "PermuteBackward0", lambda m, a: m.linalg.matrix_norm(a, 2, keepdim=True), [A3],
     None, False),
    ("matrix_norm 1", "AmaxBackward0", lambda m, a: m.linalg.matrix_norm(a, 1), [A3], None, False),
    ("matrix_norm -inf", "AminBackward0", lambda m, a: m.linalg.matrix_norm(a, -float("inf"), dim=(0, 2)), [A3],
     None, False),
    ("norm matrix", "AmaxBackward0", lambda m, a: m.linalg.norm(a[0], float("inf")), [A3], None, False),
    ("cross", "LinalgCrossBackward0", lambda m, a, b: m.linalg.cross(a, b), [A3, A3[:1]], None, True),
    ("multi_dot", "ViewBackward0", lambda m, a, b: m.linalg.multi_dot([a[0], b, a[1]]), [A3, TALL.T[:, :3]], None,
     False),
    ("vander", "CatBackward0", lambda m, a: m.linalg.vander(a[0, 0], N=4), [A3], None, True),
    ("diagonal", "DiagonalBackward0", lambda m, a: m.linalg.diagonal(a, offset=1), [A3], None, False),
    ("matmul", "UnsafeViewBackward0", lambda m, a: m.linalg.matmul(a, a), [A3], None, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_grad_fn_and_gradients_match_torch(case, device):
    _, name, expr, arrays, loss, second = case
    ours_in, theirs_in = _tensors(plugrad, arrays, device, True), _tensors(torch, arrays, None, True)
    ours, theirs = expr(plugrad, *ours_in), expr(torch, *theirs_in)
    assert type(_leaves(ours)[0].grad_fn).__name__ == type(_leaves(theirs)[0].grad_fn).__name__ == name
    if loss is None:
        for o, t in zip(_leaves(ours), _leaves(theirs)):
            _close(o, t)
        weights = [1.0 + 0.5 * k for k in range(len(_leaves(theirs)))]
        lo, lt = _sum_all(plugrad, ours, weights), _sum_all(torch, theirs, weights)
    else:
        lo, lt = loss(plugrad, ours), loss(torch, theirs)
        _close(lo, lt)
    go = plugrad.autograd.grad(lo, ours_in, create_graph=second)
    gt = torch.autograd.grad(lt, theirs_in, create_graph=second)
    for o, t in zip(go, gt):
        _close(o, t, rtol=1e-6, atol=1e-8)
    if second:
        go2 = plugrad.autograd.grad(sum((g * g).sum() for g in go), ours_in, allow_unused=True)
        gt2 = torch.autograd.grad(sum((g * g).sum() for g in gt), theirs_in, allow_unused=True)
        for o, t in zip(go2, gt2):
            if t is None or o is None:
                assert all(x is None or not bool((x != 0).any()) for x in (o, t))
            else:
                _close(o, t, rtol=1e-5, atol=1e-7)


def test_result_fields_and_integer_outputs_match_torch(device):
    a, t = plugrad.tensor(A3, device=device), torch.tensor(A3)
    singular = np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])
    for fn in (lambda m, x: m.linalg.slogdet(x), lambda m, x: m.slogdet(x), lambda m, x: m.linalg.qr(x),
               lambda m, x: m.qr(x), lambda m, x: m.linalg.svd(x), lambda m, x: m.svd(x),
               lambda m, x: m.linalg.eigh(x), lambda m, x: m.linalg.inv_ex(x), lambda m, x: m.linalg.cholesky_ex(x),
               lambda m, x: m.linalg.lstsq(x, x)):
        ours, theirs = fn(plugrad, a), fn(torch, t)
        assert type(ours).__name__ == type(theirs).__name__
        assert [tuple(o.shape) for o in ours] == [tuple(x.shape) for x in theirs]
        assert [str(o.dtype) for o in ours] == [str(x.dtype) for x in theirs]
    for name in ("inv_ex", "cholesky_ex"):
        ours = getattr(plugrad.linalg, name)(plugrad.tensor(singular, device=device))
        theirs = getattr(torch.linalg, name)(torch.tensor(singular))
        assert ours[1].tolist() == theirs[1].tolist()
    _close(plugrad.linalg.lstsq(plugrad.tensor(TALL, device=device), plugrad.tensor(TALL, device=device)).rank,
           torch.linalg.lstsq(torch.tensor(TALL), torch.tensor(TALL)).rank)
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    _close(plugrad.linalg.matrix_rank(plugrad.tensor(s, device=device)), torch.linalg.matrix_rank(torch.tensor(s)))
    _close(plugrad.linalg.matrix_rank(plugrad.tensor(SPD, device=device), hermitian=True),
           torch.linalg.matrix_rank(torch.tensor(SPD), hermitian=True))
    ours, theirs = plugrad.svd(a, compute_uv=False), torch.svd(t, compute_uv=False)
    for o, x in zip(ours, theirs):
        _close(o, x)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
def test_empty_matrices_match_torch(shape, device):
    a, t = plugrad.zeros(shape, dtype=plugrad.float64, device=device), torch.zeros(shape, dtype=torch.float64)
    for fn in (lambda m, x: m.linalg.det(x), lambda m, x: m.linalg.inv(x), lambda m, x: m.linalg.slogdet(x)[1],
               lambda m, x: m.linalg.cholesky(x), lambda m, x: m.linalg.eigvalsh(x), lambda m, x: m.linalg.svdvals(x),
               lambda m, x: m.linalg.matrix_norm(x),
               lambda m, x: m.linalg.solve_triangular(x, x, upper=True)):
        _close(fn(plugrad, a), fn(torch, t))


@pytest.mark.parametrize("expr", [
    lambda m: m.linalg.inv(m.tensor([[1.0, 2.0], [2.0, 4.0]])),
    lambda m: m.linalg.inv(m.tensor([[[1.0, 2.0], [2.0, 4.0]]])),
    lambda m: m.linalg.cholesky(-m.eye(2)),
    lambda m: m.linalg.solve(m.ones(2, 2), m.ones(2)),
])
def test_singular_and_indefinite_matrices_raise_linalg_errors(expr, device):
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        expr(torch)
    with pytest.raises(plugrad.linalg.LinAlgError) as ours:
        expr(_OnDevice(device))
    assert isinstance(ours.value, RuntimeError)
    assert str(ours.value) == str(theirs.value)


class _OnDevice:
    """``plugrad`` with its factories making tensors on one device."""

    def __init__(self, device):
        self.device, self.linalg = device, plugrad.linalg

    def tensor(self, data):
        return plugrad.tensor(data, device=self.device)

    def ones(self, *shape):
        return plugrad.ones(*shape, device=self.device)

    def eye(self, n):
        return plugrad.eye(n, device=self.device)


@pytest.mark.parametrize("expr, exc", [
    (lambda m: m.linalg.inv(m.ones(2, 3)), RuntimeError),
    (lambda m: m.linalg.inv(m.ones(2)), RuntimeError),
    (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.float16)), RuntimeError),
    (lambda m: m.linalg.det(m.ones(2, 2, dtype=m.int64)), RuntimeError),
    (lambda m: m.linalg.solve(m.eye(2), m.ones(3)), RuntimeError),
    (lambda m: m.linalg.qr(m.ones(2, 2), mode="thin"), RuntimeError),
    (lambda m: m.linalg.eigh(m.eye(2), UPLO="X"), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(2, 3), m.ones(3)), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(2, 4), m.ones(2, 4)), RuntimeError),
    (lambda m: m.linalg.matrix_norm(m.ones(3)), RuntimeError),
    (lambda m: m.linalg.matrix_norm(m.ones(3, 3), 3), RuntimeError),
    (lambda m: m.linalg.multi_dot([m.ones(3)]), RuntimeError),
    (lambda m: m.linalg.matrix_power(m.ones(2, 3), 2), RuntimeError),
    (lambda m: m.linalg.inv(None), TypeError),
    (lambda m: m.linalg.vander(m.ones(3), N=1), RuntimeError),
    (lambda m: m.cholesky_solve(m.ones(3), m.eye(3)), RuntimeError),
    (lambda m: m.linalg.vander(m.ones(3, dtype=m.float16)), RuntimeError),
    (lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(2), upper=True), RuntimeError),
    (lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(2, 1)), TypeError),
])
def test_bad_arguments_raise_torch_exceptions(expr, exc):
    with pytest.raises(exc):
        expr(torch)
    with pytest.raises(exc):
        expr(plugrad)


def test_qr_backward_refusals_match_torch():
    for mode, shape in (("r", (3, 3)), ("complete", (4, 3))):
        for lib in (torch, plugrad):
            a = lib.ones(shape, dtype=lib.float64).triu() + lib.eye(*shape, dtype=lib.float64)
            a.requires_grad_(True)
            q, r = lib.linalg.qr(a, mode=mode)
            with pytest.raises(RuntimeError):
                r.sum().backward()


def _matrices(n_max=4, square=True):
    sizes = st.integers(1, n_max)

    def build(mn):
        m, n = mn if not square else (mn[0], mn[0])
        # multiples of 1/64: no entry so tiny that LAPACK's rescaling decides a sign
        return hnp.arrays(np.float64, (m, n), elements=st.integers(-256, 256).map(lambda k: k / 64))
    return st.tuples(sizes, sizes).flatmap(build)


@given(_matrices())
def test_solvers_match_torch_on_random_matrices(a):
    a = a + 5 * np.eye(a.shape[0])      # well conditioned
    b = np.arange(a.shape[0] * 2, dtype=np.float64).reshape(a.shape[0], 2)
    for device in ("cpu", "pylist"):
        if device not in plugrad.plugins.device_types():
            continue
        pa, pb, ta, tb = plugrad.tensor(a, device=device), plugrad.tensor(b, device=device), torch.tensor(a), \
            torch.tensor(b)
        _close(plugrad.linalg.inv(pa), torch.linalg.inv(ta), rtol=1e-7, atol=1e-9)
        _close(plugrad.linalg.det(pa), torch.linalg.det(ta), rtol=1e-7, atol=1e-9)
        _close(plugrad.linalg.solve(pa, pb), torch.linalg.solve(ta, tb), rtol=1e-7, atol=1e-9)
        _close(plugrad.linalg.qr(pa).R, torch.linalg.qr(ta).R, rtol=1e-7, atol=1e-9)
        _close(plugrad.linalg.svdvals(pa), torch.linalg.svdvals(ta), rtol=1e-7, atol=1e-9)
        _close(plugrad.linalg.solve_triangular(pa, pb, upper=False), torch.linalg.solve_triangular(ta, tb, upper=False),
               rtol=1e-7, atol=1e-9)
        s = pa @ pa.mT
        _close(plugrad.linalg.eigvalsh(s), torch.linalg.eigvalsh(ta @ ta.mT), rtol=1e-7, atol=1e-8)
        _close(plugrad.linalg.cholesky(s), torch.linalg.cholesky(ta @ ta.mT), rtol=1e-7, atol=1e-8)


@given(_matrices(5, square=False), st.booleans())
def test_host_decompositions_match_lapack(a, full):
    m, n = a.shape
    q, r = hostlinalg.qr(a.tolist(), full)
    q2, r2 = np.linalg.qr(a, "complete" if full else "reduced")
    np.testing.assert_allclose(np.array(r), r2, atol=1e-9)      # LAPACK's signs: the same R
    np.testing.assert_allclose(np.array(q) @ np.array(r), a, atol=1e-9)
    u, s, vh = hostlinalg.svd(a.tolist(), full)
    u, s, vh = np.array(u), np.array(s), np.array(vh)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), atol=1e-9)
    k = min(m, n)
    np.testing.assert_allclose((u[:, :k] * s) @ vh[:k], a, atol=1e-9)
    np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-9)
    np.testing.assert_allclose(vh @ vh.T, np.eye(vh.shape[0]), atol=1e-9)
    sym = a @ a.T
    w, v = map(np.array, hostlinalg.eigh(sym.tolist()))
    np.testing.assert_allclose(w, np.linalg.eigvalsh(sym), atol=1e-8)
    np.testing.assert_allclose(sym @ v, v * w, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sign, logabs = hostlinalg.slogdet(sym.tolist())
        sign2, logabs2 = np.linalg.slogdet(sym)
    if np.linalg.cond(sym) < 1e8:    # a singular matrix's log|det| is rounding noise
        assert sign == sign2 and abs(logabs - logabs2) < 1e-7


def test_tensor_methods_and_namespaces():
    a = plugrad.tensor(A3[0])
    t = torch.tensor(A3[0])
    for name in ("inverse", "det", "logdet", "pinverse"):
        _close(getattr(a @ a.mT, name)(), getattr(t @ t.mT, name)())
    _close(a.matrix_power(2), t.matrix_power(2))
    _close(a.slogdet()[1], t.slogdet()[1])
    assert plugrad.linalg.inv is plugrad.inverse.__wrapped__ and plugrad.linalg.det is plugrad.det.__wrapped__
    assert plugrad.linalg.matmul is plugrad.ops.linalg.matmul
    for name in plugrad.linalg.__all__:
        assert hasattr(torch.linalg, name), name
