"""The products and matrix builders of ``plugrad.ops.products`` against PyTorch: values,
dtypes, ``grad_fn`` names, gradients and exception classes, on every device."""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
from hypothesis import given, strategies as st
from op_oracle_support import compare, same_error

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(17)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("ij,jk", [(3, 4), (4, 2)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("i,i", [(4,), (4,)]), ("i,j->ij", [(3,), (2,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("bij,bjk->bki", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ij,ik->", [(3, 2), (3, 4)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij->ij", [(2, 3, 4)]), ("...ij", [(2, 3, 4)]), ("i,i", [(3,), (1,)]), ("ij,ij->i", [(3, 1), (1, 4)]),
    ("Ba,ab", [(2, 3), (3, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,i->i", [(3,), (3,)]), ("ij->j...", [(2, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_pytorch(device, equation, shapes):
    arrays = [randn(*s) for s in shapes]
    compare(device, lambda m, *ts: m.einsum(equation, *ts), arrays, grad=tuple(range(len(arrays))), rtol=1e-4,
            atol=1e-5)


def test_einsum_takes_a_list_and_the_sublist_form(device):
    a, b = randn(3, 4), randn(4, 2)
    compare(device, lambda m, x, y: m.einsum("ij,jk", [x, y]), [a, b], grad=(0, 1), rtol=1e-5)
    compare(device, lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b], grad=(0, 1), rtol=1e-5)
    compare(device, lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2]), [a, b], rtol=1e-5)
    c = randn(2, 3, 4)
    compare(device, lambda m, x, y: m.einsum(x, [Ellipsis, 0, 1], y, [1, 2], [Ellipsis, 0, 2]), [c, b], rtol=1e-5)


@pytest.mark.parametrize("equation", ["ii", "ij->", "ii->i", "ij,kj->ik", "ij,kj->", "i,j->", "ij,ij->ij", "ij,j"])
@pytest.mark.parametrize("dtype", ["int32", "int8", "int64"])
def test_einsum_of_integers_has_pytorchs_dtype(device, equation, dtype):
    """Products keep the dtype; a label summed within one operand goes through ``sum`` (int64)."""
    a = np.arange(9).reshape(3, 3).astype(dtype)
    operands = [a if len(sub) == 2 else a[0] for sub in equation.split("->")[0].split(",")]
    compare(device, lambda m, *ts: m.einsum(equation, *ts), operands)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2))
def test_einsum_batched_contractions_match_pytorch(m, k, n, b):
    batch = (2,) * b
    a, c = randn(*batch, m, k), randn(*batch, k, n)
    compare("cpu", lambda lib, x, y: lib.einsum("...mk,...kn->...nm", x, y), [a, c], grad=(0, 1), rtol=1e-4,
            atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.einsum("ij,jk->ik", m.ones(2, 2)), lambda m: m.einsum("ij->ik", m.ones(2, 2)),
    lambda m: m.einsum("ij->ii", m.ones(2, 2)), lambda m: m.einsum("ijk", m.ones(2, 2)),
    lambda m: m.einsum("i,i", m.ones(3), m.ones(4)), lambda m: m.einsum("i1", m.ones(3)),
    lambda m: m.einsum("i.j", m.ones(2, 2)), lambda m: m.einsum(3, m.ones(2)),
    lambda m: m.einsum("ij,jk", m.ones(2, 2), m.ones(2, 2, dtype=m.float64)),
], ids=["too few operands", "unknown output label", "repeated output label", "too many labels", "sizes 3 and 4",
        "a digit", "a lone dot", "no equation", "mixed dtypes"])
def test_einsum_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("dims,sa,sb", [(2, (2, 3, 4), (3, 4, 5)), (0, (2,), (3,)), (1, (3, 4), (4,)),
                                        (([1, 0], [0, 1]), (3, 4), (4, 3)), ([[2], [0]], (2, 3, 4), (4, 2)),
                                        (([0], [1]), (3, 2), (2, 3))])
def test_tensordot_matches_pytorch(device, dims, sa, sb):
    compare(device, lambda m, x, y: m.tensordot(x, y, dims=dims), [randn(*sa), randn(*sb)], grad=(0, 1), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.tensordot(m.ones(3, 3), m.ones(3, 3), dims=-1), lambda m: m.tensordot(m.ones(3, 3), m.ones(3, 3), 3),
    lambda m: m.tensordot(m.ones(3, 3), m.ones(2, 3), dims=([1], [0])),
    lambda m: m.tensordot(m.ones(3, 3), m.ones(3, 3), dims=([1], [0, 1])),
    lambda m: m.tensordot(m.ones(3, 3), m.ones(3, 3, dtype=m.float64)),
])
def test_tensordot_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 2)), ((3,), (2, 2)), ((), (2,)), ((2, 1, 2), (3, 2))])
def test_kron_matches_pytorch(device, sa, sb):
    compare(device, lambda m, x, y: m.kron(x, y), [randn(*sa), randn(*sb)], grad=(0, 1), rtol=1e-5)
    compare(device, lambda m, x, y: x.kron(y), [np.arange(2, dtype=np.int64), np.ones((2, 2), np.int64)])


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("sa,sb", [((3, 4), (2, 4)), ((2, 3, 2), (2, 4, 2)), ((2, 1, 3, 4), (5, 2, 4))])
def test_cdist_matches_pytorch(device, p, sa, sb):
    a, b = randn(*sa), randn(*sb)
    compare(device, lambda m, x, y: m.cdist(x, y, p=p, compute_mode="donot_use_mm_for_euclid_dist"), [a, b],
            grad=(0, 1), rtol=1e-4, atol=1e-5)


def test_cdist_at_zero_distance_has_pytorchs_gradient(device):
    a = np.array([[0.0, 1.0], [2.0, 2.0]], np.float32)
    for p in (1.0, 2.0, 3.0, float("inf")):
        compare(device, lambda m, x, y, p=p: m.cdist(x, y, p=p), [a, a.copy()], grad=(0, 1), rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.cdist(m.ones(3), m.ones(2, 3)), lambda m: m.cdist(m.ones(2, 3), m.ones(2, 2)),
    lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1.0), lambda m: m.cdist(m.ones(2, 3).long(), m.ones(2, 3).long()),
    lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), compute_mode="fast"),
])
def test_cdist_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("sa,sb,dim", [((3,), (3,), 0), ((4, 3), (4, 3), 1), ((3, 2), (3, 1), 0),
                                       ((2, 3, 2), (2, 3, 2), -2)])
def test_cross_matches_pytorch(device, sa, sb, dim):
    compare(device, lambda m, x, y: m.cross(x, y, dim=dim), [randn(*sa), randn(*sb)], grad=(0, 1), rtol=1e-5)
    compare(device, lambda m, x, y: x.cross(y, dim), [randn(*sa), randn(*sb)], rtol=1e-5)


def test_cross_without_dim_takes_the_first_dim_of_size_3_and_warns(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(device, lambda m, x, y: m.cross(x, y), [randn(3, 3), randn(3, 3)], grad=(0, 1), rtol=1e-5)
    with pytest.warns(UserWarning):
        plugrad.cross(plugrad.ones(3, device=device), plugrad.ones(3, device=device))


@pytest.mark.parametrize("call", [
    lambda m: m.cross(m.ones(3, 3), m.ones(3, 2), dim=1), lambda m: m.cross(m.ones(2, 2), m.ones(2, 2)),
    lambda m: m.cross(m.ones(3), m.ones(3, dtype=m.float64), dim=0),
])
def test_cross_errors_match_pytorch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(call)


ADD_PRODUCTS = [
    ("baddbmm", [(2, 3, 4), (2, 3, 5), (2, 5, 4)]), ("baddbmm", [(4,), (2, 3, 5), (2, 5, 4)]),
    ("addbmm", [(3, 4), (2, 3, 5), (2, 5, 4)]), ("addbmm", [(1,), (2, 3, 5), (2, 5, 4)]),
    ("addmv", [(3,), (3, 4), (4,)]), ("addmv", [(), (3, 4), (4,)]),
    ("addr", [(3, 4), (3,), (4,)]), ("addr", [(1, 4), (3,), (4,)]),
]


@pytest.mark.parametrize("name,shapes", ADD_PRODUCTS, ids=[f"{n}{s[0]}" for n, s in ADD_PRODUCTS])
@pytest.mark.parametrize("scalars", [{}, {"beta": 0.5, "alpha": -2.0}, {"beta": 0}])
def test_add_products_match_pytorch(device, name, shapes, scalars):
    arrays = [randn(*s) for s in shapes]
    compare(device, lambda m, *ts: getattr(m, name)(*ts, **scalars), arrays, grad=(0, 1, 2), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,shapes", [ADD_PRODUCTS[0], ADD_PRODUCTS[2], ADD_PRODUCTS[4], ADD_PRODUCTS[6]])
def test_add_products_in_place_and_out(device, name, shapes):
    arrays = [randn(*s) for s in shapes]
    expected = getattr(torch, name)(*[torch.tensor(a) for a in arrays], beta=2, alpha=0.5).numpy()
    xs = [plugrad.tensor(a, device=device) for a in arrays]
    assert getattr(xs[0], name + "_")(*xs[1:], beta=2, alpha=0.5) is xs[0]
    np.testing.assert_allclose(xs[0].cpu().numpy(), expected, rtol=1e-5, atol=1e-5)
    out = plugrad.empty(0, device=device)
    ys = [plugrad.tensor(a, device=device) for a in arrays]
    assert getattr(plugrad, name)(*ys, beta=2, alpha=0.5, out=out) is out
    np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_beta_zero_ignores_nans_in_the_input(device):
    nan = np.full((3, 4), np.nan, np.float32)
    compare(device, lambda m, c, a, b: m.addr(c, a, b, beta=0), [nan, randn(3), randn(4)])
    compare(device, lambda m, c, a, b: m.addmv(c, a, b, beta=0), [nan[:, 0], randn(3, 4), randn(4)])


def test_addr_of_bools_and_ints_matches_pytorch(device):
    v = np.array([True, False, True])
    compare(device, lambda m, c, a, b: m.addr(c, a, b), [np.eye(3, dtype=bool), v, v])
    i = np.arange(3, dtype=np.int64)
    compare(device, lambda m, c, a, b: m.addr(c, a, b, beta=2, alpha=3), [np.ones((3, 3), np.int64), i, i])
    # float scalars are truncated to the integer dtype first
    compare(device, lambda m, c, a, b: m.addmv(c, a, b, beta=1.5, alpha=2.7), [i, np.ones((3, 3), np.int64), i])


def test_einsum_whose_factors_sum_separately_matches_pytorch(device):
    compare(device, lambda m, a, b: m.einsum("ij,kl->", a, b), [randn(2, 3), randn(4, 5)], grad=(0, 1),
            grad_fn=False, rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.baddbmm(m.ones(2, 3, 4), m.ones(2, 3, 5), m.ones(2, 4, 4)),
    lambda m: m.addmv(m.ones(3), m.ones(3, 4), m.ones(3)), lambda m: m.addr(m.ones(3, 4), m.ones(3, 1), m.ones(4)),
    lambda m: m.addbmm(m.ones(3, 4), m.ones(3, 5), m.ones(5, 4)),
    lambda m: m.addmv(m.ones(3), m.ones(3, 4), m.ones(4, dtype=m.float64)),
    lambda m: m.addr(m.ones(2, 4), m.ones(3), m.ones(4)),
])
def test_add_product_errors_match_pytorch(call):
    same_error(call)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (0, 3)])
def test_trace_matches_pytorch(device, shape):
    compare(device, lambda m, x: m.trace(x), [randn(*shape)], grad=(0,))
    compare(device, lambda m, x: x.trace(), [np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)])


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 4), (4, 2), (0,)])
@pytest.mark.parametrize("offset", [-2, 0, 1])
def test_diag_matches_pytorch(device, shape, offset):
    compare(device, lambda m, x: m.diag(x, offset), [randn(*shape)], grad=(0,))
    compare(device, lambda m, x: x.diag(offset), [np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)])


@pytest.mark.parametrize("shape,args", [((3,), ()), ((2, 3), (1,)), ((2, 3), (-1, 0, 2)), ((2, 2, 3), (0, 1, 3)),
                                        ((4,), (2, -1, -2))])
def test_diag_embed_matches_pytorch(device, shape, args):
    compare(device, lambda m, x: m.diag_embed(x, *args), [randn(*shape)], grad=(0,))


@pytest.mark.parametrize("shape,offset", [((3,), 0), ((2, 2), 1), ((), -1), ((2, 3), -2)])
def test_diagflat_matches_pytorch(device, shape, offset):
    compare(device, lambda m, x: m.diagflat(x, offset), [randn(*shape)], grad=(0,))


def test_block_diag_matches_pytorch(device):
    compare(device, lambda m, *ts: m.block_diag(*ts), [randn(2, 3), randn(3), randn(), randn(0, 2), randn(2, 1)],
            grad=(0, 1, 2, 3, 4))
    compare(device, lambda m, a, b: m.block_diag(a, b), [np.ones((2, 2), np.int32), randn(2)], grad=(1,))
    compare(device, lambda m: m.block_diag(), [])


def test_cartesian_prod_matches_pytorch(device):
    compare(device, lambda m, a, b, c: m.cartesian_prod(a, b, c), [randn(3), randn(2), randn(2)], grad=(0, 1, 2))
    compare(device, lambda m, a: m.cartesian_prod(a), [np.arange(3)])


def test_chain_matmul_matches_pytorch(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(device, lambda m, a, b, c: m.chain_matmul(a, b, c), [randn(2, 3), randn(3, 4), randn(4, 2)],
                grad=(0, 1, 2), grad_fn=False, rtol=1e-5)


@pytest.mark.parametrize("call", [
    lambda m: m.trace(m.ones(3)), lambda m: m.trace(m.ones(2, 2, dtype=m.bool)), lambda m: m.diag(m.ones(2, 2, 2)),
    lambda m: m.diag(m.tensor(1.0)), lambda m: m.diag_embed(m.ones(2, 2), dim1=0, dim2=0),
    lambda m: m.block_diag(m.ones(2, 2, 2)), lambda m: m.cartesian_prod(m.ones(2, 2)),
])
def test_matrix_builder_errors_match_pytorch(call):
    same_error(call)


@st.composite
def _einsum_calls(draw):
    """A random equation over labels a-d (some repeated within an operand, some shared,
    some broadcast with size 1), with or without an ellipsis and an explicit output."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    ell = draw(st.sampled_from([None, (), (2,), (2, 1)]))
    subs, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        labels = draw(st.lists(st.sampled_from("abcd"), max_size=3))
        shape = [1 if draw(st.integers(0, 5)) == 0 else sizes[c] for c in labels]
        for c in set(labels):       # a repeated label takes a diagonal: its sizes must agree
            n = max(shape[i] for i, x in enumerate(labels) if x == c)
            shape = [n if x == c else s for x, s in zip(labels, shape)]
        text = "".join(labels)
        if ell is not None and draw(st.booleans()):
            k = draw(st.integers(0, len(ell)))
            text = "..." + text
            shape = list(ell[len(ell) - k:]) + shape
        subs.append(text)
        shapes.append(tuple(shape))
    equation = ",".join(subs)
    if draw(st.booleans()):
        used = sorted(set("".join(subs).replace(".", "")))
        out = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
        equation += "->" + ("..." if "..." in equation and draw(st.booleans()) else "") + "".join(out)
    return equation, shapes


@given(_einsum_calls())
def test_random_einsum_equations_match_pytorch(call):
    equation, shapes = call
    arrays = [randn(*s) for s in shapes]
    compare("cpu", lambda m, *ts: m.einsum(equation, *ts), arrays, grad=tuple(range(len(arrays))), rtol=1e-4,
            atol=1e-5, grad_fn=False)
