"""The op -> ONNX table: one small function per op, ``MAPPINGS[name]``.

A mapping receives the converter ``cx`` (``plugrad.onnx.convert.Converter``) and the
recorded call (``call.args``: the op's parameters by name, as the op received them;
``call.output``: its result) and returns the ONNX value name of each result tensor
(one name, or a list for an op returning several). It adds nodes with
``cx.g.op(op_type, *inputs, **attributes)`` and reads tensors with ``cx.value``
(which also turns a Python number into a constant of the dtype asked for). Shapes
and dtypes are the traced ones (``cx.shape``, ``cx.dtype``): the exporter writes
what this forward computed, and a mapping may return None to refuse arguments it
cannot express (the exporter then says so, naming the op).

In-place forms (``relu_``) are written by their op's mapping; an op not listed here
is written as the ops it is made of when it is a composition (``softmin``,
``multi_head_attention_forward``), and refused otherwise. docs/onnx.md lists
this table, and a test keeps the list equal to it.
"""

from __future__ import annotations

import math

from .. import creation
from ..dtypes import bool_, float32, float64, int32, int64
from ..ops.dispatch import ALL_DIMS
from ..ops.pointwise import result_dtype
from ..tensor import Tensor
from .errors import OnnxExporterError
from .graph import ONNX_TYPES

__all__ = ["MAPPINGS", "maps"]

#: op name -> mapping function
MAPPINGS: dict = {}

#: ONNX Slice's "to the end" (ends are clamped to the dim)
_END = 2 ** 63 - 1


def maps(*names):
    """Register the decorated function as the mapping of the ops ``names``."""
    def register(fn):
        for n in names:
            MAPPINGS[n] = fn
        return fn
    return register


def _out(cx, call):
    return cx.dtype(call.output)


def _dim(d, rank: int) -> int:
    return d + rank if d < 0 else d


def _dims(dim, rank: int) -> list:
    """``dim`` (None, ALL_DIMS, an int or a sequence) as a sorted list of axes."""
    if dim is None or dim is ALL_DIMS or (isinstance(dim, (tuple, list)) and not dim):
        return list(range(rank))
    if isinstance(dim, int):
        return [_dim(dim, rank)]
    return sorted(_dim(d, rank) for d in dim)


def _pair(v, n: int) -> list:
    return [int(x) for x in v] if isinstance(v, (tuple, list)) else [int(v)] * n


# ---- elementwise -----------------------------------------------------------------------------------

def _unary(op_type):
    def mapping(cx, call):
        x = call.args["input"]
        return cx.g.op(op_type, cx.value(x, _out(cx, call) if _out(cx, call) is not bool_ else None))
    mapping.__name__ = f"map_{op_type.lower()}"
    return mapping


for _name, _op in {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log",
                   "sqrt": "Sqrt", "neg": "Neg", "abs": "Abs", "erf": "Erf", "sin": "Sin", "cos": "Cos",
                   "tan": "Tan", "reciprocal": "Reciprocal", "floor": "Floor", "ceil": "Ceil", "sign": "Sign",
                   "logical_not": "Not", "isnan": "IsNaN", "isinf": "IsInf", "softsign": "Softsign", "asin": "Asin",
                   "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh"}.items():
    MAPPINGS[_name] = _unary(_op)


@maps("round")
def map_round(cx, call):
    if call.args.get("decimals", 0):
        return None
    return cx.g.op("Round", cx.value(call.args["input"]))


@maps("rsqrt")
def map_rsqrt(cx, call):
    return cx.g.op("Reciprocal", cx.g.op("Sqrt", cx.value(call.args["input"], _out(cx, call))))


@maps("square")
def map_square(cx, call):
    x = cx.value(call.args["input"], _out(cx, call))
    return cx.g.op("Mul", x, x)


@maps("log1p")
def map_log1p(cx, call):
    dt = _out(cx, call)
    return cx.g.op("Log", cx.g.op("Add", cx.value(call.args["input"], dt), cx.scalar(1, dt)))


@maps("expm1")
def map_expm1(cx, call):
    dt = _out(cx, call)
    return cx.g.op("Sub", cx.g.op("Exp", cx.value(call.args["input"], dt)), cx.scalar(1, dt))


@maps("positive", "detach", "contiguous", "clone")
def map_identity(cx, call):
    return cx.value(call.args["input"])


def _operands(cx, a, b, dtype):
    return cx.value(a, dtype), cx.value(b, dtype)


def _binary(op_type, negate=False):
    def mapping(cx, call):
        a, b = call.args["input"], call.args["other"]
        out = _out(cx, call)
        dt = result_dtype(a, b) if out is bool_ else out
        r = cx.g.op(op_type, *_operands(cx, a, b, dt))
        return cx.g.op("Not", r) if negate else r
    mapping.__name__ = f"map_{op_type.lower()}"
    return mapping


for _name, _op in {"mul": "Mul", "maximum": "Max", "minimum": "Min", "eq": "Equal", "lt": "Less",
                   "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual", "logical_and": "And",
                   "logical_or": "Or", "logical_xor": "Xor"}.items():
    MAPPINGS[_name] = _binary(_op)
MAPPINGS["ne"] = _binary("Equal", negate=True)


@maps("add", "sub")
def map_add(cx, call):
    a, b, alpha = call.args["input"], call.args["other"], call.args.get("alpha", 1)
    dt = _out(cx, call)
    a, b = _operands(cx, a, b, dt)
    if alpha != 1:
        b = cx.g.op("Mul", b, cx.scalar(alpha, dt))
    return cx.g.op("Add" if call.name == "add" else "Sub", a, b)


@maps("rsub")
def map_rsub(cx, call):
    dt = _out(cx, call)
    a, b = _operands(cx, call.args["input"], call.args["other"], dt)
    if call.args.get("alpha", 1) != 1:
        a = cx.g.op("Mul", a, cx.scalar(call.args["alpha"], dt))
    return cx.g.op("Sub", b, a)


@maps("div", "true_divide")
def map_div(cx, call):
    dt = _out(cx, call)
    mode = call.args.get("rounding_mode")
    if mode is not None and not dt.is_floating_point:
        return None
    r = cx.g.op("Div", *_operands(cx, call.args["input"], call.args["other"], dt))
    if mode == "floor":
        return cx.g.op("Floor", r)
    if mode == "trunc":
        return cx.g.op("Mul", cx.g.op("Sign", r), cx.g.op("Floor", cx.g.op("Abs", r)))
    return r


@maps("floor_divide")
def map_floor_divide(cx, call):
    """``floor(a / b)``; integers go through float64 (exact below 2**53), as ONNX's
    integer Div truncates instead of flooring."""
    dt = _out(cx, call)
    work = dt if dt.is_floating_point else float64
    r = cx.g.op("Floor", cx.g.op("Div", *_operands(cx, call.args["input"], call.args["other"], work)))
    return r if work is dt else cx.g.op("Cast", r, to=ONNX_TYPES[dt])


@maps("pow")
def map_pow(cx, call):
    dt = _out(cx, call)
    return cx.g.op("Pow", *_operands(cx, call.args["input"], call.args["exponent"], dt))


def _where(cx, cond, a, b, dt):
    """``Where(cond, a, b)`` in ``dt``; bool values are chosen as int32 (ONNX Runtime has
    no bool Where)."""
    work = int32 if dt is bool_ else dt
    r = cx.g.op("Where", cx.value(cond, bool_), *_operands(cx, a, b, work))
    return cx.g.op("Cast", r, to=ONNX_TYPES[bool_]) if dt is bool_ else r


@maps("where")
def map_where(cx, call):
    cond, a, b = call.args["condition"], call.args["input"], call.args["other"]
    if a is None:
        return None
    return _where(cx, cond, a, b, _out(cx, call))


@maps("masked_fill")
def map_masked_fill(cx, call):
    x = call.args["input"]
    return _where(cx, call.args["mask"], call.args["value"], x, cx.dtype(x))


@maps("clamp", "clamp_min", "clamp_max")
def map_clamp(cx, call):
    dt = _out(cx, call)
    r = cx.value(call.args["input"], dt)
    low = call.args["bound"] if call.name == "clamp_min" else call.args.get("min")
    high = call.args["bound"] if call.name == "clamp_max" else call.args.get("max")
    if low is not None:
        r = cx.g.op("Max", r, cx.value(low, dt))
    if high is not None:
        r = cx.g.op("Min", r, cx.value(high, dt))
    return r


# ---- activations ---------------------------------------------------------------------------------

@maps("gelu")
def map_gelu(cx, call):
    approximate = call.args.get("approximate", "none")
    dt = _out(cx, call)
    x = cx.value(call.args["input"])
    if cx.opset >= 20:
        return cx.g.op("Gelu", x, approximate=approximate)
    if approximate == "tanh":   # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = cx.g.op("Mul", cx.g.op("Mul", x, x), x)
        inner = cx.g.op("Mul", cx.g.op("Add", x, cx.g.op("Mul", cube, cx.scalar(0.044715, dt))),
                        cx.scalar(math.sqrt(2 / math.pi), dt))
        phi = cx.g.op("Add", cx.g.op("Tanh", inner), cx.scalar(1.0, dt))
    else:                       # 0.5 x (1 + erf(x / sqrt(2)))
        phi = cx.g.op("Add", cx.g.op("Erf", cx.g.op("Div", x, cx.scalar(math.sqrt(2), dt))), cx.scalar(1.0, dt))
    return cx.g.op("Mul", cx.g.op("Mul", x, phi), cx.scalar(0.5, dt))


@maps("silu")
def map_silu(cx, call):
    x = cx.value(call.args["input"])
    return cx.g.op("Mul", x, cx.g.op("Sigmoid", x))


@maps("leaky_relu")
def map_leaky_relu(cx, call):
    return cx.g.op("LeakyRelu", cx.value(call.args["input"]), alpha=float(call.args["negative_slope"]))


@maps("elu")
def map_elu(cx, call):
    return cx.g.op("Elu", cx.value(call.args["input"]), alpha=float(call.args["alpha"]))


@maps("celu")
def map_celu(cx, call):
    return cx.g.op("Celu", cx.value(call.args["input"]), alpha=float(call.args["alpha"]))


@maps("selu")
def map_selu(cx, call):
    return cx.g.op("Selu", cx.value(call.args["input"]))


@maps("hardtanh", "relu6")
def map_hardtanh(cx, call):
    x = call.args["input"]
    dt = cx.dtype(x)
    low, high = (0.0, 6.0) if call.name == "relu6" else (call.args["min_val"], call.args["max_val"])
    return cx.g.op("Clip", cx.value(x), cx.scalar(low, dt), cx.scalar(high, dt))


@maps("hardsigmoid")
def map_hardsigmoid(cx, call):
    return cx.g.op("HardSigmoid", cx.value(call.args["input"]), alpha=1 / 6, beta=0.5)


@maps("hardswish")
def map_hardswish(cx, call):
    return cx.g.op("HardSwish", cx.value(call.args["input"]))


@maps("softplus")
def map_softplus(cx, call):
    x, beta, threshold = call.args["input"], call.args["beta"], call.args["threshold"]
    dt = cx.dtype(x)
    xb = cx.g.op("Mul", cx.value(x), cx.scalar(beta, dt)) if beta != 1 else cx.value(x)
    soft = cx.g.op("Softplus", xb)
    if beta != 1:
        soft = cx.g.op("Div", soft, cx.scalar(beta, dt))
    # PyTorch's softplus is x itself where beta * x > threshold
    return cx.g.op("Where", cx.g.op("Greater", xb, cx.scalar(threshold, dt)), cx.value(x), soft)


@maps("logsigmoid")
def map_logsigmoid(cx, call):
    return cx.g.op("Neg", cx.g.op("Softplus", cx.g.op("Neg", cx.value(call.args["input"]))))


@maps("prelu")
def map_prelu(cx, call):
    x, w = call.args["input"], call.args["weight"]
    rank, n = len(cx.shape(x)), cx.shape(w)[0] if cx.shape(w) else 1
    slope = cx.value(w)
    if rank >= 2 and n > 1:   # one slope per channel (dim 1)
        slope = cx.g.op("Reshape", slope, cx.ints([n] + [1] * (rank - 2)))
    return cx.g.op("PRelu", cx.value(x), slope)


@maps("softmax", "log_softmax")
def map_softmax(cx, call):
    x, dt = call.args["input"], _out(cx, call)
    axis = _dim(call.args["dim"], max(len(cx.shape(x)), 1))
    return cx.g.op("Softmax" if call.name == "softmax" else "LogSoftmax", cx.value(x, dt), axis=axis)


@maps("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
def map_dropout(cx, call):
    if call.args.get("training", True) and call.args.get("p", 0.5) > 0:
        raise OnnxExporterError(f"plugrad.onnx.export: '{call.name}' ran in training mode; export the model in "
                                f"eval mode (training=plugrad.onnx.TrainingMode.EVAL, the default)")
    return cx.value(call.args["input"])


# ---- dense, convolution, pooling, normalization ------------------------------------------------------

@maps("linear")
def map_linear(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    if len(cx.shape(x)) == 2:
        return cx.g.op("Gemm", cx.value(x), cx.value(w), *([cx.value(b)] if b is not None else []), transB=1)
    r = cx.g.op("MatMul", cx.value(x), cx.g.op("Transpose", cx.value(w), perm=[1, 0]))
    return r if b is None else cx.g.op("Add", r, cx.value(b))


@maps("matmul", "mm", "bmm")
def map_matmul(cx, call):
    other = call.args.get("other", call.args.get("mat2"))
    return cx.g.op("MatMul", cx.value(call.args["input"]), cx.value(other))


@maps("addmm", "baddbmm")
def map_addmm(cx, call):
    dt = _out(cx, call)
    first, second = ("mat1", "mat2") if call.name == "addmm" else ("batch1", "batch2")
    a, b = call.args[first], call.args[second]
    prod = cx.g.op("MatMul", cx.value(a), cx.value(b))
    beta, alpha = call.args["beta"], call.args["alpha"]
    if alpha != 1:
        prod = cx.g.op("Mul", prod, cx.scalar(alpha, dt))
    if beta == 0:
        return prod
    c = cx.value(call.args["input"], dt)
    if beta != 1:
        c = cx.g.op("Mul", c, cx.scalar(beta, dt))
    return cx.g.op("Add", c, prod)


@maps("conv1d", "conv2d", "conv3d")
def map_conv(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    n = len(cx.shape(w)) - 2
    kernel = list(cx.shape(w)[2:])
    dilation = _pair(call.args["dilation"], n)
    padding = call.args["padding"]
    if padding == "valid":
        begin = end = [0] * n
    elif padding == "same":   # PyTorch puts the odd one at the end
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        begin = [t // 2 for t in total]
        end = [t - s for t, s in zip(total, begin)]
    else:
        begin = end = _pair(padding, n)
    inputs = [cx.value(x), cx.value(w)] + ([cx.value(b)] if b is not None else [])
    return cx.g.op("Conv", *inputs, kernel_shape=kernel, strides=_pair(call.args["stride"], n), pads=begin + end,
                   dilations=dilation, group=int(call.args["groups"]))


@maps("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def map_conv_transpose(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    n = len(cx.shape(w)) - 2
    pads = _pair(call.args["padding"], n)
    inputs = [cx.value(x), cx.value(w)] + ([cx.value(b)] if b is not None else [])
    return cx.g.op("ConvTranspose", *inputs, kernel_shape=list(cx.shape(w)[2:]), strides=_pair(call.args["stride"], n),
                   pads=pads + pads, dilations=_pair(call.args["dilation"], n), group=int(call.args["groups"]),
                   output_padding=_pair(call.args["output_padding"], n))


def _pool_window(cx, call, n):
    kernel = _pair(call.args["kernel_size"], n)
    stride = call.args["stride"]
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _pair(stride, n)
    pads = _pair(call.args["padding"], n)
    return kernel, stride, pads + pads


@maps("max_pool1d", "max_pool2d", "max_pool3d")
def map_max_pool(cx, call):
    if call.args.get("return_indices"):
        return None
    n = int(call.name[-2])
    kernel, stride, pads = _pool_window(cx, call, n)
    return cx.g.op("MaxPool", cx.value(call.args["input"]), kernel_shape=kernel, strides=stride, pads=pads,
                   dilations=_pair(call.args["dilation"], n), ceil_mode=int(bool(call.args["ceil_mode"])))


@maps("avg_pool1d", "avg_pool2d", "avg_pool3d")
def map_avg_pool(cx, call):
    if call.args.get("divisor_override") is not None:
        return None
    n = int(call.name[-2])
    kernel, stride, pads = _pool_window(cx, call, n)
    return cx.g.op("AveragePool", cx.value(call.args["input"]), kernel_shape=kernel, strides=stride, pads=pads,
                   ceil_mode=int(bool(call.args["ceil_mode"])),
                   count_include_pad=int(bool(call.args["count_include_pad"])))


@maps("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d")
def map_adaptive_avg_pool(cx, call):
    x = call.args["input"]
    n = int(call.name[-2])
    size_in = list(cx.shape(x)[-n:])
    size_out = list(cx.shape(call.output)[-n:])
    if all(o == 1 for o in size_out):
        return cx.g.op("GlobalAveragePool", cx.value(x))
    if any(i % o for i, o in zip(size_in, size_out)):
        return None   # windows of unequal sizes: no single ONNX pooling node
    kernel = [i // o for i, o in zip(size_in, size_out)]
    return cx.g.op("AveragePool", cx.value(x), kernel_shape=kernel, strides=kernel)


@maps("batch_norm")
def map_batch_norm(cx, call):
    a = call.args
    mean, var = a["running_mean"], a["running_var"]
    if a["training"] or mean is None or var is None:
        return None
    x = a["input"]
    dt = cx.dtype(x)
    channels = cx.shape(x)[1]
    scale = cx.value(a["weight"]) if a["weight"] is not None else cx.g.constant(_filled(channels, 1.0, dt))
    bias = cx.value(a["bias"]) if a["bias"] is not None else cx.g.constant(_filled(channels, 0.0, dt))
    return cx.g.op("BatchNormalization", cx.value(x), scale, bias, cx.value(mean), cx.value(var),
                   epsilon=float(a["eps"]))


def _filled(n, value, dtype):
    return creation.full((n,), value, dtype=dtype)


@maps("layer_norm")
def map_layer_norm(cx, call):
    a = call.args
    x = a["input"]
    shape = list(a["normalized_shape"]) if isinstance(a["normalized_shape"], (tuple, list)) else \
        [int(a["normalized_shape"])]
    dt = cx.dtype(x)
    n = 1
    for s in shape:
        n *= s
    scale = cx.value(a["weight"]) if a["weight"] is not None else \
        cx.g.op("Reshape", cx.g.constant(_filled(n, 1.0, dt)), cx.ints(shape))
    inputs = [cx.value(x), scale] + ([cx.value(a["bias"])] if a["bias"] is not None else [])
    return cx.g.op("LayerNormalization", *inputs, axis=-len(shape), epsilon=float(a["eps"]))


@maps("instance_norm")
def map_instance_norm(cx, call):
    a = call.args
    if not a["use_input_stats"]:
        return None
    x = a["input"]
    dt, channels = cx.dtype(x), cx.shape(x)[1]
    scale = cx.value(a["weight"]) if a["weight"] is not None else cx.g.constant(_filled(channels, 1.0, dt))
    bias = cx.value(a["bias"]) if a["bias"] is not None else cx.g.constant(_filled(channels, 0.0, dt))
    return cx.g.op("InstanceNormalization", cx.value(x), scale, bias, epsilon=float(a["eps"]))


@maps("group_norm")
def map_group_norm(cx, call):
    """Normalized over each group of channels (with the rest of the sample), then scaled
    per channel: ONNX's GroupNormalization scales per group before opset 21, so this is
    written with InstanceNormalization over the groups."""
    a = call.args
    x = a["input"]
    shape, dt = cx.shape(x), cx.dtype(x)
    groups = int(a["num_groups"])
    grouped = cx.g.op("Reshape", cx.value(x), cx.ints([0, groups, -1]))
    normed = cx.g.op("InstanceNormalization", grouped, cx.g.constant(_filled(groups, 1.0, dt)),
                     cx.g.constant(_filled(groups, 0.0, dt)), epsilon=float(a["eps"]))
    r = cx.g.op("Reshape", normed, cx.ints([0, shape[1]] + [-1 if i == 0 else n for i, n in enumerate(shape[2:])]
                                           if len(shape) > 2 else [0, shape[1]]))
    per_channel = [shape[1]] + [1] * (len(shape) - 2)
    if a["weight"] is not None:
        r = cx.g.op("Mul", r, cx.g.op("Reshape", cx.value(a["weight"]), cx.ints(per_channel)))
    if a["bias"] is not None:
        r = cx.g.op("Add", r, cx.g.op("Reshape", cx.value(a["bias"]), cx.ints(per_channel)))
    return r


@maps("embedding")
def map_embedding(cx, call):
    if call.args.get("max_norm") is not None:
        return None
    return cx.g.op("Gather", cx.value(call.args["weight"]), cx.value(call.args["input"]), axis=0)


# ---- shapes and views ---------------------------------------------------------------------------------

@maps("view", "reshape", "flatten", "unflatten", "view_as", "reshape_as", "ravel")
def map_reshape(cx, call):
    """A reshape to the traced result shape. The dims that follow a dynamic axis
    (``cx.dynamic_dims``) are not fixed: one is inferred (ONNX's -1), and one at the
    same position and size as the input's is copied (ONNX's 0). Without dynamic axes,
    leading dims equal to the input's are copied and the next one inferred, so that a
    batch dim in front still may change."""
    x = call.args["input"]
    old, new = cx.shape(x), list(cx.shape(call.output))
    if old == tuple(new):
        return cx.value(x)
    target = list(new)
    if 0 in new:
        return cx.g.op("Reshape", cx.value(x), cx.ints(target), allowzero=1)
    dynamic = cx.dynamic_dims(call.output)
    if cx.dynamic_dims(x) or dynamic:
        copied = [i for i in dynamic if i < len(old) and i in cx.dynamic_dims(x) and old[i] == new[i]]
        inferred = [i for i in dynamic if i not in copied]
        if len(inferred) > 1:
            raise OnnxExporterError(
                f"plugrad.onnx.export: '{call.name}' to shape {new} has {len(inferred)} dims ({inferred}) that follow "
                f"dynamic axes and are not the input's own dims; ONNX's Reshape can infer one. Keep those dims "
                f"apart in the model, or make fewer input dims dynamic")
        for i in copied:
            target[i] = 0
        if inferred:
            target[inferred[0]] = -1
    else:
        k = 0
        while k < min(len(old), len(new)) and old[k] == new[k]:
            target[k] = 0
            k += 1
        if k < len(new):
            target[k] = -1
    return cx.g.op("Reshape", cx.value(x), cx.ints(target))


@maps("transpose")
def map_transpose(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    if rank < 2:
        return cx.value(x)
    perm = list(range(rank))
    d0, d1 = _dim(call.args["dim0"], rank), _dim(call.args["dim1"], rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return cx.g.op("Transpose", cx.value(x), perm=perm)


@maps("t")
def map_t(cx, call):
    x = call.args["input"]
    return cx.value(x) if len(cx.shape(x)) < 2 else cx.g.op("Transpose", cx.value(x), perm=[1, 0])


@maps("permute")
def map_permute(cx, call):
    x = call.args["input"]
    dims = call.args["dims"]
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    rank = len(cx.shape(x))
    return cx.g.op("Transpose", cx.value(x), perm=[_dim(d, rank) for d in dims])


@maps("unsqueeze")
def map_unsqueeze(cx, call):
    x = call.args["input"]
    return cx.g.op("Unsqueeze", cx.value(x), cx.ints([_dim(call.args["dim"], len(cx.shape(x)) + 1)]))


@maps("squeeze")
def map_squeeze(cx, call):
    x = call.args["input"]
    shape = cx.shape(x)
    axes = [d for d in _dims(call.args["dim"], len(shape)) if shape and shape[d] == 1]
    return cx.g.op("Squeeze", cx.value(x), cx.ints(axes)) if axes else cx.value(x)


@maps("expand", "expand_as", "broadcast_to")
def map_expand(cx, call):
    x = call.args["input"]
    old, new = cx.shape(x), list(cx.shape(call.output))
    if old == tuple(new):
        return cx.value(x)
    lead = len(new) - len(old)   # a dim the input already has stays the input's (1 broadcasts to it)
    target = [1 if i >= lead and old[i - lead] == n else n for i, n in enumerate(new)]
    return cx.g.op("Expand", cx.value(x), cx.ints(target))


@maps("interpolate")
def map_interpolate(cx, call):
    """ONNX's Resize with PyTorch's coordinates: ``nearest`` floors source positions
    (asymmetric), the linear and cubic modes use half pixels (or the corners with
    ``align_corners``); a ``scale_factor`` is given as Resize's scales, so it holds at
    other input sizes."""
    a = call.args
    x, mode = a["input"], a["mode"]
    modes = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
             "bicubic": "cubic"}
    if mode not in modes or a["antialias"]:
        return None
    attrs = {"mode": modes[mode]}
    if mode == "nearest":
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        attrs["coordinate_transformation_mode"] = "align_corners" if a["align_corners"] else "pytorch_half_pixel"
    if mode == "bicubic":
        attrs["cubic_coeff_a"] = -0.75
    rank = len(cx.shape(x))
    factor = a["scale_factor"]
    if factor is not None and not a["recompute_scale_factor"]:
        factors = [float(f) for f in factor] if isinstance(factor, (tuple, list)) else [float(factor)] * (rank - 2)
        scales = cx.g.constant(creation.tensor([1.0, 1.0] + factors, dtype=float32))
        return cx.g.op("Resize", cx.value(x), "", scales, **attrs)
    return cx.g.op("Resize", cx.value(x), "", "", cx.ints(cx.shape(call.output)), **attrs)


@maps("repeat")
def map_repeat(cx, call):
    x, sizes = call.args["input"], call.args["sizes"]
    sizes = list(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else list(sizes)
    r = cx.value(x)
    extra = len(sizes) - len(cx.shape(x))
    if extra:
        r = cx.g.op("Unsqueeze", r, cx.ints(range(extra)))
    return cx.g.op("Tile", r, cx.ints(sizes))


@maps("flip")
def map_flip(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    dims = _dims(call.args["dims"], rank) if call.args["dims"] != () else []
    if not dims:
        return cx.value(x)
    n = len(dims)
    return cx.g.op("Slice", cx.value(x), cx.ints([-1] * n), cx.ints([-_END] * n), cx.ints(dims), cx.ints([-1] * n))


@maps("pixel_shuffle")
def map_pixel_shuffle(cx, call):
    x = call.args["input"]
    if len(cx.shape(x)) != 4:
        return None
    return cx.g.op("DepthToSpace", cx.value(x), blocksize=int(call.args["upscale_factor"]), mode="CRD")


@maps("pixel_unshuffle")
def map_pixel_unshuffle(cx, call):
    """(N, C, H*r, W*r) -> (N, C*r*r, H, W), each channel's r x r blocks in row-major
    order: a reshape, a transpose and a reshape (ONNX's SpaceToDepth orders them
    otherwise)."""
    x, r = call.args["input"], int(call.args["downscale_factor"])
    if len(cx.shape(x)) != 4:
        return None
    n, c, h, w = cx.shape(x)
    split = cx.g.op("Reshape", cx.value(x), cx.ints([0, c, h // r, r, w // r, r]))
    moved = cx.g.op("Transpose", split, perm=[0, 1, 3, 5, 2, 4])
    return cx.g.op("Reshape", moved, cx.ints([0, c * r * r, h // r, w // r]))


@maps("to", "type_as")
def map_to(cx, call):
    x, dt = call.args["input"], _out(cx, call)
    return cx.value(x) if cx.dtype(x) is dt else cx.g.op("Cast", cx.value(x), to=ONNX_TYPES[dt])


@maps("select")
def map_select(cx, call):
    x = call.args["input"]
    shape = cx.shape(x)
    d = _dim(call.args["dim"], len(shape))
    # a negative index stays negative (Gather counts it from the end): still right when the dim is dynamic
    return cx.g.op("Gather", cx.value(x), cx.g.constant(_scalar_index(call.args["index"])), axis=d)


def _scalar_index(i):
    return creation.tensor(int(i), dtype=int64)


@maps("narrow")
def map_narrow(cx, call):
    x = call.args["input"]
    d = _dim(call.args["dim"], len(cx.shape(x)))
    start = int(call.args["start"])
    stop = start + int(call.args["length"])
    stop = _END if start < 0 and stop == 0 else stop   # counted from the end up to it
    return cx.g.op("Slice", cx.value(x), cx.ints([start]), cx.ints([stop]), cx.ints([d]))



@maps("split", "chunk", "unbind", "tensor_split")
def map_split(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    d = _dim(call.args.get("dim", 0), rank)
    parts = list(call.output)
    sizes = [cx.shape(p)[d] if call.name != "unbind" else 1 for p in parts]
    if len(parts) == 1:
        outs = [cx.value(x)]
    elif len(set(sizes)) == 1 and cx.opset >= 18:   # equal parts: still equal when the dim is dynamic
        outs = cx.g.op("Split", cx.value(x), axis=d, num_outputs=len(parts), outputs=len(parts))
    else:
        outs = cx.g.op("Split", cx.value(x), cx.ints(sizes), axis=d, outputs=len(parts))
    if call.name == "unbind":
        outs = [cx.g.op("Squeeze", o, cx.ints([d])) for o in outs]
    return outs


@maps("cat")
def map_cat(cx, call):
    tensors = [t for t in call.args["tensors"] if not (len(cx.shape(t)) == 1 and cx.shape(t)[0] == 0)]
    dt = _out(cx, call)
    rank = len(cx.shape(call.output))
    return cx.g.op("Concat", *(cx.value(t, dt) for t in tensors), axis=_dim(call.args["dim"], rank))


@maps("stack")
def map_stack(cx, call):
    dt = _out(cx, call)
    d = _dim(call.args["dim"], len(cx.shape(call.output)))
    axes = cx.ints([d])
    return cx.g.op("Concat", *(cx.g.op("Unsqueeze", cx.value(t, dt), axes) for t in call.args["tensors"]), axis=d)


@maps("getitem")
def map_getitem(cx, call):
    """``x[key]`` for keys of ints, slices, None, ``...`` and one integer index tensor."""
    x, key = call.args["x"], call.args["key"]
    key = key if isinstance(key, tuple) else (key,)
    shape = list(cx.shape(x))
    if sum(isinstance(k, Tensor) for k in key) > 1 or \
            any(isinstance(k, Tensor) and (k.dtype is bool_ or k.dtype.is_floating_point) for k in key):
        return None
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (len(shape) - consumed) + key[i + 1:]
    r, axis = cx.value(x), 0
    for k in key:
        if k is None:
            r = cx.g.op("Unsqueeze", r, cx.ints([axis]))
            shape.insert(axis, 1)
            axis += 1
        elif isinstance(k, slice):
            # bounds as written (negative ones count from the end, ONNX clamps them), so that a
            # slice of a dynamic dim still holds at other sizes
            step = 1 if k.step is None else int(k.step)
            if (k.start, k.stop, step) != (None, None, 1):
                bounds = [0 if k.start is None else int(k.start), _END if k.stop is None else int(k.stop)]
                r = cx.g.op("Slice", r, cx.ints(bounds[:1]), cx.ints(bounds[1:]), cx.ints([axis]), cx.ints([step]))
                shape[axis] = len(range(*k.indices(shape[axis])))
            axis += 1
        elif isinstance(k, Tensor):
            r = cx.g.op("Gather", r, cx.value(k, int64), axis=axis)
            new = list(cx.shape(k))
            shape[axis:axis + 1] = new
            axis += len(new)
        else:
            r = cx.g.op("Gather", r, cx.g.constant(_scalar_index(int(k))), axis=axis)
            del shape[axis]
    return r


# ---- reductions ---------------------------------------------------------------------------------------

def _reduce(op_type):
    def mapping(cx, call):
        x = call.args["input"]
        rank = len(cx.shape(x))
        dt = _out(cx, call)
        xv = cx.value(x, dt if dt.is_floating_point or dt is int64 else None)
        if not rank:
            return xv
        return _reduce_node(cx, op_type, xv, _dims(call.args.get("dim"), rank),
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
    dt = _out(cx, call) if isinstance(call.output, Tensor) else cx.dtype(x)
    if isinstance(dim, Tensor):   # the elementwise form
        return cx.g.op("Max" if call.name == "max" else "Min", *_operands(cx, x, dim, dt))
    reduce_op, arg_op = ("ReduceMax", "ArgMax") if call.name == "max" else ("ReduceMin", "ArgMin")
    rank = len(cx.shape(x))
    axes = _dims(dim, rank)
    if not rank:
        return cx.value(x) if dim is ALL_DIMS else [cx.value(x), cx.g.constant(_scalar_index(0))]
    values = _reduce_node(cx, reduce_op, cx.value(x), axes, int(dim is not ALL_DIMS and bool(call.args["keepdim"])))
    if dim is ALL_DIMS:
        return values
    indices = cx.g.op(arg_op, cx.value(x), axis=axes[0], keepdims=int(bool(call.args["keepdim"])))
    return [values, indices]


def _reduce_node(cx, op_type, x, axes, keep):
    """A reduction over ``axes``: an input since opset 18 (ReduceSum: 13), an attribute before."""
    if cx.opset >= (13 if op_type == "ReduceSum" else 18):
        return cx.g.op(op_type, x, cx.ints(axes), keepdims=keep)
    return cx.g.op(op_type, x, axes=axes, keepdims=keep)


@maps("all", "any")
def map_all(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    as_int = cx.g.op("Cast", cx.value(x, bool_), to=ONNX_TYPES[int32])
    if not rank:
        return cx.g.op("Cast", as_int, to=ONNX_TYPES[bool_])
    r = _reduce_node(cx, "ReduceMin" if call.name == "all" else "ReduceMax", as_int, _dims(call.args["dim"], rank),
                     int(bool(call.args["keepdim"])))
    return cx.g.op("Cast", r, to=ONNX_TYPES[bool_])


@maps("topk")
def map_topk(cx, call):
    x = call.args["input"]
    axis = _dim(call.args["dim"], max(len(cx.shape(x)), 1))
    return cx.g.op("TopK", cx.value(x), cx.ints([call.args["k"]]), axis=axis, largest=int(bool(call.args["largest"])),
                   sorted=int(bool(call.args["sorted"])), outputs=2)


@maps("argmax", "argmin")
def map_argmax(cx, call):
    x, dim = call.args["input"], call.args["dim"]
    op_type = "ArgMax" if call.name == "argmax" else "ArgMin"
    if dim is None:
        return cx.g.op(op_type, cx.g.op("Reshape", cx.value(x), cx.ints([-1])), axis=0, keepdims=0)
    return cx.g.op(op_type, cx.value(x), axis=_dim(dim, max(len(cx.shape(x)), 1)),
                   keepdims=int(bool(call.args["keepdim"])))


@maps("cumsum")
def map_cumsum(cx, call):
    x, dt = call.args["input"], _out(cx, call)
    return cx.g.op("CumSum", cx.value(x, dt), cx.ints([_dim(call.args["dim"], max(len(cx.shape(x)), 1))]))


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
