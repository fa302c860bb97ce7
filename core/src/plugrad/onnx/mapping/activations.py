"""Mappings of the activation functions, softmax and dropout."""

from __future__ import annotations

import math

from ..errors import OnnxExporterError
from .table import axis_of, maps, out_dtype


@maps("gelu")
def map_gelu(cx, call):
    approximate = call.args.get("approximate", "none")
    dt = out_dtype(cx, call)
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
    x, dt = call.args["input"], out_dtype(cx, call)
    axis = axis_of(call.args["dim"], max(len(cx.shape(x)), 1))
    return cx.g.op("Softmax" if call.name == "softmax" else "LogSoftmax", cx.value(x, dt), axis=axis)


@maps("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
def map_dropout(cx, call):
    if call.args.get("training", True) and call.args.get("p", 0.5) > 0:
        raise OnnxExporterError(f"plugrad.onnx.export: '{call.name}' ran in training mode; export the model in "
                                f"eval mode (training=plugrad.onnx.TrainingMode.EVAL, the default)")
    return cx.value(call.args["input"])
