"""The mapping table and what its mappings share.

``MAPPINGS`` holds one function per op name (``maps`` registers one); the helpers
below are the small rules several mappings use: axes, dtypes, constants.
"""

from __future__ import annotations

from ... import creation
from ...dtypes import bool_, int32, int64
from ...ops.dispatch import ALL_DIMS
from ..graph import ONNX_TYPES

__all__ = ["MAPPINGS", "maps", "END", "out_dtype", "axis_of", "axes_of", "pair", "filled", "scalar_index", "operands",
           "choose", "reduce_node"]

#: op name -> mapping function
MAPPINGS: dict = {}

#: ONNX Slice's "to the end" (ends are clamped to the dim)
END = 2 ** 63 - 1


def maps(*names):
    """Register the decorated function as the mapping of the ops ``names``."""
    def register(fn):
        for n in names:
            MAPPINGS[n] = fn
        return fn
    return register


def out_dtype(cx, call):
    """The dtype of the call's result."""
    return cx.dtype(call.output)


def axis_of(d, rank: int) -> int:
    """The dim ``d`` counted from 0 (a negative one counts from the end)."""
    return d + rank if d < 0 else d


def axes_of(dim, rank: int) -> list:
    """``dim`` (None, ALL_DIMS, an int or a sequence) as a sorted list of axes."""
    if dim is None or dim is ALL_DIMS or (isinstance(dim, (tuple, list)) and not dim):
        return list(range(rank))
    if isinstance(dim, int):
        return [axis_of(dim, rank)]
    return sorted(axis_of(d, rank) for d in dim)


def pair(v, n: int) -> list:
    """A size argument (an int, or one per spatial dim) as ``n`` ints: kernel sizes, strides."""
    return [int(x) for x in v] if isinstance(v, (tuple, list)) else [int(v)] * n


def operands(cx, a, b, dtype):
    """The value names of ``a`` and ``b`` (tensors or numbers), both in ``dtype``."""
    return cx.value(a, dtype), cx.value(b, dtype)


def choose(cx, cond, a, b, dt):
    """``Where(cond, a, b)`` in ``dt``; bool values are chosen as int32 (ONNX Runtime has
    no bool Where)."""
    work = int32 if dt is bool_ else dt
    r = cx.g.op("Where", cx.value(cond, bool_), *operands(cx, a, b, work))
    return cx.g.op("Cast", r, to=ONNX_TYPES[bool_]) if dt is bool_ else r


def filled(n, value, dtype):
    """A 1-d tensor of ``n`` times ``value``: the scale or shift a norm without weights uses."""
    return creation.full((n,), value, dtype=dtype)


def scalar_index(i):
    """A 0-d int64 tensor ``i``: a Gather index that drops the dim it picks from."""
    return creation.tensor(int(i), dtype=int64)


def reduce_node(cx, op_type, x, axes, keep):
    """A reduction over ``axes``: an input since opset 18 (ReduceSum: 13), an attribute before."""
    if cx.opset >= (13 if op_type == "ReduceSum" else 18):
        return cx.g.op(op_type, x, cx.ints(axes), keepdims=keep)
    return cx.g.op(op_type, x, axes=axes, keepdims=keep)
