"""Entries for ``plugrad.ops.linalg``: matrix products."""

from __future__ import annotations

import numpy as np

from ..opinfo import NUMERIC, Arr, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.linalg"

#: k terms of up to 4 x 4 each: float16 rounds the partial sums
MATMUL_TOL = {"float16": (5e-3, 2e-2)}


def _l(name, ref, sample, **kw):
    kw.setdefault("dtypes", NUMERIC)
    kw.setdefault("tol", MATMUL_TOL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _n(g, lo=0):
    return g.integers(lo if g.purpose == "forward" else max(lo, 1), 3)


def _mm_sample(g):
    m, k, n = _n(g), _n(g), _n(g)
    return Sample(g.array((m, k)), g.array((k, n)))


def _bmm_sample(g):
    b, m, k, n = _n(g), _n(g, 1), _n(g), _n(g, 1)
    return Sample(g.array((b, m, k)), g.array((b, k, n)))


def _matmul_sample(g):
    k = _n(g, 1)
    variant = g.integers(0, 6)
    if variant == 0:
        return Sample(g.array((k,)), g.array((k,)))
    if variant == 1:
        return Sample(g.array((_n(g), k)), g.array((k,)))
    if variant == 2:
        return Sample(g.array((k,)), g.array((k, _n(g))))
    if variant == 3:
        return Sample(g.array((_n(g), k)), g.array((k, _n(g))))
    if variant == 4:
        return Sample(g.array((2, 1, _n(g, 1), k)), g.array((3, k, _n(g, 1))))
    if variant == 5:
        return Sample(g.array((k,)), g.array((2, k, _n(g, 1))))
    return Sample(g.array((2, _n(g, 1), k)), g.array((k,)))


def _dot_sample(g):
    k = _n(g)
    return Sample(g.array((k,)), g.array((k,)))


def _mv_sample(g):
    m, k = _n(g), _n(g)
    return Sample(g.array((m, k)), g.array((k,)))


def _outer_sample(g):
    return Sample(g.array((_n(g),)), g.array((_n(g),)))


def _addmm_sample(g):
    m, k, n = _n(g), _n(g), _n(g)
    ishape = g.choice([(m, n), (n,), (1, n), (m, 1), ()])
    s = Sample(g.array(ishape), g.array((m, k)), g.array((k, n)))
    if g.purpose == "forward" and g.boolean():
        s.kwargs.update(beta=g.choice([0.5, 2]), alpha=g.choice([2, -1]))
        if g.kind == "int":
            s.kwargs.update(beta=2)
    return s


def _addmm_ref(inp, m1, m2, beta=1, alpha=1):
    return beta * inp + alpha * (m1 @ m2)


def _mismatch(shapes, why):
    return ErrorInput(lambda g: Sample(*[g.array(s) for s in shapes]), RuntimeError, why)


def _mixed(shape_a, shape_b):
    return ErrorInput(lambda g: Sample(g.array(shape_a), Arr(np.zeros(shape_b, dtype=np.int64), "int64")),
                      RuntimeError, "operands of different dtypes")


ENTRIES = [
    _l("mm", np.matmul, _mm_sample,
       errors=[_mismatch([(2, 3), (4, 2)], "inner sizes 3 and 4"), _mismatch([(3,), (3, 2)], "a 1-d operand"),
               _mixed((2, 3), (3, 2))]),
    _l("bmm", np.matmul, _bmm_sample,
       errors=[_mismatch([(2, 2, 3), (3, 3, 2)], "batch sizes 2 and 3"), _mismatch([(2, 3), (3, 2)], "2-d operands")]),
    _l("matmul", np.matmul, _matmul_sample, operator=lambda a, b: a @ b,
       errors=[_mismatch([(2, 3), (4,)], "inner sizes 3 and 4"), _mismatch([(), (3,)], "a 0-d operand"),
               _mixed((2, 3), (3, 2))]),
    _l("dot", np.dot, _dot_sample,
       errors=[_mismatch([(3,), (4,)], "lengths 3 and 4"), _mismatch([(2, 2), (2,)], "a 2-d operand")]),
    _l("mv", np.matmul, _mv_sample, errors=[_mismatch([(2, 3), (4,)], "sizes 3 and 4"),
                                            ErrorInput(lambda g: Sample(g.array(()), g.array((3,))), IndexError,
                                                       "a 0-d matrix")]),
    _l("outer", np.outer, _outer_sample),
    _l("addmm", _addmm_ref, _addmm_sample,
       errors=[_mismatch([(2, 2), (2, 3), (4, 2)], "inner sizes 3 and 4"),
               ErrorInput(lambda g: Sample(*[g.array(s) for s in [(2, 2), (2, 3), (3, 2)]], alpha=2 ** 40),
                          RuntimeError, "an alpha int32 cannot hold", "int32")]),
]

__all__ = ["ENTRIES"]
