"""Python's own errors never leak out of plugrad's entry points: a factory given a
non-finite or huge scalar, or an index key with several ellipses, gives PyTorch's result
or PyTorch's exception class with plugrad's message, never the ``ValueError`` of
``int(nan)``, the ``OverflowError`` of ``int(inf)``, a ``MemoryError`` from building a
list of 10**20 values, or the ``IndexError: tuple index out of range`` of a shape lookup.

The scalars are a fixed sweep of the values that break naive conversions (every
combination for each factory); the keys are drawn by hypothesis from the items that
move the dimension cursor (ellipses, ``None``, ints, slices, lists, bools).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import plugrad
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
import oracle_support as oracle  # noqa: E402 - needs torch
pytestmark = pytest.mark.torch_oracle

#: scalars that break a naive ``int()``/``math.ceil``/``range`` inside a factory
ODD_SCALARS = (0, 1, -1, 2.5, math.nan, math.inf, -math.inf, 1e20, 1e-30, 2 ** 63, True)


def _factory_calls():
    """``(name, call)``: each factory with every combination of odd scalars in its
    numeric arguments (sizes of ``linspace``/``logspace`` kept sane: they are ints)."""
    calls = []
    for end in ODD_SCALARS:
        calls.append((f"arange({end!r})", lambda m, e=end: m.arange(e)))
    for start, end, step in itertools.product((0, 2.5, math.nan, -math.inf), ODD_SCALARS, (1, 0.5, math.nan,
                                                                                           math.inf, 1e-30, -1)):
        calls.append((f"arange({start!r}, {end!r}, {step!r})", lambda m, a=start, e=end, s=step: m.arange(a, e, s)))
    for start, end in itertools.product(ODD_SCALARS, ODD_SCALARS):
        calls.append((f"linspace({start!r}, {end!r}, 5)", lambda m, a=start, e=end: m.linspace(a, e, 5)))
    for steps in (0, 1, 2 ** 62):
        calls.append((f"linspace(0, 1, {steps})", lambda m, n=steps: m.linspace(0, 1, n)))
    for value, dtype in itertools.product(ODD_SCALARS, ("float32", "int64", "bool")):
        calls.append((f"full((2,), {value!r}, {dtype})",
                      lambda m, v=value, d=dtype: m.full((2,), v, dtype=getattr(m, d))))
    calls.append(("arange(5, dtype=bool)", lambda m: m.arange(5, dtype=m.bool)))
    return calls


FACTORY_CALLS = _factory_calls()


@pytest.mark.parametrize("name_call", FACTORY_CALLS, ids=[n for n, _ in FACTORY_CALLS])
def test_factories_given_odd_scalars_act_as_torch(name_call):
    name, call = name_call
    oracle.same_as_torch(call, name, rtol=0)


X234 = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

KEY_ITEMS = st.sampled_from([Ellipsis, None, 0, -1, 2, slice(1, None), slice(None, None, 2), [0, 1], True])


def _table(m):
    return plugrad.tensor(X234) if m is plugrad else torch.from_numpy(X234.copy())


@settings(max_examples=300, deadline=None)
@given(key=st.lists(KEY_ITEMS, min_size=1, max_size=5).map(tuple))
def test_keys_with_any_number_of_ellipses_index_as_torch(key):
    """Several ellipses each expand over every dim the key leaves unnamed (PyTorch's
    rule), in reads and in writes; a key that then runs past the last dim is an IndexError."""
    oracle.same_as_torch(lambda m: _table(m)[key], f"x[{key!r}]", rtol=0)

    def write(m):
        y = _table(m)
        before = y.clone()
        try:
            y[key] = -1.0
        except Exception:
            assert bool((y == before).all()), "a failed assignment modified its target"
            raise
        return y
    oracle.same_as_torch(write, f"x[{key!r}] = -1", rtol=0)


# ---- orders and counts that used to loop or exhaust memory ---------------------------------------

@pytest.mark.parametrize("order", [10 ** 6, 2 ** 62])
def test_a_huge_order_answers_at_once(order):
    """mvlgamma and polygamma used to run one op per unit of the order (hours for 2**62):
    mvlgamma now builds PyTorch's ``x[..., None] - j/2`` tensor (too big is PyTorch's
    storage RuntimeError), and polygamma needs no factorial past (n-1)!."""
    x = np.array([2.5, 3.0, 7.25])
    oracle.same_as_torch(lambda m: m.mvlgamma(m.tensor(x), order), f"mvlgamma(x, {order})", rtol=1e-6)
    ours = plugrad.polygamma(order, plugrad.tensor(x)).tolist()
    theirs = torch.polygamma(order, torch.tensor(x)).tolist()
    assert all(not math.isfinite(v) for v in ours) and all(not math.isfinite(v) for v in theirs)


@pytest.mark.parametrize("order", [2, 30, 170, 171, 200])
def test_polygamma_of_high_orders_as_torch(order):
    x = np.array([2.5, 3.0, 0.25, -1.5])
    oracle.same_as_torch(lambda m: m.polygamma(order, m.tensor(x)), f"polygamma({order}, x)", rtol=1e-9)


def test_combinations_beyond_memory_is_a_runtime_error_at_once():
    with pytest.raises(RuntimeError, match="would not fit in memory"):
        plugrad.combinations(plugrad.arange(50.0), 30)
    oracle.same_as_torch(lambda m: m.combinations(m.arange(7.0), 3, with_replacement=True), "combinations", rtol=0)


@pytest.mark.parametrize("fn", ["svd", "svdvals", "pinv", "matrix_rank"])
def test_non_finite_input_to_svd_is_torch_linalg_error(fn):
    a = np.array([[np.nan, 1.0], [1.0, 2.0]])
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        getattr(torch.linalg, fn)(torch.tensor(a))
    with pytest.raises(plugrad.linalg.LinAlgError) as ours:
        getattr(plugrad.linalg, fn)(plugrad.tensor(a))
    assert str(ours.value) == str(theirs.value)
