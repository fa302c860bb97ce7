"""The C expression of every elementwise op, per dtype kind.

``unary_expr(op, ct)`` and ``binary_expr(op, ct)`` return an expression over ``x``
(and ``y``) in ``ct``'s compute type, or None when the op does not exist for that
dtype (the backend then raises :class:`plugrad.extend.UnsupportedOperation`).
Predicates and comparisons give ``uchar`` 0/1. Semantics follow PyTorch: NaN
propagates through maximum/minimum, ``sign(nan)`` is 0, ``round`` is half-to-even,
integer ``floordiv``/``remainder`` round toward minus infinity, integer overflow wraps.
"""

from __future__ import annotations

from .ctype import CType
from .special import special_helpers

# float builtins with the same name in OpenCL C
_FLOAT_BUILTINS = {
    "exp": "exp", "log": "log", "sqrt": "sqrt", "rsqrt": "rsqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "tanh": "tanh", "floor": "floor", "ceil": "ceil", "round": "rint", "trunc": "trunc", "log1p": "log1p",
    "expm1": "expm1", "asin": "asin", "acos": "acos", "atan": "atan", "sinh": "sinh", "cosh": "cosh",
    "log2": "log2", "exp2": "exp2", "abs": "fabs", "erf": "erf", "erfc": "erfc", "lgamma": "lgamma",
    "erfinv": "pg_erfinv", "digamma": "pg_digamma", "acosh": "acosh", "asinh": "asinh", "atanh": "atanh",
    "log10": "log10",
}
_PREDICATES = {"isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite"}


def _wrap(ct: CType, expr: str) -> str:
    """Integer arithmetic in the unsigned companion type, so overflow wraps."""
    return f"(({ct.compute})({expr}))"


def unary_expr(op: str, ct: CType):
    c, one = ct.compute, ct.lit("1")
    if op == "logical_not":
        return "(uchar)(x == 0)"
    if ct.is_float:
        if op in _FLOAT_BUILTINS:
            return f"{_FLOAT_BUILTINS[op]}(x)"
        if op in _PREDICATES:
            return f"(uchar)({_PREDICATES[op]}(x))"
        return {
            "neg": "(-x)",
            "sigmoid": f"({one} / ({one} + exp(-x)))",
            "sign": f"(({c})((x > 0) - (x < 0)))",
            "reciprocal": f"({one} / x)",
        }.get(op)
    if op in ("isnan", "isinf"):
        return "(uchar)0"
    if op == "isfinite":
        return "(uchar)1"
    if ct.kind == "b":       # like PyTorch: no abs/floor/ceil/round/trunc/neg for bool
        return {"sign": "x", "bitwise_not": "(uchar)(x == 0)"}.get(op)
    if op in ("floor", "ceil", "round", "trunc"):
        return "x"
    u = ct.unsigned
    if ct.kind == "u":
        return {
            "neg": _wrap(ct, f"({u})0 - ({u})x"), "abs": "x", "sign": f"(({c})(x > 0))",
            "bitwise_not": f"(({c})~x)",
        }.get(op)
    return {
        "neg": _wrap(ct, f"({u})0 - ({u})x"),
        "abs": f"(x < 0 ? {_wrap(ct, f'({u})0 - ({u})x')} : x)",
        "sign": f"(({c})((x > 0) - (x < 0)))",
        "bitwise_not": f"(({c})~x)",
    }.get(op)


_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LOGICAL = {
    "logical_and": "(uchar)((x != 0) && (y != 0))",
    "logical_or": "(uchar)((x != 0) || (y != 0))",
    "logical_xor": "(uchar)((x != 0) != (y != 0))",
}


def binary_expr(op: str, ct: CType):
    if op in _COMPARE:
        return f"(uchar)(x {_COMPARE[op]} y)"
    if op in _LOGICAL:
        return _LOGICAL[op]
    if ct.is_float:
        return {
            "add": "(x + y)", "sub": "(x - y)", "mul": "(x * y)", "div": "(x / y)",
            "floordiv": "pg_floordiv(x, y)", "remainder": "pg_remainder(x, y)", "fmod": "fmod(x, y)",
            "pow": "(sm == 1 ? pg_pow_scalar(x, y) : pow(x, y))", "atan2": "atan2(x, y)",
            "copysign": "copysign(x, y)",
            "maximum": "((x > y || isnan(x)) ? x : y)", "minimum": "((x < y || isnan(x)) ? x : y)",
        }.get(op)
    bitwise = {"bitwise_and": "(x & y)", "bitwise_or": "(x | y)", "bitwise_xor": "(x ^ y)"}
    if ct.kind == "b":
        return {"add": "(x | y)", "mul": "(x & y)", "maximum": "(x | y)", "minimum": "(x & y)", **bitwise}.get(op)
    u = ct.unsigned
    return {
        "add": _wrap(ct, f"({u})x + ({u})y"), "sub": _wrap(ct, f"({u})x - ({u})y"),
        "mul": _wrap(ct, f"({u})x * ({u})y"),
        "floordiv": "pg_floordiv(x, y)", "remainder": "pg_remainder(x, y)", "fmod": "pg_fmod(x, y)",
        "pow": "pg_pow(x, y)",
        "maximum": "(x > y ? x : y)", "minimum": "(x < y ? x : y)", **bitwise,
    }.get(op)


def helpers(ct: CType) -> str:
    """C functions the expressions above call, for one compute type (defined once per
    program). ``pg_pow_scalar`` is float ``pow`` with a scalar exponent (``sm == 1`` in the
    ``b_pow`` kernel): PyTorch's CPU kernel computes the exponents 2, 3, -1, -2 and -0.5 as
    products, a quotient and a square root (``pow_tensor_scalar_optimized_kernel``), which
    gives its bits and costs far less than ``pow``. Integer division by zero never reaches a
    kernel (the core raises), but the guards keep a stray zero from trapping the whole process on a CPU device."""
    c, u = ct.compute, ct.unsigned
    if ct.is_float:
        z, one, half = ct.lit("0"), ct.lit("1"), ct.lit("0.5")
        # float16 keeps pow for -0.5, as PyTorch's Half kernel (its 1/sqrt rounds differently)
        rsqrt = "" if ct.is_half else f"if (b == ({c})-0.5) return {one} / sqrt(a);"
        return special_helpers(ct) + f"""
{c} pg_floordiv({c} a, {c} b) {{
  if (b == {z}) return a / b;
  const {c} mod = fmod(a, b);
  {c} div = (a - mod) / b;
  if (mod != {z} && ((b < {z}) != (mod < {z}))) div -= {one};
  if (div == {z}) return copysign({z}, a / b);
  {c} fl = floor(div);
  if (div - fl > {half}) fl += {one};
  return fl;
}}
{c} pg_pow_scalar({c} a, {c} b) {{
  if (b == ({c})2) return a * a;
  if (b == ({c})3) return a * a * a;
  if (b == ({c})-1) return {one} / a;
  if (b == ({c})-2) return {one} / (a * a);
  {rsqrt}
  return pow(a, b);
}}
{c} pg_remainder({c} a, {c} b) {{
  if (b == {z}) return fmod(a, b);
  {c} mod = fmod(a, b);
  if (mod != {z}) {{ if ((b < {z}) != (mod < {z})) mod += b; }}
  else mod = copysign({z}, b);
  return mod;
}}
"""
    if ct.kind == "b":
        return ""
    signed = ct.kind == "i"
    trivial = "b == 0 || b == -1" if signed else "b == 0"   # remainder 0 (and no INT_MIN % -1 trap)
    negate = f"if (b == -1) return ({c})(({u})0 - ({u})a);" if signed else ""
    fix_div = "if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;" if signed else ""
    fix_rem = "if (r != 0 && ((r < 0) != (b < 0))) r += b;" if signed else ""
    neg_exp = ("if (b < 0) { if (a == 1) return 1; if (a == -1) return (b & 1) ? -1 : 1; return 0; }"
               if signed else "")
    return f"""
{c} pg_floordiv({c} a, {c} b) {{
  if (b == 0) return 0;
  {negate}
  {c} q = a / b;
  {fix_div}
  return q;
}}
{c} pg_remainder({c} a, {c} b) {{
  if ({trivial}) return 0;
  {c} r = a % b;
  {fix_rem}
  return r;
}}
{c} pg_fmod({c} a, {c} b) {{
  if ({trivial}) return 0;
  return a % b;
}}
{c} pg_pow({c} a, {c} b) {{
  {neg_exp}
  {u} r = 1, base = ({u})a;
  ulong e = (ulong)b;
  while (e) {{ if (e & 1) r *= base; base *= base; e >>= 1; }}
  return ({c})r;
}}
"""
