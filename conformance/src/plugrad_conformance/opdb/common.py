"""Sample builders and bad inputs shared by the families of the op database."""

from __future__ import annotations

import numpy as np

from ..gen import DEFAULT_DOMAIN, Domain
from ..opinfo import ErrorInput, Sample

__all__ = ["unary", "binary", "f64", "D", "NONZERO", "AWAY_FROM_INTEGERS", "AWAY_FROM_HALVES",
           "shape_mismatch", "not_a_number", "float_refused", "bool_refused", "EVEN", "ODD", "TIES",
           "reduction_dims", "scalar_kind"]

D = DEFAULT_DOMAIN
#: |x| >= 1/4: divisors, reciprocals
NONZERO = Domain(-4, 4, exclude=lambda x: abs(x) < 0.25)
#: kinks of floor/ceil/trunc/sign/abs/relu at integers (0 included)
AWAY_FROM_INTEGERS = Domain(-4, 4, exclude=lambda x: float(x).is_integer())
#: kinks of round at integers and half-integers
AWAY_FROM_HALVES = Domain(-4, 4, exclude=lambda x: float(2 * x).is_integer())
#: two operands that can never tie: one on even multiples of 1/64, one on odd ones
EVEN = Domain(-4, 4, exclude=lambda x: int(round(x * 64)) % 2 == 1)
ODD = Domain(-4, 4, exclude=lambda x: int(round(x * 64)) % 2 == 0)
#: few distinct values, so that ties and equal elements are common
TIES = Domain(-2, 2, grid=(-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0))


def f64(fn):
    """A reference that computes in float64 whatever the input category (NumPy would
    compute a bool input in float16)."""
    def ref(x, *args, **kwargs):
        return fn(np.asarray(x, dtype=np.float64), *args, **kwargs)
    ref.__name__ = getattr(fn, "__name__", "ref")
    return ref


def scalar_kind(g, floats=True):
    """The category of a Python-number operand: mostly the tensor's own, sometimes
    another one (int tensor + 2.5 promotes to float; float tensor + 2 does not).
    ``floats=False`` keeps floats out (integer-only ops)."""
    if g.kind == "bool":
        return g.choice(["bool", "int", "float"] if floats else ["bool", "int"])
    if g.kind == "int" and not floats:
        return g.choice(["int", "bool"])
    return g.choice([g.kind, g.kind, "int" if g.kind == "float" else "float"])


def unary(domain=D, grad_domain=None):
    """One tensor of any small shape."""
    def sample(g):
        d = grad_domain if grad_domain is not None and g.purpose in ("grad", "layout") else domain
        return Sample(g.array(g.shape(), d))
    return sample


def binary(da=D, db=D, scalar=True, grad_da=None, grad_db=None, forward_da=None, forward_db=None,
           float_scalars=True):
    """Two operands that broadcast together; the second is sometimes a Python number."""
    def sample(g):
        sa, sb = g.shapes(2)
        grad = g.purpose in ("grad", "layout", "broadcast")
        a_dom = (grad_da or da) if grad else (forward_da or da)
        b_dom = (grad_db or db) if grad else (forward_db or db)
        a = g.array(sa, a_dom)
        if scalar and g.purpose == "forward" and g.integers(0, 3) == 0:
            kind = scalar_kind(g, float_scalars)
            return Sample(a, g.scalar(b_dom, kind=kind))
        return Sample(a, g.array(sb, b_dom))
    return sample


def reduction_dims(g, ndim, multi=True):
    """A ``dim`` argument: None, an int, or (when ``multi``) a tuple of distinct dims."""
    choice = g.integers(0, 3 if multi and ndim >= 2 else 2)
    if choice == 0 or ndim == 0:
        return None if choice == 0 else g.dim(ndim)
    if choice == 3:
        k = g.integers(1, ndim)
        dims = []
        for _ in range(k):
            d = g.integers(0, ndim - 1)
            if d not in dims:
                dims.append(d)
        return tuple(d - ndim if g.boolean() else d for d in dims)
    return g.dim(ndim)


# ---- bad inputs ------------------------------------------------------------------------------

def shape_mismatch(dtype="float32"):
    return ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((4,))), RuntimeError,
                      "shapes [2, 3] and [4] do not broadcast", dtype)


def not_a_number():
    return ErrorInput(lambda g: Sample(g.array((2,)), "two"), TypeError, "a string operand")


def float_refused(n_args=1, why="integer/bool op on a float tensor"):
    return ErrorInput(lambda g: Sample(*[g.array((3,)) for _ in range(n_args)]), RuntimeError, why, "float32")


def bool_refused(n_args=1, why="op refused for bool tensors"):
    return ErrorInput(lambda g: Sample(*[g.array((3,)) for _ in range(n_args)]), RuntimeError, why, "bool")

