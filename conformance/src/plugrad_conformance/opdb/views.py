"""Entries for ``plugrad.ops.views``: reshapes, permutations, slices, splits,
expansion, ``as_strided`` and the copying shape ops (clone, flip, repeat, tile)."""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.views"


def _v(name, ref, sample, view=True, **kw):
    kw.setdefault("dtypes", ALL)
    # in-place view ops (t_, squeeze_, ...) change metadata, not values: the view check
    # covers what they share, the in-place check (about written values) does not apply
    kw.setdefault("inplace", False)
    return OpInfo(name, FAMILY, ref, sample, view=view, **kw)


def _x(g, **shape_kwargs):
    return g.array(g.shape(**shape_kwargs))


def _regroup(g, shape):
    """Another shape with the same number of elements (one dim sometimes -1)."""
    n = int(np.prod(shape)) if shape else 1
    if n == 0:
        return tuple(reversed(shape)) if shape else (0,)
    dims, rest = [], n
    while rest > 1 and len(dims) < 3:
        divisors = [d for d in range(2, rest + 1) if rest % d == 0]
        d = g.choice(divisors)
        dims.append(d)
        rest //= d
    if rest > 1:
        dims.append(rest)
    for _ in range(g.integers(0, 1)):
        dims.insert(g.integers(0, len(dims)), 1)
    if dims and g.boolean():
        dims[g.integers(0, len(dims) - 1)] = -1
    return tuple(dims)


def _shape_call(g, x, target):
    """``f(x, *target)`` or ``f(x, target)``: PyTorch accepts both."""
    return Sample(x, *target) if target and g.boolean() else Sample(x, target)


def _view_sample(g):
    x = _x(g)
    return _shape_call(g, x, _regroup(g, x.shape))


def _reshape_ref(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], tuple):
        shape = shape[0]
    return np.reshape(x, shape)


def _view_errors():
    return [ErrorInput(lambda g: Sample(g.array((2, 3)), 4), RuntimeError, "6 elements viewed as 4"),
            ErrorInput(lambda g: Sample(g.array((2, 3)), -1, -1), RuntimeError, "two inferred dims")]


def _perm_sample(g):
    x = _x(g)
    perm = list(range(x.ndim))
    for i in range(len(perm) - 1, 0, -1):
        j = g.integers(0, i)
        perm[i], perm[j] = perm[j], perm[i]
    perm = [p - x.ndim if g.boolean() else p for p in perm]
    return _shape_call(g, x, tuple(perm))


def _permute_ref(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], tuple):
        dims = dims[0]
    return np.transpose(x, [d % x.ndim for d in dims]) if x.ndim else x


def _transpose_sample(g):
    x = _x(g)
    return Sample(x, g.dim(x.ndim), g.dim(x.ndim))


def _transpose_ref(x, d0, d1):
    return np.swapaxes(x, d0, d1) if x.ndim else x


def _squeeze_sample(g):
    shape = list(g.shape())
    for i in range(len(shape)):
        if g.boolean():
            shape[i] = 1
    x = g.array(tuple(shape))
    variant = g.integers(0, 2)
    if variant == 0:
        return Sample(x)
    if variant == 1 or x.ndim < 2:
        return Sample(x, g.dim(x.ndim))
    return Sample(x, tuple(sorted({g.dim(x.ndim) % x.ndim for _ in range(2)})))


def _squeeze_ref(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    if x.ndim == 0:
        return x
    dims = dim if isinstance(dim, tuple) else (dim,)
    drop = tuple(d % x.ndim for d in dims if x.shape[d % x.ndim] == 1)
    return np.squeeze(x, axis=drop) if drop else x


def _unsqueeze_sample(g):
    x = _x(g, max_ndim=2)
    d = g.integers(-x.ndim - 1, x.ndim)
    return Sample(x, d)


def _unsqueeze_ref(x, dim):
    return np.expand_dims(x, dim if dim >= 0 else dim + x.ndim + 1)


def _expand_target(g, shape):
    sizes = [n if n != 1 else g.choice([1, 2, 3, 0]) for n in shape]
    sizes = [-1 if g.integers(0, 3) == 0 else s for s in sizes]
    lead = [g.integers(1, 3) for _ in range(g.integers(0, 1))]
    return tuple(lead + sizes)


def _with_ones(g, **kw):
    shape = list(g.shape(**kw))
    for i in range(len(shape)):
        if g.boolean():
            shape[i] = 1
    return g.array(tuple(shape))


def _expand_sample(g):
    x = _with_ones(g)
    return _shape_call(g, x, _expand_target(g, x.shape))


def _resolve(shape, sizes):
    lead = len(sizes) - len(shape)
    return tuple(s if s != -1 else shape[i - lead] for i, s in enumerate(sizes))


def _expand_ref(x, *sizes):
    if len(sizes) == 1 and isinstance(sizes[0], tuple):
        sizes = sizes[0]
    return np.broadcast_to(x, _resolve(x.shape, sizes))


def _expand_as_sample(g):
    x = _with_ones(g)
    target = _resolve(x.shape, _expand_target(g, x.shape))
    return Sample(x, g.array(target), nograd=(1,))


def _flatten_sample(g):
    x = _x(g)
    if x.ndim == 0 or g.integers(0, 3) == 0:
        return Sample(x)
    s = g.integers(0, x.ndim - 1)
    e = g.integers(s, x.ndim - 1)
    return Sample(x, s - x.ndim if g.boolean() else s, e - x.ndim if g.boolean() else e)


def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def _unflatten_sample(g):
    x = _x(g, min_ndim=1, min_size=1)
    d = g.integers(0, x.ndim - 1)
    n = x.shape[d]
    divisors = [k for k in range(1, n + 1) if n % k == 0]
    a = g.choice(divisors)
    sizes = (a, n // a)
    if g.boolean():
        sizes = (a, -1)
    return Sample(x, d - x.ndim if g.boolean() else d, sizes)


def _unflatten_ref(x, dim, sizes):
    d = dim % x.ndim
    sizes = tuple(x.shape[d] // int(np.prod([s for s in sizes if s != -1])) if s == -1 else s for s in sizes)
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])


def _narrow_sample(g):
    x = _x(g, min_ndim=1)
    d = g.dim(x.ndim)
    n = x.shape[d]
    start = g.integers(0, n)
    length = g.integers(0, n - start)
    if start < n and g.boolean():
        start -= n
    return Sample(x, d, start, length)


def _narrow_ref(x, dim, start, length):
    start = start % x.shape[dim] if start < 0 else start
    return np.take(x, np.arange(start, start + length), axis=dim)


def _select_sample(g):
    x = _x(g, min_ndim=1, min_size=1)
    d = g.dim(x.ndim)
    n = x.shape[d]
    return Sample(x, d, g.integers(-n, n - 1))


def _split_sample(kind):
    def sample(g):
        x = _x(g, min_ndim=1)
        d = g.dim(x.ndim)
        n = x.shape[d]
        if kind == "chunk":
            return Sample(x, g.integers(1, 4), d)
        if kind == "unbind":
            return Sample(x, d)
        if g.boolean() or n == 0:
            return Sample(x, g.integers(1, max(1, n)), d)
        cuts = sorted(g.integers(0, n) for _ in range(g.integers(0, 2)))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        return Sample(x, sizes, d)
    return sample


def _split_ref(x, split_size_or_sections, dim=0):
    n = x.shape[dim]
    if isinstance(split_size_or_sections, list):
        sizes = split_size_or_sections
    else:
        k = split_size_or_sections
        sizes = [k] * (n // k) + ([n % k] if n % k else []) or [0]
    out, start = [], 0
    for s in sizes:
        out.append(np.take(x, np.arange(start, start + s), axis=dim))
        start += s
    return tuple(out)


def _chunk_ref(x, chunks, dim=0):
    n = x.shape[dim]
    if n == 0:  # PyTorch: an empty dim gives `chunks` empty pieces
        return tuple(np.take(x, np.arange(0), axis=dim) for _ in range(chunks))
    return _split_ref(x, max(1, -(-n // chunks)), dim)


def _unbind_ref(x, dim=0):
    return tuple(np.take(x, i, axis=dim) for i in range(x.shape[dim]))


def _as_strided_sample(g):
    n = g.integers(1, g.max_numel)
    x = g.array((n,)) if g.boolean() else g.array((1, n))
    offset = g.integers(0, n - 1)
    room = n - offset
    w = g.integers(1, room)
    step = g.integers(0, 2)
    k = 1 + ((room - w) // step if step else g.integers(0, 2))
    size, stride = ((k, w), (step, 1)) if g.boolean() else ((w,), (1,))
    s = Sample(x, size, stride)
    if offset or g.boolean():
        s.kwargs["storage_offset"] = offset
    return s


def _as_strided_ref(x, size, stride, storage_offset=0):
    flat = np.ascontiguousarray(x).reshape(-1)[storage_offset:]
    return np.lib.stride_tricks.as_strided(flat, size, [s * flat.itemsize for s in stride]).copy()


def _movedim_sample(g):
    x = _x(g, min_ndim=1)
    if g.boolean() or x.ndim < 2:
        return Sample(x, g.dim(x.ndim), g.dim(x.ndim))
    src = [0, x.ndim - 1]
    dst = [g.integers(0, x.ndim - 1)]
    dst.append(g.choice([d for d in range(x.ndim) if d != dst[0]]))
    return Sample(x, src, dst)


def _movedim_ref(x, source, destination):
    return np.moveaxis(x, source, destination)


def _view_as_sample(g):
    x = _x(g)
    target = _regroup(g, x.shape)
    if -1 in target:
        known = int(np.prod([n for n in target if n != -1]))
        target = tuple(x.size // known if n == -1 else n for n in target)
    return Sample(x, g.array(target), nograd=(1,))


def _diagonal_sample(g):
    x = _x(g, min_ndim=2)
    d1 = g.integers(0, x.ndim - 1)
    d2 = g.choice([d for d in range(x.ndim) if d != d1])
    return Sample(x, g.integers(-2, 2), d1 - x.ndim if g.boolean() else d1, d2)


def _flip_sample(g):
    x = _x(g, min_ndim=1)
    dims = sorted({g.dim(x.ndim) % x.ndim for _ in range(g.integers(1, 2))})
    return Sample(x, dims if g.boolean() else dims[0])


def _flip_ref(x, dims):
    return np.flip(x, axis=tuple(dims) if isinstance(dims, list) else dims).copy()


def _repeat_sample(g):
    x = _x(g, max_ndim=2, max_numel=6)
    reps = tuple(g.integers(0, 2) for _ in range(x.ndim + g.integers(0, 1)))
    return _shape_call(g, x, reps)


def _repeat_ref(x, *reps):
    if len(reps) == 1 and isinstance(reps[0], tuple):
        reps = reps[0]
    return np.tile(x, reps)


def _tile_sample(g):
    x = _x(g, max_ndim=2, max_numel=6)
    reps = tuple(g.integers(0, 2) for _ in range(g.integers(0, x.ndim + 1)))
    return Sample(x, reps)


def _slice_dim_sample(g):
    x = _x(g, min_ndim=1)
    d = g.integers(0, x.ndim - 1)
    n = x.shape[d]
    start, stop = g.integers(-n - 1, n + 1), g.integers(-n - 1, n + 1)
    return Sample(x, d, start, stop, g.integers(1, 3))


def _slice_dim_ref(x, dim, start, stop, step=1):
    return x[(slice(None),) * dim + (slice(start, stop, step),)]


ENTRIES = [
    _v("view", _reshape_ref, _view_sample, layouts=False, errors=_view_errors()),
    _v("reshape", _reshape_ref, _view_sample, errors=_view_errors()),
    _v("view_as", lambda x, other: x.reshape(other.shape), _view_as_sample, layouts=False),
    _v("reshape_as", lambda x, other: x.reshape(other.shape), _view_as_sample),
    _v("permute", _permute_ref, _perm_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (0, 0)), RuntimeError, "a repeated dim"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), (0,)), RuntimeError, "too few dims")]),
    _v("transpose", _transpose_ref, _transpose_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 0, 2), IndexError, "dim 2 of a 2-d tensor")]),
    _v("t", lambda x: x.T, lambda g: Sample(_x(g, max_ndim=2)),
       errors=[ErrorInput(lambda g: Sample(g.array((2, 2, 2))), RuntimeError, "a 3-d tensor")]),
    _v("squeeze", _squeeze_ref, _squeeze_sample),
    _v("unsqueeze", _unsqueeze_ref, _unsqueeze_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 3), IndexError, "dim 3 of a 2-d tensor")]),
    _v("expand", _expand_ref, _expand_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (4, 3)), RuntimeError, "size 2 expanded to 4"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), (3,)), RuntimeError, "fewer sizes than dims")]),
    _v("expand_as", lambda x, other: np.broadcast_to(x, other.shape), _expand_as_sample),
    _v("flatten", _flatten_ref, _flatten_sample,
       errors=[ErrorInput(lambda g: Sample(g.array(()), 0, 1), IndexError, "dim 1 of a 0-d tensor")]),
    _v("unflatten", _unflatten_ref, _unflatten_sample,
       errors=[ErrorInput(lambda g: Sample(g.array(()), 1, (1,)), IndexError, "dim 1 of a 0-d tensor")]),
    _v("narrow", _narrow_ref, _narrow_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 1, 2, 2), RuntimeError, "start + length past the end")]),
    _v("select", lambda x, dim, index: np.take(x, index, axis=dim), _select_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 1, 3), IndexError, "index 3 of a size-3 dim")]),
    _v("slice_dim", _slice_dim_ref, _slice_dim_sample),
    _v("chunk", _chunk_ref, _split_sample("chunk"),
       errors=[ErrorInput(lambda g: Sample(g.array((4,)), 0), RuntimeError, "zero chunks"),
               ErrorInput(lambda g: Sample(g.array((4,)), 1.5), TypeError, "a float count")]),
    _v("split", _split_ref, _split_sample("split"),
       errors=[ErrorInput(lambda g: Sample(g.array((4,)), [1, 2]), RuntimeError, "sizes that do not sum to 4"),
               ErrorInput(lambda g: Sample(g.array((4,)), [-1, 5]), RuntimeError, "a negative size"),
               ErrorInput(lambda g: Sample(g.array((4,)), [1.5, 2.5]), TypeError, "float sizes")]),
    _v("unbind", _unbind_ref, _split_sample("unbind")),
    _v("contiguous", lambda x: x, lambda g: Sample(_x(g))),
    _v("as_strided", _as_strided_ref, _as_strided_sample, layouts=False,
       errors=[ErrorInput(lambda g: Sample(g.array((4,)), (2, 2), (1,)), RuntimeError,
                          "sizes and strides of different lengths")]),
    _v("movedim", _movedim_ref, _movedim_sample),
    _v("diagonal", lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2), _diagonal_sample,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), 0, 1, 1), RuntimeError, "the same dim twice")]),
    _v("clone", np.copy, lambda g: Sample(_x(g)), view=False),
    _v("flip", _flip_ref, _flip_sample, view=False),
    _v("repeat", _repeat_ref, _repeat_sample, view=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (2,)), RuntimeError, "fewer repeats than dims"),
               ErrorInput(lambda g: Sample(g.array((2, 3)), (-1, 1)), RuntimeError, "a negative count")]),
    _v("tile", lambda x, dims: np.tile(x, dims), _tile_sample, view=False),
]

__all__ = ["ENTRIES"]
