"""Indexing ops given unusual or bad input, against the PyTorch oracle, on every device:
every call either gives PyTorch's result (dtype, shape, values) or raises PyTorch's
exception class, and a call that fails leaves its input as it was.

Each case is a function of the library ``m`` (plugrad or torch) and of ``t``, which makes
a tensor of that library (on the device under test for plugrad) from a NumPy value.
"""

from __future__ import annotations


import numpy as np
import plugrad
import pytest

torch = pytest.importorskip("torch")
import oracle_support as oracle  # noqa: E402 - needs torch
pytestmark = pytest.mark.torch_oracle


def _maker(m, device):
    def t(value, dtype=None):
        a = np.asarray(value, dtype=dtype)
        if m is plugrad:
            return plugrad.tensor(a, device=device)
        return torch.from_numpy(a.copy())
    return t


def _same_as_torch(fn, device, where):
    """``fn(m, t)`` in both libraries, results compared exactly (see :func:`oracle_support.same_as_torch`)."""
    oracle.same_as_torch(lambda m: fn(m, _maker(m, "cpu" if m is torch else device)), where, rtol=0)


def _cases(table):
    return pytest.mark.parametrize("case", sorted(table), ids=str)


X34 = np.arange(12, dtype=np.float32).reshape(3, 4)


def _set(key_of, value_of, x=X34):
    """``y[key] = value`` on a copy ``y`` of ``x``; the outcome is ``(y, x)``, so a failing
    assignment that wrote anyway would show in ``y`` of a later successful one and the
    original is checked untouched."""
    def call(m, t):
        y = t(x)
        before = y.clone()
        try:
            y[key_of(m, t)] = value_of(m, t)
        except Exception:
            assert bool((y == before).all()), "a failed assignment modified its target"
            raise
        return y
    return call


# ---- how a key is read: PyTorch reads a short list holding a list, None, a string, a slice,
# Ellipsis or a tensor as a tuple of index items, and counts the dims they name first ----------

KEYS = {
    "nested list": lambda m, t: [[0, 1], [1, 0]],
    "ragged list": lambda m, t: [[1.0, 2.0], [3.0]],
    "ragged list, three items": lambda m, t: [[1.0, 2.0], [3.0], 0],
    "None in a list": lambda m, t: [None, 0],
    "None last in a list": lambda m, t: [0, None],
    "slice in a list": lambda m, t: [slice(None), 0],
    "Ellipsis in a list": lambda m, t: [Ellipsis, 0],
    "string in a list": lambda m, t: [0, "bogus"],
    "string in a list of three": lambda m, t: [0, "bogus", 1],
    "string in a tuple": lambda m, t: (0, "bogus"),
    "two-letter string": lambda m, t: "bo",
    "five-letter string": lambda m, t: "bogus",
    "tuples in a list": lambda m, t: [(0, 1), (1, 2)],
    "0-d tensors in a list": lambda m, t: [t(0), t(1)],
    "1-d tensors in a list": lambda m, t: [t([0, 1]), t([1, 2])],
    "0-d float tensor in a list": lambda m, t: [t(1.0, np.float32), t(0)],
    "arrays in a list": lambda m, t: [np.array([0, 1]), np.array([1, 0])],
    "2-d array": lambda m, t: np.array([[0, 1], [1, 0]]),
    "floats in a list": lambda m, t: [1.7, 0.2],
    "bools in a list": lambda m, t: [True, False, True],
    "bool and int in a list": lambda m, t: [True, 0],
    "32 pairs in a list": lambda m, t: [[0, 1]] * 32,
    "31 pairs in a list": lambda m, t: [[0, 1]] * 31,
    "a range": lambda m, t: range(2),
    "an empty list": lambda m, t: [],
    "0-d int tensor": lambda m, t: t(1),
    "0-d int tensor in a tuple": lambda m, t: (t(1), 0),
    "bool in a tuple": lambda m, t: (0, True),
    "bool after separated indices": lambda m, t: ([0, 1], slice(None), True),
    "False after separated indices": lambda m, t: ([0, 1], slice(None), False),
    "bare True": lambda m, t: True,
    "bare False": lambda m, t: False,
    "three ints and a bool": lambda m, t: (0, 0, True),
}


@_cases(KEYS)
def test_getitem_reads_keys_as_pytorch(case, device):
    _same_as_torch(lambda m, t: t(X34)[KEYS[case](m, t)], device, f"x[{case}]")


@_cases(KEYS)
@pytest.mark.parametrize("value", ["number", "same dtype"])
def test_setitem_reads_keys_as_pytorch(case, value, device):
    if value == "number":
        val = lambda m, t: -1.0  # noqa: E731
    else:
        val = lambda m, t: t(-1.0, np.float32)  # noqa: E731
    _same_as_torch(_set(KEYS[case], val), device, f"x[{case}] = {value}")


# ---- an assignment checks the value's shape (and dtype) before the index values; an int in
# the key is a basic index, checked first ---------------------------------------------------

X22 = X34[:2, :2]
PAST_THE_END_KEYS = {
    "ragged list": lambda m, t: [[1.0, 2.0], [3.0]],
    "list": lambda m, t: [5, 6], "int tensor": lambda m, t: t([5, 6]),
    "slice and list": lambda m, t: (slice(None), [5, 6]), "list and int": lambda m, t: ([5, 6], 0),
    "list and int past the end": lambda m, t: ([1, 1], 5), "0-d int tensors in a list": lambda m, t: [t(3), t(0)],
}
PAST_THE_END_VALUES = {
    "(4, 2) float32": lambda m, t: t(np.ones((4, 2), np.float32)),
    "(4,) float32": lambda m, t: t(np.ones(4, np.float32)),
    "(3,) float32": lambda m, t: t(np.ones(3, np.float32)), "(2,) int64": lambda m, t: t([1, 2]),
    "0-d float32": lambda m, t: t(1.0, np.float32), "number": lambda m, t: 1.0,
}


@_cases(PAST_THE_END_KEYS)
@pytest.mark.parametrize("value", sorted(PAST_THE_END_VALUES))
def test_setitem_checks_the_value_before_the_index_values(case, value, device):
    _same_as_torch(_set(PAST_THE_END_KEYS[case], PAST_THE_END_VALUES[value], X22), device, f"x[{case}] = {value}")


# ---- index values are checked only where the result has elements; an index into a size-0 dim
# must be empty once the indices are broadcast (checked before the value) -----------------------

E0 = np.zeros(0, np.int64)
EMPTY_RESULT = {
    "[5] beside an empty index": lambda m, t: t(np.zeros((1, 3, 4), F))[[5], t(E0)],
    "0-d tensor 5 beside an empty index": lambda m, t: t(np.zeros((1, 3, 4), F))[t(5), t(E0)],
    "[7] into a dim of a size-0 input": lambda m, t: t(np.zeros((0, 3), F))[:, [7]],
    "[5] into a size-0 dim": lambda m, t: t(np.zeros((0, 3), F))[[5]],
    "[5] and [1] into a size-0 dim": lambda m, t: t(np.zeros((0, 3), F))[[5], [1]],
    "[7] into a size-0 dim beside an empty index": lambda m, t: t(np.zeros((2, 0, 3), F))[:, [7], t(E0)],
    "[-1] into a size-0 dim": lambda m, t: t(np.zeros((2, 0, 3), F))[:, [-1]],
    "[5] of rows of no columns": lambda m, t: t(np.zeros((2, 0), F))[[5]],
    "empty mask beside [7]": lambda m, t: t(np.zeros((2, 3), F))[t([False, False]), [7]],
    "index_put, 0-d 5 beside an empty index": lambda m, t: m.index_put(t(np.zeros((1, 3, 4), F)), (t(5), t(E0)),
                                                                      t(np.zeros((0, 4), F))),
    "index_put, [5] beside an empty index, accumulate": lambda m, t: m.index_put(
        t(np.zeros((1, 3, 4), F)), (t([5]), t(E0)), t(1.0, F), True),
    "index_put, [5] into rows of no columns": lambda m, t: m.index_put(t(np.zeros((2, 0), F)), (t([5]),), t(1.0, F)),
    "index_put, [7] into a size-0 dim": lambda m, t: m.index_put(t(np.zeros((2, 0, 3), F)), (t([0]), t([7])),
                                                                 t(1.0, F)),
    "setitem, [5] into rows of no columns": lambda m, t: _set(lambda m, t: [5], lambda m, t: 1.0,
                                                              np.zeros((2, 0), F))(m, t),
    "setitem, [5] beside an empty index": lambda m, t: _set(lambda m, t: (t([5]), t(E0)), lambda m, t: t(1.0, F),
                                                            np.zeros((2, 3), F))(m, t),
    "setitem, [7] into a size-0 dim, value of bad shape": lambda m, t: _set(
        lambda m, t: (slice(None), t([7])), lambda m, t: t(np.zeros(5, F)), np.zeros((2, 0, 3), F))(m, t),
}


@_cases(EMPTY_RESULT)
def test_index_values_checked_only_where_read(case, device):
    _same_as_torch(EMPTY_RESULT[case], device, case)


# ---- an advanced assignment needs the target's dtype, except one cpu value through one mask -------

ASSIGN_KEYS = {
    "list": lambda m, t: [0, 2], "int tensor": lambda m, t: t([0, 2]),
    "row mask": lambda m, t: t([True, False, True]), "full mask": lambda m, t: t(X34 > 4),
    "bool list": lambda m, t: [True, False, True], "slice and mask": lambda m, t: (slice(None), t([True, False] * 2)),
    "int and mask": lambda m, t: (0, t([True, False] * 2)), "mask and list": lambda m, t: (t([True, False, True]), [0]),
    "0-d bool tensor": lambda m, t: t(True), "tuple of tensors": lambda m, t: (t([0]), t([1])),
    "bool in a tuple": lambda m, t: (0, True), "0-d int tensor": lambda m, t: t(1), "int": lambda m, t: 1,
    "slice": lambda m, t: slice(None), "bare True": lambda m, t: True,
}
ASSIGN_VALUES = {
    "0-d float64": lambda m, t: t(2.0, np.float64), "0-d int64": lambda m, t: t(2),
    "0-d bool": lambda m, t: t(True), "(1,) int64": lambda m, t: t([2]), "(1, 1) float64": lambda m, t: t([[2.0]]),
    "(4,) int64": lambda m, t: t([1, 2, 3, 4]), "(4,) float32": lambda m, t: t([1, 2, 3, 4], np.float32),
}


@_cases(ASSIGN_KEYS)
@pytest.mark.parametrize("value", sorted(ASSIGN_VALUES))
def test_advanced_assignment_dtype_rule(case, value, device):
    _same_as_torch(_set(ASSIGN_KEYS[case], ASSIGN_VALUES[value]), device, f"x[{case}] = {value}")


@pytest.mark.parametrize("target", ["float32", "int64", "bool"])
@pytest.mark.parametrize("value", ["float32", "int64", "bool", "float64"])
def test_setitem_index_list_other_dtype(target, value, device):
    x = (X34 % 3).astype(target)
    _same_as_torch(_set(lambda m, t: [0, 1], lambda m, t: t(np.ones((2, 4)), value), x), device,
                   f"{target}[list] = {value}")


#: an assigned value may carry more leading 1s than the target has dims (they are dropped)
VALUE_SHAPES = {"(1, 1, 4)": (1, 1, 4), "(1, 2, 4)": (1, 2, 4), "(2, 1, 4)": (2, 1, 4), "(1, 1, 1)": (1, 1, 1),
                "(3,)": (3,)}


@pytest.mark.parametrize("key", ["int", "list", "slice"])
@_cases(VALUE_SHAPES)
def test_setitem_value_leading_ones(case, key, device):
    k = {"int": 0, "list": [0, 1], "slice": slice(0, 2)}[key]
    _same_as_torch(_set(lambda m, t: k, lambda m, t: t(np.ones(VALUE_SHAPES[case], np.float32))), device,
                   f"x[{key}] = ones{case}")


INDEX_PUT = {
    "mask, 0-d float64": lambda m, t: m.index_put(t(X34), (t([True, False, True]),), t(2.0, np.float64)),
    "mask, (1, 1) float64": lambda m, t: m.index_put(t(X34), (t([True, False, True]),), t([[2.0]])),
    "mask, 0-d float64, accumulate": lambda m, t: m.index_put(t(X34), (t([True, False, True]),),
                                                               t(2.0, np.float64), True),
    "int index, 0-d float64": lambda m, t: m.index_put(t(X34), (t([0]),), t(2.0, np.float64)),
    "0-d index, (4,) value": lambda m, t: m.index_put(t(X34[0]), (t(1),), t(np.ones(4, np.float32))),
    "0-d index, (1,) value": lambda m, t: m.index_put(t(X34[0]), (t(1),), t(np.ones(1, np.float32))),
    "0-d index, 0-d value": lambda m, t: m.index_put(t(X34[0]), (t(1),), t(5.0, np.float32)),
    "method, mask, 0-d int64": lambda m, t: t(X34).index_put_((t([True, False, True]),), t(2)),
    "None among the indices": lambda m, t: m.index_put(t(X34), (None, t([0])), t(2.0, np.float32)),
    # the value's shape is checked before the index values
    "0-d index past the end, value of bad shape": lambda m, t: m.index_put(t(X34[:2, :2]), (t(5),),
                                                                           t(np.ones((0, 2), np.float32))),
    "index past the end, value of bad shape": lambda m, t: t(X34).index_put_((t([5, 6]),), t(np.ones(3, np.float32))),
    "index past the end, value of bad shape, accumulate": lambda m, t: m.index_put(
        t(X34), (t([0]), t([9])), t(np.ones(3, np.float32)), True),
    "index past the end, value of other dtype": lambda m, t: m.index_put(t(X34), (t([5]),), t(np.ones(4, np.int64))),
    "indices that do not broadcast, value of bad shape": lambda m, t: m.index_put(
        t(X34), (t([0, 1]), t([0, 1, 2])), t(np.ones(5, np.float32))),
    "no index": lambda m, t: m.index_put(t(V3), (), t(1.0, np.float32)),
}


@_cases(INDEX_PUT)
def test_index_put_value_rules(case, device):
    _same_as_torch(INDEX_PUT[case], device, case)


# ---- gather / scatter / scatter_add: 0-d tensors count as 1-d; an empty index is not read --------

V3 = np.array([0.5, -1.0, 2.0], np.float32)
GATHER_SCATTER = {
    "gather 1-d input, 0-d index": lambda m, t: m.gather(t(V3), 0, t(2)),
    "gather 0-d input, (1,) index": lambda m, t: m.gather(t(1.5, np.float32), 0, t([0])),
    "gather 0-d input, (1, 1) index": lambda m, t: m.gather(t(1.5, np.float32), 0, t([[0]])),
    "gather 2-d input, 0-d index": lambda m, t: m.gather(t(X34), 0, t(1)),
    "gather empty float index": lambda m, t: m.gather(t(X34), 0, t(np.zeros(0, np.float32))),
    "gather empty index of other dims": lambda m, t: m.gather(t(X34), 0, t(np.zeros((5, 0, 4), np.int64))),
    "gather empty index, dim out of range": lambda m, t: m.gather(t(X34), 5, t(np.zeros(0, np.int64))),
    "gather bool index": lambda m, t: m.gather(t(V3), 0, t([True])),
    "scatter 0-d index, (2,) src": lambda m, t: m.scatter(t(V3), 0, t(2), t([7.0, 8.0], np.float32)),
    "scatter (1,) index, 0-d src": lambda m, t: m.scatter(t(V3), 0, t([2]), t(7.0, np.float32)),
    "scatter (2,) index, 0-d src": lambda m, t: m.scatter(t(V3), 0, t([2, 1]), t(7.0, np.float32)),
    "scatter 0-d index, number": lambda m, t: m.scatter(t(V3), 0, t(2), 7.0),
    "scatter 2-d input, (1, 1) index, 0-d src": lambda m, t: m.scatter(t(X34), 0, t([[1]]), t(7.0, np.float32)),
    "scatter 2-d input, 0-d index": lambda m, t: m.scatter(t(X34), 0, t(1), t(7.0, np.float32)),
    "scatter empty float index": lambda m, t: m.scatter(t(V3), 0, t(np.zeros(0, np.float32)), t(V3)),
    "scatter empty bool index, number": lambda m, t: m.scatter(t(V3), 0, t(np.zeros(0, bool)), 3.0),
    "scatter empty index of 3 dims": lambda m, t: m.scatter(t(X34), 0, t(np.zeros((5, 0, 4), np.int64)), 1.0),
    "scatter empty index, src of other dtype": lambda m, t: m.scatter(t(X34), 0, t(np.zeros(0, np.int64)),
                                                                      t(np.zeros(7, np.int64))),
    "scatter_ empty float index": lambda m, t: t(V3).scatter_(0, t(np.zeros(0, np.float32)), 3.0),
    "scatter_add (1,) index, 0-d src": lambda m, t: m.scatter_add(t(V3), 0, t([2]), t(7.0, np.float32)),
    "scatter_add (2,) index, 0-d src": lambda m, t: m.scatter_add(t(V3), 0, t([2, 1]), t(7.0, np.float32)),
    "scatter_add 0-d index, (2,) src": lambda m, t: m.scatter_add(t(V3), 0, t(2), t([7.0, 3.0], np.float32)),
    "scatter_add empty float index": lambda m, t: m.scatter_add(t(X34), 0, t(np.zeros((1, 0), np.float32)), t(X34)),
    "scatter_add_ 0-d index": lambda m, t: t(V3).scatter_add_(0, t(1), t(V3)),
}


@_cases(GATHER_SCATTER)
def test_gather_scatter_shapes(case, device):
    _same_as_torch(GATHER_SCATTER[case], device, case)


#: what scatter writes: a Tensor src or a number value, nothing else
SCATTER_VALUES = {"None": None, "string": "bogus", "ragged list": [[1.0, 2.0], [3.0]], "list": [1.0, 2.0],
                  "float": 2.5, "int": 3, "bool": True}


@_cases(SCATTER_VALUES)
@pytest.mark.parametrize("form", ["function", "method", "in-place"])
def test_scatter_value_types(case, form, device):
    value = SCATTER_VALUES[case]

    def call(m, t):
        x, idx = t(V3), t([2, 0])
        if form == "function":
            return m.scatter(x, 0, idx, value)
        if form == "method":
            return x.scatter(0, idx, value)
        before = x.clone()
        try:
            return x.scatter_(0, idx, value)
        except Exception:
            assert bool((x == before).all()), "a failed scatter_ modified its input"
            raise
    _same_as_torch(call, device, f"scatter {form} with {case}")


# ---- index_select / index_add ------------------------------------------------------------------

L = np.int64
INDEX_SELECT = {
    "0-d input, [0]": lambda m, t: m.index_select(t(5.0, np.float32), 0, t([0])),
    "0-d input, [1]": lambda m, t: m.index_select(t(5.0, np.float32), 0, t([1])),
    "0-d input, [-1]": lambda m, t: m.index_select(t(5.0, np.float32), 0, t([-1])),
    "0-d input, [0, 0]": lambda m, t: m.index_select(t(5.0, np.float32), 0, t([0, 0])),
    "0-d input, []": lambda m, t: m.index_select(t(5.0, np.float32), 0, t(np.zeros(0, L))),
    "0-d input, 0-d index": lambda m, t: m.index_select(t(5.0, np.float32), 0, t(0)),
    "1-d input, 0-d index": lambda m, t: m.index_select(t(V3), 0, t(1)),
    "negative index": lambda m, t: m.index_select(t(V3), 0, t([-1])),
    "index past the end": lambda m, t: m.index_select(t(V3), 0, t([3])),
    "empty dim": lambda m, t: m.index_select(t(np.zeros((0, 3), np.float32)), 0, t([1])),
    "empty dim, empty index": lambda m, t: m.index_select(t(np.zeros((0, 3), np.float32)), 0, t(np.zeros(0, L))),
    "empty input, other dim": lambda m, t: m.index_select(t(np.zeros((0, 3), np.float32)), 1, t([1])),
    "empty 1-d input": lambda m, t: m.index_select(t(np.zeros(0, np.float32)), 0, t([0])),
    "2-d float index": lambda m, t: m.index_select(t(X34), 1, t(np.zeros((1, 1), np.float32))),
    "bool index": lambda m, t: m.index_select(t(X34), 1, t([False])),
}


@_cases(INDEX_SELECT)
def test_index_select_edges(case, device):
    _same_as_torch(INDEX_SELECT[case], device, case)


F = np.float32
INDEX_ADD = {
    "0-d input, 0-d source, [0]": lambda m, t: m.index_add(t(5.0, F), 0, t([0]), t(2.0, F)),
    "0-d input, 0-d source, 0-d index": lambda m, t: m.index_add(t(5.0, F), -1, t(0), t(2.0, F)),
    "0-d input, 0-d source, [1]": lambda m, t: m.index_add(t(5.0, F), 0, t([1]), t(2.0, F)),
    "0-d input, (1,) source": lambda m, t: m.index_add(t(5.0, F), 0, t([0]), t([2.0], F)),
    "0-d input, 0-d source, two indices": lambda m, t: m.index_add(t(5.0, F), 0, t([0, 0]), t(2.0, F)),
    "0-d input, (2,) source, two indices": lambda m, t: m.index_add(t(5.0, F), 0, t([1, 0]), t([2.0, 1.0], F)),
    "1-d input, 0-d source": lambda m, t: m.index_add(t(V3), 0, t([0]), t(2.0, F)),
    "1-d input, 0-d source, two indices": lambda m, t: m.index_add(t(V3), 0, t([0, 1]), t(2.0, F)),
    "1-d input, 0-d index": lambda m, t: m.index_add(t(V3), 0, t(1), t([2.0], F)),
    "in place, 0-d source, two indices": lambda m, t: t(V3).index_add_(0, t([0, 1]), t(2.0, F)),
    "empty input, index past its dim": lambda m, t: m.index_add(t(np.zeros((3, 3, 0), F)), 2, t([5]),
                                                                t(np.zeros((3, 3, 1), F))),
    "empty input along dim 0": lambda m, t: m.index_add(t(np.zeros((0, 2, 2), F)), 0, t([1]),
                                                        t(np.zeros((1, 2, 2), F))),
    "empty 1-d input": lambda m, t: m.index_add(t(np.zeros(0, F)), 0, t([1]), t(np.ones(1, F))),
    "negative index": lambda m, t: m.index_add(t(V3), 0, t([-1]), t(np.ones(1, F))),
    "index past the end": lambda m, t: m.index_add(t(V3), 0, t([3]), t(np.ones(1, F))),
    "2-d index": lambda m, t: m.index_add(t(V3), 0, t([[0]]), t(np.ones(1, F))),
    "2-d float index": lambda m, t: m.index_add(t(V3), 0, t(np.zeros((1, 1), F)), t(np.ones(1, F))),
    "float index, bad source": lambda m, t: m.index_add(t(V3), 0, t(np.zeros(1, F)), t(np.ones(2, F))),
    "source of fewer dims": lambda m, t: m.index_add(t(X34), 1, t([0]), t(np.ones(3, F))),
    "source of more dims": lambda m, t: m.index_add(t(X34), 0, t([0]), t(np.ones((1, 4, 1), F))),
    "index count differs": lambda m, t: m.index_add(t(X34), 0, t([0]), t(np.ones((2, 4), F))),
    "source shape differs": lambda m, t: m.index_add(t(X34), 0, t([0]), t(np.ones((1, 3), F))),
    "source dtype differs": lambda m, t: m.index_add(t(V3), 0, t([0]), t([1, 2])),
    "dim out of range": lambda m, t: m.index_add(t(V3), 1, t([0]), t(np.ones(1, F))),
    # a 0-d source names dim 0 only: a later dim is refused before the index count is looked at
    "2-d input, 0-d source, dim 1, two indices": lambda m, t: m.index_add(t(X34), 1, t([0, 1]), t(2.0, F)),
    "2-d input, 0-d source, dim -1, no index": lambda m, t: m.index_add(t(X34), -1, t(np.zeros(0, L)), t(2.0, F)),
    "3-d input, 0-d source, dim 2, one index": lambda m, t: m.index_add(t(np.zeros((2, 3, 4), F)), 2, t([0]),
                                                                        t(2.0, F)),
    "in place, 3-d input, 0-d source, dim 1": lambda m, t: t(np.zeros((2, 3, 4), F)).index_add_(1, t([0, 2]),
                                                                                               t(2.0, F)),
    "2-d input, 0-d source, dim 0, two indices": lambda m, t: m.index_add(t(X34), 0, t([0, 1]), t(2.0, F)),
    # alpha is converted to the input's dtype where PyTorch converts it: an input of 2+ dims
    # converts it after checking the index values, and not at all when it or the index is empty
    "int32, huge alpha": lambda m, t: m.index_add(t(X34.astype(np.int32)), 1, t([0]),
                                                  t(np.ones((3, 1), np.int32)), alpha=2 ** 62),
    "int32, huge alpha, no index": lambda m, t: m.index_add(t(X34.astype(np.int32)), 1, t(np.zeros(0, L)),
                                                            t(np.ones((3, 0), np.int32)), alpha=2 ** 62),
    "int32, empty input, huge alpha": lambda m, t: m.index_add(t(np.zeros((0, 2), np.int32)), 1, t([0]),
                                                               t(np.ones((0, 1), np.int32)), alpha=-2 ** 62),
    "int32, huge alpha, index past the end": lambda m, t: m.index_add(t(X34.astype(np.int32)), 0, t([7]),
                                                                      t(np.ones((1, 4), np.int32)), alpha=2 ** 62),
    "1-d int32, huge alpha, no index": lambda m, t: m.index_add(t(V3.astype(np.int32)), 0, t(np.zeros(0, L)),
                                                                t(np.ones(0, np.int32)), alpha=2 ** 62),
    "1-d int32, huge alpha, index past the end": lambda m, t: m.index_add(t(V3.astype(np.int32)), 0, t([7]),
                                                                          t(np.ones(1, np.int32)), alpha=2 ** 62),
    "float32, alpha past float32, no index": lambda m, t: m.index_add(t(X34), 0, t(np.zeros(0, L)),
                                                                      t(np.ones((0, 4), F)), alpha=1e300),
}


@_cases(INDEX_ADD)
def test_index_add_edges(case, device):
    _same_as_torch(INDEX_ADD[case], device, case)


def test_index_add_of_a_0d_input_has_gradients(device):
    """The 0-d path records both gradients (compared with PyTorch's)."""
    got = []
    for m, dev in ((plugrad, device), (torch, "cpu")):
        kw = {"device": dev} if m is plugrad else {}
        x = m.tensor(5.0, requires_grad=True, **kw)
        s = m.tensor(2.0, requires_grad=True, **kw)
        (m.index_add(x, 0, m.tensor([0], **kw), s, alpha=3) * 2).backward()
        got.append((x.grad.item(), s.grad.item()))
    assert got[0] == got[1]


# ---- masked_fill: the out-of-place form broadcasts input and mask, the in-place one cannot grow ---

MASKED_FILL = {
    "0-d input, 1-d mask": lambda m, t: m.masked_fill(t(1.5, F), t([True, False]), 0.0),
    "1-d input, 2-d mask": lambda m, t: m.masked_fill(t(V3[:2]), t(np.array([[True, False]] * 4)), 9.0),
    "(1, 3) input, (5, 3) mask": lambda m, t: m.masked_fill(t(V3[None]), t(np.ones((5, 3), bool)), 9.0),
    "method, 0-d input, (4, 1) mask": lambda m, t: t(1, np.int32).masked_fill(t([[True]] * 4), 7),
    "in place, growing": lambda m, t: t(V3[:2]).masked_fill_(t(np.array([[True, False]] * 4)), 9.0),
    "not broadcastable": lambda m, t: m.masked_fill(t(V3), t([True, False]), 9.0),
}


@_cases(MASKED_FILL)
def test_masked_fill_broadcasts(case, device):
    _same_as_torch(MASKED_FILL[case], device, case)


def test_masked_fill_broadcast_gradient(device):
    """The input's gradient is summed back over the dims the mask added."""
    got = []
    for m, dev in ((plugrad, device), (torch, "cpu")):
        kw = {"device": dev} if m is plugrad else {}
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True, **kw)
        mask = m.tensor([[True, False, False], [False, False, True]], **kw)
        (m.masked_fill(x, mask, 0.0) * m.tensor([[1.0], [10.0]], **kw)).sum().backward()
        got.append(x.grad.tolist())
    assert got[0] == got[1]


# ---- where: input and other are tensors or numbers -----------------------------------------------

WHERE = {
    "list input": lambda m, t: m.where(t([True, False]), [1.0, 2.0], 0.0),
    "ragged input": lambda m, t: m.where(t([True, False]), [[1.0, 2.0], [3.0]], 0),
    "string input": lambda m, t: m.where(t([True, False]), "bogus", 0.0),
    "list other": lambda m, t: m.where(t([True, False]), 1.0, [1.0, 2.0]),
    "numbers": lambda m, t: m.where(t([True, False]), 1, 0.5),
    "NumPy number input": lambda m, t: m.where(t([True, False]), np.float64(1.5), t(V3[:2])),
}


@_cases(WHERE)
def test_where_operand_types(case, device):
    _same_as_torch(WHERE[case], device, case)
