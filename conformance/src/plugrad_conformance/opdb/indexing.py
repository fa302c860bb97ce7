"""Entries for ``plugrad.ops.indexing``: ``x[key]``, ``x[key] = v``, gather/scatter,
take/put, index_put/index_add/index_select, masks and nonzero.

Index arrays repeat values on purpose wherever the op allows it (the gradient
must accumulate); ops whose duplicates have no defined winner (scatter, put and
index_put without accumulation, setitem) get distinct targets.
"""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, TO_INT64, Arr, ErrorInput, OpInfo, Sample
from .common import TIES

FAMILY = "plugrad.ops.indexing"


def _i(name, ref, sample, **kw):
    kw.setdefault("dtypes", ALL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _np_key(key):
    if isinstance(key, tuple):
        return tuple(_np_key(k) for k in key)
    return key.value if isinstance(key, Arr) else key


# ---- keys ------------------------------------------------------------------------------------

def _basic_item(g, n):
    kind = g.integers(0, 2)
    if kind == 0 and n > 0:
        return g.integers(-n, n - 1)
    if kind == 1:
        return slice(g.choice([None, 0, 1, -2]), g.choice([None, n, -1, 2]), g.choice([None, 1, 2]))
    return None


def _key(g, shape, unique=False):
    """A key mixing basic and advanced items (int64 tensors, lists, bool masks)."""
    variant = g.integers(0, 5)
    nd = len(shape)
    if variant == 0 or nd == 0:        # basic only
        items, d = [], 0
        while d < nd and g.integers(0, 2):
            item = _basic_item(g, shape[d])
            items.append(item)
            d += item is not None
        if g.boolean():
            items.insert(g.integers(0, len(items)), Ellipsis)
        return tuple(items) if len(items) != 1 else items[0]
    if variant == 1:                   # one int64 tensor (repeats and negatives)
        return g.index((g.integers(0, 4),), shape[0], unique=unique)
    if variant == 2:                   # a bool mask over the leading dims
        k = g.integers(1, nd)
        return g.mask(shape[:k])
    if variant == 3 and nd >= 2:       # adjacent advanced indices after a slice, or separated ones
        idx_shape = (g.integers(1, 3),)
        if nd >= 3 and g.boolean():
            return (g.index(idx_shape, shape[0], unique=unique), slice(None), g.index(idx_shape, shape[2],
                                                                                   unique=unique))
        return (slice(None), g.index(idx_shape, shape[1], unique=unique))
    n = shape[0]
    count = g.integers(1, 3)
    g.assume(n > 0 and (not unique or count <= n))
    values = []
    while len(values) < count:
        v = g.integers(-n, n - 1)
        if not unique or v % n not in [u % n for u in values]:
            values.append(v)
    return values


def _getitem_sample(g):
    x = g.array(g.shape(min_ndim=1))
    return Sample(x, _key(g, x.shape))


def _getitem_ref(x, key):
    return np.array(x[_np_key(key)])


def _setitem_call(x, key, value):
    from plugrad.ops.indexing import setitem
    y = x.clone()
    setitem(y, key, value)
    return y


def _setitem_sample(g):
    x = g.array(g.shape(min_ndim=1))
    key = _key(g, x.shape, unique=True)
    target = np.array(x[_np_key(key)]).shape
    if g.boolean():
        return Sample(x, key, g.scalar())
    lead = g.integers(0, len(target))
    vshape = tuple(1 if g.integers(0, 2) == 0 else n for n in target[lead:])
    return Sample(x, key, g.array(vshape))


def _setitem_ref(x, key, value):
    y = x.copy()
    y[_np_key(key)] = value
    return y


# ---- dim-wise gather / scatter ----------------------------------------------------------------

def _dim_index(g, shape, dim, unique, full=False):
    """An index for gather/scatter along ``dim``: same ndim, no larger than ``shape``
    in the other dims; ``unique`` gives distinct targets within each fiber."""
    ishape = tuple(n if (full or d == dim) else g.integers(1 if n else 0, n) for d, n in enumerate(shape))
    if not unique:
        length = g.integers(1 if shape[dim] else 0, shape[dim] + 1) if shape[dim] else 0
        ishape = ishape[:dim] + (length,) + ishape[dim + 1:]
        return g.index(ishape, shape[dim], negative=False)
    length = g.integers(0, shape[dim])
    ishape = ishape[:dim] + (length,) + ishape[dim + 1:]
    idx = np.zeros(ishape, dtype=np.int64)
    for pos in np.ndindex(*[n for d, n in enumerate(ishape) if d != dim]):
        picks = []
        while len(picks) < length:
            v = g.integers(0, shape[dim] - 1)
            if v not in picks:
                picks.append(v)
        sl = pos[:dim] + (slice(None),) + pos[dim:]
        idx[sl] = picks
    return Arr(idx, "int64")


def _gather_sample(g):
    x = g.array(g.shape(min_ndim=1, min_size=1))
    d = g.integers(0, x.ndim - 1)
    return Sample(x, d - x.ndim if g.boolean() else d, _dim_index(g, x.shape, d, False))


def _gather_ref(x, dim, index):
    dim %= x.ndim
    out = np.zeros(index.shape, dtype=x.dtype)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def _scatter_sample(unique, value_ok=True):
    def sample(g):
        x = g.array(g.shape(min_ndim=1, min_size=1))
        d = g.integers(0, x.ndim - 1)
        idx = _dim_index(g, x.shape, d, unique)
        if value_ok and g.purpose == "forward" and g.integers(0, 3) == 0:
            return Sample(x, d, idx, g.scalar())
        return Sample(x, d, idx, g.array(idx.shape))
    return sample


def _scatter_ref(accumulate):
    def ref(x, dim, index, src=None, value=None):
        src = value if src is None else src
        dim %= x.ndim
        y = x.copy()
        for pos in np.ndindex(*index.shape):
            tgt = list(pos)
            tgt[dim] = index[pos]
            v = src[pos] if isinstance(src, np.ndarray) else src
            if accumulate:
                y[tuple(tgt)] += v
            else:
                y[tuple(tgt)] = v
        return y
    return ref


def _index_select_sample(g):
    x = g.array(g.shape(min_ndim=1, min_size=1))
    d = g.dim(x.ndim)
    return Sample(x, d, g.index((g.integers(0, 4),), x.shape[d], negative=False))


def _index_add_sample(g):
    x = g.array(g.shape(min_ndim=1, min_size=1))
    d = g.dim(x.ndim)
    idx = g.index((g.integers(0, 4),), x.shape[d], negative=False)
    src_shape = x.shape[:d % x.ndim] + idx.shape + x.shape[d % x.ndim + 1:]
    s = Sample(x, d, idx, g.array(src_shape))
    if g.purpose == "forward" and g.boolean():
        s.kwargs["alpha"] = g.choice([2, -1]) if g.kind != "bool" else 1
    return s


def _index_add_ref(x, dim, index, source, alpha=1):
    dim %= x.ndim
    y = x.copy()
    for j, i in enumerate(index):
        sl = (slice(None),) * dim + (i,)
        y[sl] = y[sl] + alpha * np.take(source, j, axis=dim)
    return y


# ---- flat take / put / index_put -------------------------------------------------------------------

def _take_sample(g):
    x = g.array(g.shape(min_size=1))
    return Sample(x, g.index(g.shape(max_ndim=2), x.size))


def _put_sample(g):
    x = g.array(g.shape(min_size=1))
    accumulate = g.boolean()
    idx = g.index((g.integers(0, 4),), x.size, unique=not accumulate)
    s = Sample(x, idx, g.array(idx.shape))
    if accumulate or g.boolean():
        s.kwargs["accumulate"] = accumulate
    return s


def _put_ref(x, index, source, accumulate=False):
    y = x.copy().reshape(-1)
    if accumulate:
        np.add.at(y, index, source)
    else:
        y[index] = source
    return y.reshape(x.shape)


def _index_put_sample(g):
    x = g.array(g.shape(min_ndim=1, min_size=1))
    accumulate = g.boolean()
    k = g.integers(1, min(2, x.ndim))
    count = g.integers(0, 3)
    if accumulate:
        idx = tuple(g.index((count,), x.shape[d]) for d in range(k))
    else:
        # distinct positions: distinct values in the first index
        idx = (g.index((count,), x.shape[0], unique=True),) + tuple(g.index((count,), x.shape[d])
                                                                    for d in range(1, k))
    target = (count,) + x.shape[k:]
    s = Sample(x, idx, g.array(target if g.boolean() else target[1:] or ()))
    if accumulate or g.boolean():
        s.kwargs["accumulate"] = accumulate
    return s


def _index_put_ref(x, indices, values, accumulate=False):
    y = x.copy()
    key = tuple(indices)
    if accumulate:
        np.add.at(y, key, np.broadcast_to(values, y[key].shape))
    else:
        y[key] = values
    return y


# ---- masks / nonzero -------------------------------------------------------------------------------

def _masked_fill_sample(g):
    x = g.array(g.shape())
    lead = g.integers(0, x.ndim)
    mshape = tuple(1 if g.integers(0, 3) == 0 else n for n in x.shape[lead:])
    return Sample(x, g.mask(mshape), g.scalar())


def _triangle_sample(g):
    """A matrix or a batch of them, with a diagonal from below to above the main one."""
    s = Sample(g.array(g.shape(min_ndim=2, max_ndim=3)))
    if g.boolean():
        s.kwargs["diagonal"] = g.integers(-3, 3)
    return s


def _masked_select_sample(g):
    sx, sm = g.shapes(2)
    return Sample(g.array(sx), g.mask(sm))


def _masked_select_ref(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def _nonzero_sample(g):
    x = g.array(g.shape(), TIES)
    return Sample(x, as_tuple=True) if g.boolean() else Sample(x)


def _nonzero_ref(x, as_tuple=False):
    if as_tuple:
        if x.ndim == 0:
            return (np.zeros(int(x != 0), dtype=np.int64),)
        return tuple(i.astype(np.int64) for i in np.nonzero(x))
    return np.argwhere(x).astype(np.int64)


ENTRIES = [
    _i("getitem", _getitem_ref, _getitem_sample, operator=lambda x, key: x[key],
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 2), IndexError, "index 2 of a size-2 dim"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), (0, 0, 0)), IndexError, "three indices for a 2-d tensor"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.array([0, 2]), "int64")), IndexError,
                    "an index tensor with an out-of-range value"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.array([0.0]), "float32")), IndexError,
                    "a float index tensor"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), [[0, 1], [1, 0], [0]]), IndexError,
                    "a list of three lists (three indices) for a 2-d tensor")]),
    _i("setitem", _setitem_ref, _setitem_sample, call=_setitem_call, method=False, inplace=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 5, 1.0), IndexError, "index 5 of a size-2 dim"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), 0, g.array((4,))), RuntimeError,
                    "a value of shape [4] for a row of 3"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), [0, 1], Arr(np.ones(3), "float64")), RuntimeError,
                    "a float64 value assigned through a list index of a float32 tensor"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), [0, "a"], 1.0), TypeError,
                    "a string in a list key (PyTorch reads the list as a tuple and the string as an index)")]),
    _i("index_select", lambda x, dim, index: np.take(x, index, axis=dim), _index_select_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 0, Arr(np.array([[0]]), "int64")), IndexError,
                    "a 2-d index"),
               ErrorInput(lambda g: Sample(g.array((3,)), 0, Arr(np.array([-1]), "int64")), IndexError,
                    "a negative index"),
               ErrorInput(lambda g: Sample(g.array(()), 0, Arr(np.array([0, 0]), "int64")), RuntimeError,
                    "two indices into a 0-d input")]),
    _i("gather", _gather_ref, _gather_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 1, Arr(np.array([[3]]), "int64")), RuntimeError,
                    "an index past the end of the dim"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), 1, Arr(np.array([0]), "int64")), RuntimeError,
                    "an index of another number of dims"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), 1, Arr(np.array(0), "int64")), RuntimeError,
                    "a 0-d index (it counts as 1-d) for a 2-d input")]),
    _i("scatter", _scatter_ref(False), _scatter_sample(True),
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0, Arr(np.array([0]), "int64"), None), TypeError,
                    "None to write"),
               ErrorInput(lambda g: Sample(g.array((3,)), 0, Arr(np.array([0, 1]), "int64"), g.array(())),
                    RuntimeError, "a 0-d src (one element) for two indices")]),
    _i("scatter_add", _scatter_ref(True), _scatter_sample(False, value_ok=False)),
    _i("take", lambda x, index: x.reshape(-1)[index], _take_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.array([6]), "int64")), IndexError,
                    "flat index 6 of 6 elements")]),
    _i("put", _put_ref, _put_sample),
    _i("index_put", _index_put_ref, _index_put_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2)), (Arr(np.array(5), "int64"),), g.array((0, 2))),
                    RuntimeError, "a value of shape [0, 2] for a row of 2 (checked before the index 5, past the end)"),
               ErrorInput(lambda g: Sample(g.array((2, 0, 3)), (Arr(np.array([0]), "int64"),
                                                                Arr(np.array([7]), "int64")), g.array(())),
                    IndexError, "an index into a size-0 dim")]),
    _i("index_add", _index_add_ref, _index_add_sample, dtypes=ALL - {"bool"},
       errors=[ErrorInput(lambda g: Sample(g.array((3,)), 0, Arr(np.array([[0]]), "int64"), g.array((1,))),
                    IndexError, "a 2-d index"),
               ErrorInput(lambda g: Sample(g.array((3, 2)), 0, Arr(np.array([0]), "int64"), g.array((2, 2))),
                    RuntimeError, "two source slices for one index"),
               ErrorInput(lambda g: Sample(g.array(()), 0, Arr(np.array([0]), "int64"), g.array((1,))),
                    RuntimeError, "a 1-d source for a 0-d input"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), 1, Arr(np.array([0, 1]), "int64"), g.array(())),
                    RuntimeError, "a 0-d source (it names dim 0 only) added along dim 1, with two indices")]),
    _i("masked_fill", lambda x, mask, value: np.where(mask, value, x), _masked_fill_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), Arr(np.ones((2, 3), dtype=np.int64), "int64"), 0.0),
                    RuntimeError, "an int64 mask"),
               ErrorInput(lambda g: Sample(g.array((3,)), Arr(np.ones(2, dtype=bool), "bool"), 0.0),
                    RuntimeError, "a mask that does not broadcast with the input")]),
    _i("masked_select", _masked_select_ref, _masked_select_sample, broadcasts=True),
    _i("nonzero", _nonzero_ref, _nonzero_sample, result_dtype=TO_INT64, differentiable=False),
    _i("tril", lambda x, diagonal=0: np.tril(x, diagonal), _triangle_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((3,))), RuntimeError, "a 1-d input")]),
    _i("triu", lambda x, diagonal=0: np.triu(x, diagonal), _triangle_sample,
       errors=[ErrorInput(lambda g: Sample(g.array(())), RuntimeError, "a 0-d input")]),
]

__all__ = ["ENTRIES"]
