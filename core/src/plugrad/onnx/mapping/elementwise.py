"""Mappings of the elementwise ops: arithmetic, math functions, comparisons, selection."""

from __future__ import annotations

from ...dtypes import bool_, float64
from ...ops.pointwise import result_dtype
from ..graph import ONNX_TYPES
from .table import MAPPINGS, choose, maps, operands, out_dtype


def _unary(op_type):
    def mapping(cx, call):
        x = call.args["input"]
        return cx.g.op(op_type, cx.value(x, out_dtype(cx, call) if out_dtype(cx, call) is not bool_ else None))
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
    return cx.g.op("Reciprocal", cx.g.op("Sqrt", cx.value(call.args["input"], out_dtype(cx, call))))


@maps("square")
def map_square(cx, call):
    x = cx.value(call.args["input"], out_dtype(cx, call))
    return cx.g.op("Mul", x, x)


@maps("log1p")
def map_log1p(cx, call):
    dt = out_dtype(cx, call)
    return cx.g.op("Log", cx.g.op("Add", cx.value(call.args["input"], dt), cx.scalar(1, dt)))


@maps("expm1")
def map_expm1(cx, call):
    dt = out_dtype(cx, call)
    return cx.g.op("Sub", cx.g.op("Exp", cx.value(call.args["input"], dt)), cx.scalar(1, dt))


@maps("positive", "detach", "contiguous", "clone")
def map_identity(cx, call):
    return cx.value(call.args["input"])


def _binary(op_type, negate=False):
    def mapping(cx, call):
        a, b = call.args["input"], call.args["other"]
        out = out_dtype(cx, call)
        dt = result_dtype(a, b) if out is bool_ else out
        r = cx.g.op(op_type, *operands(cx, a, b, dt))
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
    dt = out_dtype(cx, call)
    a, b = operands(cx, a, b, dt)
    if alpha != 1:
        b = cx.g.op("Mul", b, cx.scalar(alpha, dt))
    return cx.g.op("Add" if call.name == "add" else "Sub", a, b)


@maps("rsub")
def map_rsub(cx, call):
    dt = out_dtype(cx, call)
    a, b = operands(cx, call.args["input"], call.args["other"], dt)
    if call.args.get("alpha", 1) != 1:
        a = cx.g.op("Mul", a, cx.scalar(call.args["alpha"], dt))
    return cx.g.op("Sub", b, a)


@maps("div", "true_divide")
def map_div(cx, call):
    dt = out_dtype(cx, call)
    mode = call.args.get("rounding_mode")
    if mode is not None and not dt.is_floating_point:
        return None
    r = cx.g.op("Div", *operands(cx, call.args["input"], call.args["other"], dt))
    if mode == "floor":
        return cx.g.op("Floor", r)
    if mode == "trunc":
        return cx.g.op("Mul", cx.g.op("Sign", r), cx.g.op("Floor", cx.g.op("Abs", r)))
    return r


@maps("floor_divide")
def map_floor_divide(cx, call):
    """``floor(a / b)``; integers go through float64 (exact below 2**53), as ONNX's
    integer Div truncates instead of flooring."""
    dt = out_dtype(cx, call)
    work = dt if dt.is_floating_point else float64
    r = cx.g.op("Floor", cx.g.op("Div", *operands(cx, call.args["input"], call.args["other"], work)))
    return r if work is dt else cx.g.op("Cast", r, to=ONNX_TYPES[dt])


@maps("pow")
def map_pow(cx, call):
    dt = out_dtype(cx, call)
    return cx.g.op("Pow", *operands(cx, call.args["input"], call.args["exponent"], dt))


@maps("where")
def map_where(cx, call):
    cond, a, b = call.args["condition"], call.args["input"], call.args["other"]
    if a is None:
        return None
    return choose(cx, cond, a, b, out_dtype(cx, call))


@maps("masked_fill")
def map_masked_fill(cx, call):
    x = call.args["input"]
    return choose(cx, call.args["mask"], call.args["value"], x, cx.dtype(x))


@maps("clamp", "clamp_min", "clamp_max")
def map_clamp(cx, call):
    dt = out_dtype(cx, call)
    r = cx.value(call.args["input"], dt)
    low = call.args["bound"] if call.name == "clamp_min" else call.args.get("min")
    high = call.args["bound"] if call.name == "clamp_max" else call.args.get("max")
    if low is not None:
        r = cx.g.op("Max", r, cx.value(low, dt))
    if high is not None:
        r = cx.g.op("Min", r, cx.value(high, dt))
    return r
