"""Mappings of reductions, selection along a dim, and padding."""

from __future__ import annotations

from ...dtypes import bool_, int32, int64
from ...ops.dispatch import ALL_DIMS
from ...tensor import Tensor
from ..graph import ONNX_TYPES
from .table import MAPPINGS, axes_of, axis_of, maps, operands, out_dtype, reduce_node, scalar_index


def _reduce(op_type):
    def mapping(cx, call):
        x = call.args["input"]
        rank = len(cx.shape(x))
        dt = out_dtype(cx, call)
        xv = cx.value(x, dt if dt.is_floating_point or dt is int64 else None)
        if not rank:
            return xv
        return reduce_node(cx, op_type, xv, axes_of(call.args.get("dim"), rank),
                            int(bool(call.args.get("keepdim", False))))


    mapping.__name__ = f"map_{op_type.lower()}"
    return mapping


MAPPINGS["sum"] = _reduce("ReduceSum")
MAPPINGS["mean"] = _reduce("ReduceMean")
MAPPINGS["amax"] = _reduce("ReduceMax")
MAPPINGS["amin"] = _reduce("ReduceMin")


@maps("max", "min")
def map_max(cx, call):
    """``max(x)`` (every dim), ``max(x, dim)`` (values and indices) and ``max(x, other)``."""
    x, dim = call.args["input"], call.args["dim"]
    dt = out_dtype(cx, call) if isinstance(call.output, Tensor) else cx.dtype(x)
    if isinstance(dim, Tensor):   # the elementwise form
        return cx.g.op("Max" if call.name == "max" else "Min", *operands(cx, x, dim, dt))
    reduce_op, arg_op = ("ReduceMax", "ArgMax") if call.name == "max" else ("ReduceMin", "ArgMin")
    rank = len(cx.shape(x))
    axes = axes_of(dim, rank)
    if not rank:
        return cx.value(x) if dim is ALL_DIMS else [cx.value(x), cx.g.constant(scalar_index(0))]
    values = reduce_node(cx, reduce_op, cx.value(x), axes, int(dim is not ALL_DIMS and bool(call.args["keepdim"])))
    if dim is ALL_DIMS:
        return values
    indices = cx.g.op(arg_op, cx.value(x), axis=axes[0], keepdims=int(bool(call.args["keepdim"])))
    return [values, indices]


@maps("all", "any")
def map_all(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    as_int = cx.g.op("Cast", cx.value(x, bool_), to=ONNX_TYPES[int32])
    if not rank:
        return cx.g.op("Cast", as_int, to=ONNX_TYPES[bool_])
    r = reduce_node(cx, "ReduceMin" if call.name == "all" else "ReduceMax", as_int, axes_of(call.args["dim"], rank),
                     int(bool(call.args["keepdim"])))
    return cx.g.op("Cast", r, to=ONNX_TYPES[bool_])


@maps("topk")
def map_topk(cx, call):
    x = call.args["input"]
    axis = axis_of(call.args["dim"], max(len(cx.shape(x)), 1))
    return cx.g.op("TopK", cx.value(x), cx.ints([call.args["k"]]), axis=axis, largest=int(bool(call.args["largest"])),
                   sorted=int(bool(call.args["sorted"])), outputs=2)


@maps("argmax", "argmin")
def map_argmax(cx, call):
    x, dim = call.args["input"], call.args["dim"]
    op_type = "ArgMax" if call.name == "argmax" else "ArgMin"
    if dim is None:
        return cx.g.op(op_type, cx.g.op("Reshape", cx.value(x), cx.ints([-1])), axis=0, keepdims=0)
    return cx.g.op(op_type, cx.value(x), axis=axis_of(dim, max(len(cx.shape(x)), 1)),
                   keepdims=int(bool(call.args["keepdim"])))


@maps("cumsum")
def map_cumsum(cx, call):
    x, dt = call.args["input"], out_dtype(cx, call)
    return cx.g.op("CumSum", cx.value(x, dt), cx.ints([axis_of(call.args["dim"], max(len(cx.shape(x)), 1))]))


@maps("pad")
def map_pad(cx, call):
    x, pad, mode = call.args["input"], list(call.args["pad"]), call.args["mode"]
    modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    if mode not in modes or (mode == "circular" and cx.opset < 19):
        return None
    rank = len(cx.shape(x))
    begin, end = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):   # PyTorch's pairs start at the last dim
        begin[rank - 1 - i], end[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
    inputs = [cx.value(x), cx.ints(begin + end)]
    if mode == "constant":
        inputs.append(cx.scalar(call.args["value"] or 0, cx.dtype(x)))
    return cx.g.op("Pad", *inputs, mode=modes[mode])
