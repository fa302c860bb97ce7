"""OpenCL C of the special functions OpenCL C lacks (kernel interface 1.2): ``pg_erfinv``
and ``pg_digamma``, for one float compute type (``float`` or ``double``).

The algorithms are those of the pure-Python example device (``plugrad_pylist.special``):
erfinv is Giles' approximation refined by Newton steps (through ``erfc`` in the tails),
digamma is reflection, recurrence up to 10 and the asymptotic series. Constants are
written with the compute type's suffix, so a float program never needs fp64.
"""

from __future__ import annotations

from .ctype import CType

__all__ = ["special_helpers"]

_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_DIGAMMA_SERIES = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                   -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                   8.33333333333333333333e-2)


def special_helpers(ct: CType) -> str:
    """The C functions ``pg_erfinv`` and ``pg_digamma`` of ``ct`` (a float type)."""
    c = ct.compute
    suffix = "f" if c == "float" else ""

    def lit(v: float) -> str:
        return f"{v!r}{suffix}"

    def horner(coefficients, w: str) -> str:
        expr = lit(coefficients[0])
        for k in coefficients[1:]:
            expr = f"({expr} * {w} + {lit(k)})"
        return expr

    # Newton steps: 3 in double, 2 in float (each roughly doubles the correct digits)
    steps = 3 if c == "double" else 2
    return f"""
{c} pg_erfinv({c} y) {{
  if (!(y >= -{lit(1.0)} && y <= {lit(1.0)})) return NAN;
  if (y == {lit(1.0)} || y == -{lit(1.0)}) return copysign(({c})INFINITY, y);
  if (y == {lit(0.0)}) return y;
  const {c} a = fabs(y);
  const {c} w = -log(({lit(1.0)} - y) * ({lit(1.0)} + y));
  {c} ax;
  if (w < {lit(5.0)}) {{ const {c} t = w - {lit(2.5)}; ax = a * {horner(_CENTRAL, "t")}; }}
  else {{ const {c} t = sqrt(w) - {lit(3.0)}; ax = a * {horner(_TAIL, "t")}; }}
  const {c} rest = log1p(-a);
  for (int k = 0; k < {steps}; ++k) {{
    const {c} slope = {lit(1.1283791670955126)} * exp(-ax * ax);
    if (a > {lit(0.5)}) {{ const {c} tail = erfc(ax); ax += (log(tail) - rest) * tail / slope; }}
    else ax -= (erf(ax) - a) / slope;
  }}
  return copysign(ax, y);
}}
{c} pg_digamma({c} x) {{
  if (isnan(x) || x == -({c})INFINITY) return NAN;
  if (x == ({c})INFINITY) return x;
  if (x == {lit(0.0)}) return copysign(({c})INFINITY, -x);
  {c} result = {lit(0.0)};
  if (x < {lit(0.0)}) {{
    if (x == trunc(x)) return NAN;
    result = -{lit(3.141592653589793)} / tan({lit(3.141592653589793)} * fmod(x, {lit(1.0)}));
    x = {lit(1.0)} - x;
  }}
  while (x < {lit(10.0)}) {{ result -= {lit(1.0)} / x; x += {lit(1.0)}; }}
  if (x < {lit(1e17)}) {{ const {c} z = {lit(1.0)} / (x * x); result -= z * {horner(_DIGAMMA_SERIES, "z")}; }}
  return result + log(x) - {lit(0.5)} / x;
}}
"""
