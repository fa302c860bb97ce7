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
