"""Shape ops. Views share storage with their input and cost no kernel call; the core
computes their layout. ``reshape``/``contiguous`` copy only when no view exists."""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..backend import OutOfMemoryError
from ..creation import arange, full, zeros
from ..dtypes import dtype, int64
from ..layout import check_size, contiguous_strides, is_contiguous, normalize_dim, numel, view_strides
from ..optable import ops
from ..tensor import Tensor, make, make_view
from .checks import check_int, check_tensor
from .dispatch import ALL_DIMS, check_inplace_target
from .declare import declare

__all__ = ["view", "reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "squeeze", "unsqueeze",
           "expand", "expand_as", "flatten", "unflatten", "narrow", "select", "chunk", "split", "unbind",
           "contiguous", "as_strided", "movedim", "moveaxis", "view_as", "reshape_as", "diagonal",
           "clone", "flip", "repeat", "tile", "slice_dim", "strided_index"]


def _shape_arg(args, fname):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for n in args:
        if isinstance(n, bool) or not hasattr(n, "__index__"):
            raise TypeError(f"{fname}(): argument 'size' must be a sequence of ints, but got "
                            f"{type(n).__name__}")
        out.append(n.__index__())
    return tuple(out)


def _int_tuple(seq, fname, argname):
    """``seq`` as a tuple of ints; PyTorch's TypeError for an element of another type."""
    out = []
    for pos, n in enumerate(seq, 1):
        if type(n) is not int:
            if isinstance(n, bool) or not hasattr(n, "__index__"):
                raise TypeError(f"{fname}(): argument '{argname}' failed to unpack the object at pos {pos} with "
                                f"error \"type must be tuple of ints,but got {type(n).__name__}\"")
            n = n.__index__()
        out.append(n)
    return tuple(out)


def _infer_size(shape, n, fname):
    """Resolve one -1 in ``shape`` so that it holds ``n`` elements."""
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = numel(s for s in shape if s != -1)
    if neg:
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of {n} elements into shape {list(shape)} because the "
                               f"unspecified dimension size -1 can be any value and is ambiguous")
        if n % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
        shape = tuple(n // known if s == -1 else s for s in shape)
    elif known != n:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
    return shape


def _view_of(x, shape, strides, offset, node_cls=None, /, **attrs):
    """A view of ``x`` with its backward node recorded when needed."""
    v = make_view(x, shape, strides, offset)
    if x._requires_grad and STATE.enabled and node_cls is not None:
        node = node_cls()
        for k, val in attrs.items():
            setattr(node, k, val)
        record(node, (x,), v)
    return v


# ---- view / reshape ---------------------------------------------------------------

class ViewBackward0(Node):
    """d view(a, shape) = g viewed as a's shape"""
    __slots__ = ("shape",)

    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    """d reshape(a) (when it had to copy) = g reshaped back"""


@declare(public=False, method=True)
def view(input, *shape) -> Tensor:
    """The same data with another shape (one dim may be -1). Needs a compatible layout:
    use ``reshape`` when the tensor is not contiguous enough."""
    if len(shape) == 1 and isinstance(shape[0], dtype):
        return _view_dtype(input, shape[0])
    shape = _infer_size(_shape_arg(shape, "view"), numel(input._shape), "view")
    strides = view_strides(input._shape, input._strides, shape)
    if strides is None:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride (at least one dimension "
                           f"spans across two contiguous subspaces; shape {list(input._shape)}, strides "
                           f"{list(input._strides)}, requested {list(shape)}). Use .reshape(...) instead.")
    return _view_of(input, shape, strides, input._offset, ViewBackward0, shape=input._shape)


def _view_dtype(input, dtype):
    if dtype is input._dtype:
        return input
    raise RuntimeError(f"view(dtype): reinterpreting {input._dtype!r} as {dtype!r} is not supported; use .to(dtype) "
                       f"to convert the values")


@declare(method=True)
def reshape(input, *shape) -> Tensor:
    """The same data with another shape: a view when possible, else a copy."""
    shape = _infer_size(_shape_arg(shape, "reshape"), numel(input._shape), "reshape")
    strides = view_strides(input._shape, input._strides, shape)
    if strides is not None:
        return _view_of(input, shape, strides, input._offset, ViewBackward0, shape=input._shape)
    c = _copy_contiguous(input)
    r = make(c._backend, c._backend.view(c._a, shape, contiguous_strides(shape), 0), shape, c._dtype)
    r._storage = c._storage
    if STATE.enabled and input._requires_grad:
        node = UnsafeViewBackward0()
        node.shape = input._shape
        record(node, (input,), r)
    return r


@declare(public=False, method=True)
def view_as(input, other) -> Tensor:
    return view(input, check_tensor(other, "view_as", "other")._shape)


@declare(public=False, method=True)
def reshape_as(input, other) -> Tensor:
    return reshape(input, check_tensor(other, "reshape_as", "other")._shape)


@declare(method=True)
def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    nd = len(input._shape)
    s = normalize_dim(start_dim, nd)   # a 0-d tensor takes dims -1 and 0
    e = normalize_dim(end_dim, nd)
    if nd == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._shape[:s] + (numel(input._shape[s:e + 1]),) + input._shape[e + 1:]
    return reshape(input, shape)


@declare(method=True)
def unflatten(input, dim, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes``."""
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten(): argument 'sizes' must be a tuple of ints, not {type(sizes).__name__}")
    d = normalize_dim(dim, len(input._shape))   # a dim out of range is an IndexError, even for a 0-d tensor
    if not input._shape:
        raise RuntimeError("unflatten() cannot be applied to a 0-dim tensor")
    sizes = _infer_size(_int_tuple(sizes, "unflatten", "sizes"), input._shape[d], "unflatten")
    return view(input, input._shape[:d] + sizes + input._shape[d + 1:]) if view_strides(
        input._shape, input._strides, input._shape[:d] + sizes + input._shape[d + 1:]) is not None \
        else reshape(input, input._shape[:d] + sizes + input._shape[d + 1:])


# ---- permutations ------------------------------------------------------------------

class PermuteBackward0(Node):
    """d permute(a, p) = g permuted back"""
    __slots__ = ("inverse",)

    def backward(self, g):
        return (permute(g, self.inverse),)


class TransposeBackward0(Node):
    """d transpose(a, i, j) = g transposed back"""
    __slots__ = ("d0", "d1")

    def backward(self, g):
        return (transpose(g, self.d0, self.d1),)


class TBackward0(Node):
    """d a.t() = g.t()"""

    def backward(self, g):
        return (t(g),)


@declare(method=True)
def permute(input, *dims) -> Tensor:
    """Reorder dims (a view)."""
    dims = _shape_arg(dims, "permute")
    nd = len(input._shape)
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    norm = [normalize_dim(d, nd) for d in dims]
    if len(set(norm)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed (got {list(dims)})")
    shape = tuple(input._shape[d] for d in norm)
    strides = tuple(input._strides[d] for d in norm)
    inverse = [0] * nd
    for i, d in enumerate(norm):
        inverse[d] = i
    return _view_of(input, shape, strides, input._offset, PermuteBackward0, inverse=tuple(inverse))


@declare(method=True, aliases=("swapaxes", "swapdims"), inplace=True, inplace_form="transpose_")
def transpose(input, dim0, dim1) -> Tensor:
    """Swap two dims (a view)."""
    nd = len(input._shape)
    if nd == 0:
        normalize_dim(dim0, 0), normalize_dim(dim1, 0)
        return _view_of(input, (), (), input._offset, TransposeBackward0, d0=0, d1=0)
    d0, d1 = normalize_dim(dim0, nd), normalize_dim(dim1, nd)
    shape, strides = list(input._shape), list(input._strides)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    strides[d0], strides[d1] = strides[d1], strides[d0]
    return _view_of(input, tuple(shape), tuple(strides), input._offset, TransposeBackward0, d0=d0, d1=d1)


swapaxes = swapdims = transpose


@declare(method=True, inplace=True, inplace_form="t_")
def t(input) -> Tensor:
    """Transpose of a matrix (0-d and 1-d tensors come back unchanged)."""
    nd = len(input._shape)
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return _view_of(input, input._shape, input._strides, input._offset, TBackward0)
    return _view_of(input, input._shape[::-1], input._strides[::-1], input._offset, TBackward0)


@declare(method=True, aliases=("moveaxis",))
def movedim(input, source, destination) -> Tensor:
    """Move dims from ``source`` positions to ``destination`` positions."""
    nd = len(input._shape)
    src = [normalize_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [normalize_dim(d, nd) for d in (destination if isinstance(destination, (tuple, list)) else [destination])]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    if nd == 0:  # dim 0 (or -1) of a 0-d tensor names the tensor itself: nothing moves
        return permute(input, ())
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


moveaxis = movedim


# ---- squeeze / unsqueeze / expand -------------------------------------------------------

class SqueezeBackward0(Node):
    """d squeeze(a) = g reshaped to a's shape"""
    __slots__ = ("shape",)

    def backward(self, g):
        return (g.reshape(self.shape),)


class SqueezeBackward1(SqueezeBackward0):
    """d squeeze(a, dim) = g with the dim restored"""


class SqueezeBackward2(SqueezeBackward0):
    """d squeeze(a, dims) = g with the dims restored"""


class UnsqueezeBackward0(Node):
    """d unsqueeze(a, dim) = g squeezed at dim"""
    __slots__ = ("dim",)

    def backward(self, g):
        return (squeeze(g, self.dim),)


@declare(method=True, inplace=True, inplace_form="squeeze_")
def squeeze(input, dim=ALL_DIMS) -> Tensor:
    """Drop size-1 dims (only ``dim`` when given; a dim that is not 1 is left alone)."""
    nd = len(input._shape)
    if dim is ALL_DIMS:
        keep = [i for i, n in enumerate(input._shape) if n != 1]
        node = SqueezeBackward0
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = set()
        for d in dims:
            a = normalize_dim(d, nd) % max(nd, 1)     # a 0-d tensor's dims -1 and 0 are both 0
            if a in drop:
                raise RuntimeError(f"squeeze: dim {a} appears more than once in the list of dims {list(dims)}")
            drop.add(a)
        keep = [i for i, n in enumerate(input._shape) if not (i in drop and n == 1)]
        node = SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1
    shape = tuple(input._shape[i] for i in keep)
    strides = tuple(input._strides[i] for i in keep)
    return _view_of(input, shape, strides, input._offset, node, shape=input._shape)


@declare(method=True, inplace=True, inplace_form="unsqueeze_")
def unsqueeze(input, dim) -> Tensor:
    """Insert a size-1 dim at ``dim``."""
    nd = len(input._shape)
    d = normalize_dim(dim, nd, allow_end=True)
    shape = input._shape[:d] + (1,) + input._shape[d:]
    inner = input._strides[d] * input._shape[d] if d < nd else 1
    strides = input._strides[:d] + (inner,) + input._strides[d:]
    return _view_of(input, shape, strides, input._offset, UnsqueezeBackward0, dim=d)


class ExpandBackward0(Node):
    """d expand(a) = g summed over the broadcast dims (the engine sums to a's shape)"""

    def backward(self, g):
        return (g,)


@declare(public=False, method=True)
def expand(input, *sizes) -> Tensor:
    """A broadcast view: size-1 dims repeat without new memory (-1 keeps a dim)."""
    sizes = _shape_arg(sizes, "expand")
    shape_in, strides_in = input._shape, input._strides
    if sizes == shape_in:
        return _view_of(input, shape_in, strides_in, input._offset, ExpandBackward0)
    lead = len(sizes) - len(shape_in)
    if lead < 0:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape_in)}}}, size=[{', '.join(map(str, sizes))}]): "
                           f"the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape_in)})")
    shape, strides = [], []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the size {s} is not allowed in a leading, non-existing dimension {i}")
            shape.append(s)
            strides.append(0)
            continue
        n, st = shape_in[i - lead], strides_in[i - lead]
        if s < -1:
            raise RuntimeError(f"expand: the expanded size {s} at dim {i} is negative (only -1, to keep a dim, is "
                               f"allowed). Target sizes: {list(sizes)}")
        if s == -1 or s == n:
            shape.append(n)
            strides.append(st)
        elif n == 1:
            shape.append(s)
            strides.append(0)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({n}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shape_in)}")
    check_size(shape, input._dtype.itemsize)
    return _view_of(input, tuple(shape), tuple(strides), input._offset, ExpandBackward0)


def expand_to(input, shape: tuple) -> Tensor:
    """``input.expand(shape)`` for a ``shape`` known to be a broadcast of ``input``'s (a
    reduction's gradient going back to its input's shape): the same view, without the
    argument checks."""
    shape_in = input._shape
    if not shape_in:   # the gradient of a full reduction (a loss): every stride 0
        return _view_of(input, shape, (0,) * len(shape), input._offset, ExpandBackward0)
    lead = len(shape) - len(shape_in)
    strides = (0,) * lead + tuple([st if n == m else 0 for n, m, st in zip(shape_in, shape[lead:], input._strides)])
    return _view_of(input, shape, strides, input._offset, ExpandBackward0)


@declare(public=False, method=True)
def expand_as(input, other) -> Tensor:
    return expand(input, check_tensor(other, "expand_as", "other")._shape)


# ---- in-place view ops: t_, transpose_, squeeze_, unsqueeze_ ---------------------------------

class TBackward1(TBackward0):
    """d a.t_() = g.t()"""


class TransposeBackward1(TransposeBackward0):
    """d a.transpose_(i, j) = g transposed back"""


class SqueezeBackward3(SqueezeBackward0):
    """d a.squeeze_() = g reshaped to a's shape"""


class SqueezeBackward4(SqueezeBackward0):
    """d a.squeeze_(dim) = g with the dim restored"""


class SqueezeBackward5(SqueezeBackward0):
    """d a.squeeze_(dims) = g with the dims restored"""


class UnsqueezeBackward1(UnsqueezeBackward0):
    """d a.unsqueeze_(dim) = g squeezed at dim"""


def _relayout_(self, make_layout, node, fname):
    """Give ``self`` the layout of ``make_layout(self)`` (one of the view ops, run without
    autograd): the data and every other view of it stay as they are. When autograd
    records, ``node`` becomes self's grad_fn, linked to the history self had before."""
    tracked = STATE.enabled and self._requires_grad
    if tracked:
        check_inplace_target(self, True, fname)
    with no_grad():
        v = make_layout(self)
    if tracked:
        record(node, (self,), self)  # edges and input shape are taken before the change
    self._a, self._shape, self._strides, self._offset = v._a, v._shape, v._strides, v._offset
    return self


def t_(input) -> Tensor:
    """Transpose this matrix in place (its layout; the data does not move)."""
    return _relayout_(input, t, TBackward1(), "t_")


def transpose_(input, dim0, dim1) -> Tensor:
    """Swap two dims of this tensor in place."""
    node = TransposeBackward1()
    node.d0, node.d1 = normalize_dim(dim0, max(1, input.dim())), normalize_dim(dim1, max(1, input.dim()))
    return _relayout_(input, lambda x: transpose(x, dim0, dim1), node, "transpose_")


def squeeze_(input, dim=ALL_DIMS) -> Tensor:
    """Drop size-1 dims of this tensor in place (see ``squeeze``)."""
    node = SqueezeBackward3() if dim is ALL_DIMS else (
        SqueezeBackward5() if isinstance(dim, (tuple, list)) else SqueezeBackward4())
    node.shape = input._shape
    return _relayout_(input, lambda x: squeeze(x, dim), node, "squeeze_")


def unsqueeze_(input, dim) -> Tensor:
    """Insert a size-1 dim into this tensor in place."""
    node = UnsqueezeBackward1()
    node.dim = normalize_dim(dim, input.dim(), allow_end=True)
    return _relayout_(input, lambda x: unsqueeze(x, dim), node, "unsqueeze_")


# ---- slicing -------------------------------------------------------------------------------

def _embed(g, in_shape, place):
    """Gradient of a view: zeros of the input's shape with ``g`` copied into the viewed part."""
    z = zeros(in_shape, dtype=g._dtype, device=g.device)
    place(z).copy_(g)
    return z


class SelectBackward0(Node):
    """d a.select(dim, i) = zeros with g placed at index i"""
    __slots__ = ("shape", "dim", "index")

    def backward(self, g):
        return (_embed(g, self.shape, lambda z: select(z, self.dim, self.index)),)


class SliceBackward0(Node):
    """d a[start:stop:step] = zeros with g placed in the slice"""
    __slots__ = ("shape", "dim", "start", "stop", "step")

    def backward(self, g):
        return (_embed(g, self.shape, lambda z: slice_dim(z, self.dim, self.start, self.stop, self.step)),)


@declare(method=True)
def select(input, dim, index) -> Tensor:
    """The slice at ``index`` along ``dim``, without that dim (a view)."""
    nd = len(input._shape)
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, nd)
    n = input._shape[d]
    index = check_int(index, "select", "index")
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    i = index + n if index < 0 else index
    shape = input._shape[:d] + input._shape[d + 1:]
    strides = input._strides[:d] + input._strides[d + 1:]
    return _view_of(input, shape, strides, input._offset + i * input._strides[d], SelectBackward0,
                    shape=input._shape, dim=d, index=i)


def slice_dim(input, dim, start, stop, step=1) -> Tensor:
    """``input[..., start:stop:step, ...]`` along ``dim`` (a view; bounds are clamped)."""
    d = dim
    n = input._shape[d]
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start, stop, _ = slice(start, stop, step).indices(n)
    length = max(0, (stop - start + step - 1) // step)
    shape = input._shape[:d] + (length,) + input._shape[d + 1:]
    strides = input._strides[:d] + (input._strides[d] * step,) + input._strides[d + 1:]
    offset = input._offset + (start * input._strides[d] if length else 0)
    return _view_of(input, shape, strides, offset, SliceBackward0, shape=input._shape, dim=d, start=start,
                    stop=stop, step=step)


@declare(method=True)
def narrow(input, dim, start, length) -> Tensor:
    """``length`` elements of ``dim`` from ``start`` (a view)."""
    nd = len(input._shape)
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, nd)
    n = input._shape[d]
    start = start.__index__() if isinstance(start, Tensor) else check_int(start, "narrow", "start")
    length = check_int(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return slice_dim(input, d, start, start + length, 1)


class SplitBackward0(Node):
    """d split(a) = the gradients of the pieces put back side by side (zeros for unused pieces)"""
    __slots__ = ("shape", "dim", "sizes", "n_outputs", "_dtype", "_device")

    def __init__(self):
        super().__init__()

    def backward(self, *grads):
        parts = []
        for g, n in zip(grads, self.sizes):
            if g is None:
                shape = list(self.shape)
                shape[self.dim] = n
                g = zeros(shape, dtype=self._dtype, device=self._device)
            parts.append(g)
        return (ops.cat(parts, self.dim),)


class SplitWithSizesBackward0(SplitBackward0):
    """d split(a, sizes) = the gradients of the pieces put back side by side"""
    __slots__ = ()


class UnbindBackward0(SplitBackward0):
    """d unbind(a) = the gradients stacked back"""

    def backward(self, *grads):
        parts = [g if g is not None else zeros([n for i, n in enumerate(self.shape) if i != self.dim],
                                               dtype=self._dtype, device=self._device) for g in grads]
        return (ops.stack(parts, self.dim),)


def _split_views(input, d, sizes, node_cls):
    outs = []
    start = 0
    tracked = STATE.enabled and input._requires_grad
    for n in sizes:
        shape = input._shape[:d] + (n,) + input._shape[d + 1:]
        offset = input._offset + (start * input._strides[d] if n else 0)
        outs.append(make_view(input, shape, input._strides, offset))
        start += n
    if tracked:
        node = node_cls()
        node.n_outputs = len(outs)
        node.shape, node.dim, node.sizes = input._shape, d, tuple(sizes)
        node._dtype, node._device = input._dtype, input.device
        record(node, (input,), tuple(outs))
    return tuple(outs)


@declare(method=True)
def split(input, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or pieces of the
    given sizes; views."""
    nd = len(input._shape)
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, nd)
    n = input._shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        # a bool counts as an int here, as in PyTorch's parser for a list of sizes
        sizes = [int(k) if k.__class__ is bool else k for k in split_size_or_sections]
        sizes = list(_int_tuple(sizes, "split_with_sizes", "split_sizes"))
        if any(k < 0 for k in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    else:
        k = split_size_or_sections
        if k.__class__ is not int:
            if isinstance(k, (bool, float, str)) or not hasattr(k, "__index__"):
                raise TypeError(f"split(): argument 'split_size' must be an int or a sequence of ints, not "
                                f"{type(k).__name__}")
            k = k.__index__()
        if k < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={k}")
        if k == 0 and n > 0:
            raise RuntimeError(f"split: split_size 0 is only allowed for an empty dim, but dim {d} has size {n}")
        sizes = [k] * (n // k) + ([n % k] if n % k else []) if k > 0 else [0]
        if not sizes:
            sizes = [0]
    node_cls = SplitWithSizesBackward0 if isinstance(split_size_or_sections, (list, tuple)) else SplitBackward0
    return _split_views(input, d, sizes, node_cls)


@declare(method=True)
def chunk(input, chunks, dim=0):
    """``chunks`` nearly equal pieces along ``dim`` (views)."""
    if chunks.__class__ is not int:
        chunks = check_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    nd = len(input._shape)
    if nd == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, nd)
    n = input._shape[d]
    if n == 0:  # an empty dim gives ``chunks`` empty pieces
        try:
            sizes = [0] * chunks
        except MemoryError:
            raise OutOfMemoryError(f"chunk: cannot hold {chunks} empty pieces of a size-0 dim: not enough "
                                   f"memory") from None
        return _split_views(input, d, sizes, SplitBackward0)
    size = -(-n // chunks)
    return split(input, size, dim)


@declare(method=True)
def unbind(input, dim=0):
    """All slices along ``dim``, each without that dim (views)."""
    nd = len(input._shape)
    d = normalize_dim(dim, nd)
    outs = []
    tracked = STATE.enabled and input._requires_grad
    shape = input._shape[:d] + input._shape[d + 1:]
    strides = input._strides[:d] + input._strides[d + 1:]
    for i in range(input._shape[d]):
        outs.append(make_view(input, shape, strides, input._offset + i * input._strides[d]))
    if tracked and outs:
        node = UnbindBackward0()
        node.n_outputs = len(outs)
        node.shape, node.dim, node.sizes = input._shape, d, tuple([1] * len(outs))
        node._dtype, node._device = input._dtype, input.device
        record(node, (input,), tuple(outs))
    return tuple(outs)


class DiagonalBackward0(Node):
    """d diagonal(a) = zeros with g placed on the diagonal"""
    __slots__ = ("shape", "offset", "dim1", "dim2")

    def backward(self, g):
        return (_embed(g, self.shape, lambda z: diagonal(z, self.offset, self.dim1, self.dim2)),)


@declare(method=True)
def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as a view appended as the last dim."""
    nd = len(input._shape)
    offset = check_int(offset, "diagonal", "offset")
    d1, d2 = normalize_dim(dim1, nd), normalize_dim(dim2, nd)
    if d1 == d2 or not nd:      # a 0-d tensor's dims -1 and 0 are both its one (absent) dim
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = input._shape[d1], input._shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start = offset * input._strides[d2]
    else:
        length = max(0, min(n1 + offset, n2))
        start = -offset * input._strides[d1]
    keep = [i for i in range(nd) if i not in (d1, d2)]
    shape = tuple(input._shape[i] for i in keep) + (length,)
    strides = tuple(input._strides[i] for i in keep) + (input._strides[d1] + input._strides[d2],)
    return _view_of(input, shape, strides, input._offset + (start if length else 0), DiagonalBackward0,
                    shape=input._shape, offset=offset, dim1=d1, dim2=d2)


# ---- as_strided ------------------------------------------------------------------------------

def strided_index(shape, strides, offset, device):
    """The storage position of every element of a layout, as an int64 tensor of ``shape``."""
    idx = full((), offset, dtype=int64, device=device)
    nd = len(shape)
    for d, (n, s) in enumerate(zip(shape, strides)):
        view_shape = [1] * nd
        view_shape[d] = n
        idx = idx + arange(n, device=device).reshape(view_shape) * s
    return idx.expand(shape) if nd else idx


def _extent(shape, strides, offset):
    if numel(shape) == 0:
        return offset
    return offset + sum((n - 1) * s for n, s in zip(shape, strides)) + 1


class AsStridedBackward0(Node):
    """d as_strided(a) = g added back at the storage positions it was read from"""
    __slots__ = ("in_layout", "out_layout")

    def __init__(self, base=None, shape=None, strides=None, offset=None):
        super().__init__()
        if base is not None:
            self.in_layout = (base._shape, base._strides, base._offset)
            self.out_layout = (shape, strides, offset)

    def backward(self, g):
        in_shape, in_strides, in_offset = self.in_layout
        shape, strides, offset = self.out_layout
        size = max(_extent(in_shape, in_strides, in_offset), _extent(shape, strides, offset))
        storage = zeros(size, dtype=g._dtype, device=g.device)
        positions = strided_index(shape, strides, offset, g.device).reshape(-1)
        storage = storage.index_put((positions,), g.reshape(-1), accumulate=True)
        return (as_strided(storage, in_shape, in_strides, in_offset),)


@declare(method=True)
def as_strided(input, size, stride, storage_offset=None) -> Tensor:
    """A view with an explicit layout, in the storage's coordinates."""
    size, stride = _int_tuple(size, "as_strided", "size"), _int_tuple(stride, "as_strided", "stride")
    if storage_offset is not None:
        storage_offset = check_int(storage_offset, "as_strided", "storage_offset")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(size)} vs {len(stride)})")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError("as_strided: negative sizes and strides are not supported")
    check_size(size, input._dtype.itemsize)
    offset = input._offset if storage_offset is None else storage_offset
    if offset < 0:
        raise RuntimeError(f"as_strided: negative storage offset {offset}")
    need = offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1 if all(size) else 0
    held = _storage_extent(input)
    if need > held:
        raise RuntimeError(f"as_strided: sizes {list(size)}, strides {list(stride)} and storage offset {offset} "
                           f"reach element {need - 1} of a storage of {held} elements")
    return _view_of(input, size, stride, offset, AsStridedBackward0, in_layout=(input._shape, input._strides,
                                                                                 input._offset),
                    out_layout=(size, stride, offset))


def _storage_extent(x) -> int:
    """How many elements of its storage ``x``'s root tensor spans (a lower bound of the
    storage's size: a view may not reach past it)."""
    root = x._base if x._base is not None else x
    if not all(root._shape):
        return root._offset
    return root._offset + sum((n - 1) * st for n, st in zip(root._shape, root._strides)) + 1


# ---- copies ------------------------------------------------------------------------------------

class CloneBackward0(Node):
    """d clone(a) = g"""

    def backward(self, g):
        return (g,)


def _copy_contiguous(input) -> Tensor:
    backend = input._backend
    arr = backend.empty(input._shape, input._dtype)
    backend.copy(input._a, arr)
    return make(backend, arr, input._shape, input._dtype)


@declare(method=True)
def clone(input, *, memory_format=None) -> Tensor:
    """A copy with its own storage."""
    r = _copy_contiguous(input)
    if STATE.enabled and input._requires_grad:
        record(CloneBackward0(), (input,), r)
    return r


@declare(public=False, method=True)
def contiguous(input, *, memory_format=None) -> Tensor:
    """``input`` itself when already contiguous, else a contiguous copy."""
    if is_contiguous(input._shape, input._strides):
        return input
    return clone(input)


class FlipBackward0(Node):
    """d flip(a, dims) = flip(g, dims)"""
    __slots__ = ("dims",)

    def backward(self, g):
        return (flip(g, self.dims),)


@declare(method=True)
def flip(input, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    nd = len(input._shape)
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    ds = sorted({normalize_dim(d, nd) for d in dims})
    if not nd:
        ds = []                       # dims -1 and 0 of a 0-d tensor: nothing to flip
    r = _copy_contiguous(input)
    for d in ds:
        n = input._shape[d]
        if n > 1:
            r = ops.index_select(r, d, arange(n - 1, -1, -1, device=input.device))
    if STATE.enabled and input._requires_grad:
        node = FlipBackward0()
        node.dims = tuple(ds)
        record(node, (input,), r)
    return r


class RepeatBackward0(Node):
    """d repeat(a, sizes) = g summed over the copies"""
    __slots__ = ("sizes", "shape")

    def backward(self, g):
        inter = []
        for r, n in zip(self.sizes, self.shape):
            inter += [r, n]
        summed = g.reshape(inter).sum(tuple(range(0, len(inter), 2)))
        return (summed,)


@declare(public=False, method=True)
def repeat(input, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dim (a copy)."""
    if not sizes:
        raise TypeError("repeat(): missing the argument 'repeats' (how many times to repeat each dim)")
    sizes = _shape_arg(sizes, "repeat")
    nd = len(input._shape)
    if len(sizes) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    padded = (1,) * (len(sizes) - nd) + input._shape
    if any(r * n < 0 for r, n in zip(sizes, padded)):   # a negative count of a non-empty dim
        raise RuntimeError(f"repeat(): the counts must not be negative for a non-empty dim, but got repeats "
                           f"{list(sizes)} for a tensor of shape {list(input._shape)}")
    x = input.detach().reshape(padded)
    # interleave a repeat axis before each dim, expand it, then merge
    inter = []
    exp = []
    for r, n in zip(sizes, x._shape):
        inter += [1, n]
        exp += [r, n]
    out_shape = tuple(r * n for r, n in zip(sizes, x._shape))
    check_size(out_shape, input._dtype.itemsize)
    if numel(out_shape) == 0:     # nothing to copy (and the interleaved view could not be described)
        r = x.new_empty(out_shape)
    else:
        r = x.reshape(inter).expand(exp).reshape(out_shape)
    if r._storage is input._storage:
        r = _copy_contiguous(r)
    if STATE.enabled and input._requires_grad:
        node = RepeatBackward0()
        node.sizes, node.shape = sizes, padded
        record(node, (input,), r)
    return r


@declare(method=True)
def tile(input, dims) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return repeat(input, dims)


ops.register("AsStridedBackward0", AsStridedBackward0)   # the graph regenerates a view's history with it
