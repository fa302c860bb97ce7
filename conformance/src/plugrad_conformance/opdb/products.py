"""Entries for ``plugrad.ops.products``: einsum, tensordot, kron, cdist, cross, the add*
products and the diagonal and block builders."""

from __future__ import annotations

import numpy as np
import plugrad

from ..opinfo import ALL, FLOATS, INT_TO_INT64, NUMERIC, ErrorInput, OpInfo, Sample
from .common import EVEN, ODD

FAMILY = "plugrad.ops.products"

#: k terms of up to 4 x 4 each: float16 rounds the partial sums
PRODUCT_TOL = {"float16": (5e-3, 2e-2)}


def _p(name, ref, sample, **kw):
    kw.setdefault("dtypes", NUMERIC)
    kw.setdefault("tol", PRODUCT_TOL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _n(g, lo=0):
    return g.integers(lo if g.purpose == "forward" else max(lo, 1), 3)


# ---- einsum / tensordot / kron -------------------------------------------------------------------------

#: (equation, shapes built from sizes i, j, k)
_EQUATIONS = [
    ("ij,jk->ik", lambda i, j, k: [(i, j), (j, k)]), ("ii->i", lambda i, j, k: [(i, i)]),
    ("ii", lambda i, j, k: [(i, i)]), ("ij->ji", lambda i, j, k: [(i, j)]), ("ij->", lambda i, j, k: [(i, j)]),
    ("i,j", lambda i, j, k: [(i,), (j,)]), ("bij,bjk->bki", lambda i, j, k: [(2, i, j), (2, j, k)]),
    ("...j,j...", lambda i, j, k: [(i, j), (j, i)]), ("ij,ij->i", lambda i, j, k: [(i, j), (i, j)]),
    ("ij,jk,k", lambda i, j, k: [(i, j), (j, k), (k,)]), ("...ij->...", lambda i, j, k: [(2, i, j)]),
]


def _einsum_sample(g):
    equation, shapes = g.choice(_EQUATIONS)
    return Sample(equation, *[g.array(s) for s in shapes(_n(g, 1), _n(g), _n(g, 1))])


def _einsum_dtype(d, sample):
    """An integer operand summed within itself (one operand, a label missing from the
    output) is summed by ``sum``, in int64, as in PyTorch."""
    eq = sample.args[0]
    lhs, arrow, rhs = eq.partition("->")
    labels = set(lhs.replace(".", "").replace(",", ""))
    kept = set(rhs.replace(".", "")) if arrow else {c for c in labels if lhs.count(c) == 1}
    if d.is_floating_point or "," in lhs or labels == kept:
        return d
    return plugrad.int64


def _tensordot_sample(g):
    i, j, k = _n(g, 1), _n(g), _n(g, 1)
    variant = g.integers(0, 3)
    if variant == 0:
        return Sample(g.array((i, j, k)), g.array((j, k, 2)), dims=2)
    if variant == 1:
        return Sample(g.array((i, j)), g.array((k,)), dims=0)
    if variant == 2:
        return Sample(g.array((i, j)), g.array((i, k)), dims=([0], [0]))
    return Sample(g.array((j, i)), g.array((i, j)), dims=([1, 0], [0, 1]))


def _kron_sample(g):
    return Sample(g.array(g.shape(max_ndim=2, max_size=3)), g.array(g.shape(max_ndim=2, max_size=3)))


def _kron_ref(a, b):
    return np.kron(a, b) if a.ndim or b.ndim else a * b


# ---- cdist / cross --------------------------------------------------------------------------------------


def _cdist_sample(g):
    m = _n(g, 1)
    batch = g.choice([(), (2,)])
    # x1 on even and x2 on odd multiples of 1/64: no two rows coincide in any coordinate
    x1, x2 = g.array(batch + (_n(g, 1), m), EVEN), g.array(batch + (_n(g, 1), m), ODD)
    p = g.choice([1.0, 2.0, 3.0] if g.purpose != "forward" else [0.0, 1.0, 2.0, 0.5, 3.0, float("inf")])
    return Sample(x1, x2, p=p)


def _cdist_ref(x1, x2, p=2.0):
    d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(np.float64)
    if p == float("inf"):
        return d.max(-1)
    return (d ** p).sum(-1) ** (1 / p)


def _cross_sample(g):
    shape = list(g.shape(min_ndim=1, max_ndim=3, max_size=3, min_size=1))
    d = g.integers(0, len(shape) - 1)
    shape[d] = 3
    other = list(shape)
    if g.purpose != "grad" and len(shape) > 1:
        other[(d + 1) % len(shape)] = 1
    return Sample(g.array(tuple(shape)), g.array(tuple(other)), dim=d - len(shape) if g.boolean() else d)


def _cross_ref(a, b, dim):
    return np.cross(a, b, axis=dim)


# ---- the add* products --------------------------------------------------------------------------------


def _scalars(g, s):
    if g.purpose == "forward" and g.boolean():
        s.kwargs.update(beta=g.choice([0, 0.5, 2]), alpha=g.choice([2, -1]))
        if g.kind != "float":
            s.kwargs.update(beta=g.choice([0, 2]))
    return s


def _baddbmm_sample(g):
    b, m, k, n = _n(g), _n(g), _n(g), _n(g)
    shape = g.choice([(b, m, n), (m, n), (n,), ()])
    return _scalars(g, Sample(g.array(shape), g.array((b, m, k)), g.array((b, k, n))))


def _addbmm_sample(g):
    b, m, k, n = _n(g), _n(g), _n(g), _n(g)
    return _scalars(g, Sample(g.array(g.choice([(m, n), (n,), ()])), g.array((b, m, k)), g.array((b, k, n))))


def _addmv_sample(g):
    m, k = _n(g), _n(g)
    return _scalars(g, Sample(g.array(g.choice([(m,), ()])), g.array((m, k)), g.array((k,))))


def _addr_sample(g):
    m, n = _n(g), _n(g)
    return _scalars(g, Sample(g.array(g.choice([(m, n), (n,), ()])), g.array((m,)), g.array((n,))))


def _add_ref(product):
    def ref(inp, a, b, beta=1, alpha=1):
        p = product(a, b)
        if np.issubdtype(inp.dtype, np.integer):
            beta, alpha = int(beta), int(alpha)
        return alpha * p if beta == 0 else beta * inp + alpha * p
    return ref


def _product_mismatch(shapes, why, exc=RuntimeError):
    return ErrorInput(lambda g: Sample(*[g.array(s) for s in shapes]), exc, why)


# ---- builders -------------------------------------------------------------------------------------------


def _trace_sample(g):
    return Sample(g.array((_n(g), _n(g))))


def _diag_sample(g):
    x = g.array(g.choice([(_n(g),), (_n(g), _n(g))]))
    return Sample(x, g.integers(-2, 2)) if g.boolean() else Sample(x)


def _diag_ref(x, diagonal=0):
    return np.diag(x, diagonal)


def _diag_embed_sample(g):
    x = g.array(g.shape(min_ndim=1, max_ndim=2, max_size=3))
    nd = x.ndim + 1
    d1 = g.integers(0, nd - 1)
    d2 = g.choice([d for d in range(nd) if d != d1])
    return Sample(x, g.integers(-1, 1), d1 - nd if g.boolean() else d1, d2)


def _diag_embed_ref(x, offset=0, dim1=-2, dim2=-1):
    nd = x.ndim + 1
    d1, d2 = dim1 % nd, dim2 % nd
    n = x.shape[-1] + abs(offset)
    rest = list(x.shape[:-1])
    shape = [n if i in (d1, d2) else rest.pop(0) for i in range(nd)]
    out = np.zeros(shape, dtype=x.dtype)
    other = [i for i in range(nd) if i not in (d1, d2)]
    for pos in np.ndindex(*x.shape):
        *lead, k = pos
        r, c = (k, k + offset) if offset >= 0 else (k - offset, k)
        idx = [0] * nd
        for i, v in zip(other, lead):
            idx[i] = v
        idx[d1], idx[d2] = r, c
        out[tuple(idx)] = x[pos]
    return out


def _diagflat_sample(g):
    return Sample(g.array(g.shape(max_ndim=2, max_size=3)), g.integers(-1, 1))


def _block_diag_sample(g):
    return Sample(*[g.array(g.choice([(), (_n(g),), (_n(g), _n(g))])) for _ in range(g.integers(1, 3))])


def _block_diag_ref(*tensors):
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)),
                   dtype=np.result_type(*tensors))
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


def _cartesian_sample(g):
    return Sample(*[g.array((_n(g, 1),)) for _ in range(g.integers(2, 3))])


def _cartesian_ref(*tensors):
    grids = np.meshgrid(*tensors, indexing="ij")
    return np.stack([x.reshape(-1) for x in grids], 1)


def _chain_sample(g):
    sizes = [_n(g, 1) for _ in range(g.integers(2, 4))]
    return Sample(*[g.array((a, b)) for a, b in zip(sizes, sizes[1:])])


def _chain_ref(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    return out


ENTRIES = [
    _p("einsum", lambda eq, *ops: np.einsum(eq, *ops), _einsum_sample,
       method=False, inplace=False, result_dtype=_einsum_dtype,
       errors=[ErrorInput(lambda g: Sample("ij,jk->ik", g.array((2, 2))), RuntimeError, "too few operands"),
               ErrorInput(lambda g: Sample("i,i", g.array((3,)), g.array((4,))), RuntimeError, "sizes 3 and 4"),
               ErrorInput(lambda g: Sample("ij->ik", g.array((2, 2))), RuntimeError, "an output label no input has")]),
    _p("tensordot", lambda a, b, dims=2: np.tensordot(a, b, axes=dims), _tensordot_sample, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), dims=1), RuntimeError,
                          "contracted sizes 3 and 2")]),
    _p("kron", _kron_ref, _kron_sample, dtypes=ALL - {"bool"}),
    _p("cdist", _cdist_ref, _cdist_sample, dtypes=FLOATS, gradgrad=False, method=False,
       tol={"float16": (1e-2, 2e-2)},
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), g.array((2, 3))), RuntimeError, "a 1-d operand"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), p=-1.0), RuntimeError, "p < 0"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3))), RuntimeError, "an int64 input",
                          "int64")]),
    _p("cross", _cross_ref, _cross_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((3, 2)), g.array((3, 2)), dim=1), RuntimeError,
                          "a dim of size 2")]),
    _p("baddbmm", _add_ref(np.matmul), _baddbmm_sample,
       errors=[_product_mismatch([(2, 3, 4), (2, 3, 5), (2, 4, 4)], "inner sizes 5 and 4"),
               _product_mismatch([(3, 4), (3, 5), (5, 4)], "2-d batches", IndexError)]),
    _p("addbmm", _add_ref(lambda a, b: np.matmul(a, b).sum(0)), _addbmm_sample,
       errors=[_product_mismatch([(3, 4), (2, 3, 5), (2, 4, 4)], "inner sizes 5 and 4")]),
    _p("addmv", _add_ref(np.matmul), _addmv_sample,
       errors=[_product_mismatch([(3,), (3, 4), (3,)], "sizes 4 and 3")]),
    _p("addr", _add_ref(np.outer), _addr_sample,
       errors=[_product_mismatch([(2, 4), (3,), (4,)], "an input that does not broadcast to the product")]),
    _p("trace", lambda x: np.trace(x), _trace_sample, dtypes=NUMERIC,
       result_dtype=INT_TO_INT64,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d input")]),
    _p("diag", _diag_ref, _diag_sample, dtypes=ALL,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2, 2))), RuntimeError, "a 3-d input")]),
    _p("diag_embed", _diag_embed_ref, _diag_embed_sample, dtypes=ALL,
       errors=[ErrorInput(lambda g: Sample(g.array((2,)), 0, 0, 0), RuntimeError, "dim1 == dim2")]),
    _p("diagflat", lambda x, offset=0: np.diagflat(x, offset), _diagflat_sample, dtypes=ALL),
    _p("block_diag", _block_diag_ref, _block_diag_sample, dtypes=ALL, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2, 2))), RuntimeError, "a 3-d input")]),
    _p("cartesian_prod", _cartesian_ref, _cartesian_sample, dtypes=ALL, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2))), RuntimeError, "a 2-d input")]),
    _p("chain_matmul", _chain_ref, _chain_sample, method=False,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d matrix")]),
]

__all__ = ["ENTRIES"]
