"""Fused elementwise programs as one compiled loop (the cpu plugin's ``jit`` extra, Numba).

``NumpyBackend.fused_elementwise`` gets a chain of elementwise steps that a compiled
replay runs again and again (``plugrad.compile``). Run one NumPy call per step, each
step reads and writes whole arrays: a three-step update of a 100,000-element parameter
goes through memory three times plus a temporary. Here the chain becomes one Numba
loop over the elements that keeps every intermediate in a register and writes only
the program's outs: one pass.

The results must be the unfused kernels' bits (the ``fused_elementwise`` contract), so
only steps whose IEEE result is fixed by the operands are compiled, in float32 and
float64, each rounded to its step's dtype exactly as NumPy rounds it:

* ``add``, ``sub``, ``mul``, ``div``; ``pow`` by 2, 3, -1 and -2 as the products the
  unfused kernel computes (``x*x``, ``(x*x)*x``, ``1/x``, ``1/(x*x)``);
* ``abs``, ``sqrt`` (correctly rounded in both);
* the comparisons (a bool result), ``where`` on a bool condition (a select: bits are
  copied), ``copy`` between float32 and float64 or from bool, and ``copy`` of a scalar
  (a fill).

Nothing is compiled with ``fastmath`` (LLVM neither reassociates nor contracts a
multiply and an add into an FMA), and with NumPy's error model (a division by zero is
an infinity or a NaN, not an exception). A Python scalar operand is converted to the
step's dtype the way NumPy converts a "weak" scalar, once before the loop; a scalar that
would not convert exactly as NumPy does (an int past 2**24 for float32, a float out of
float32's range) sends the call back to the NumPy steps. Any other program, operand
kind or layout makes :func:`run` return False, and the caller runs the NumPy steps.
Operands are whole contiguous arrays of the result's size, or one element broadcast
(a 0-d tensor, an expanded scalar), which the loop reads once. One freedom the contract
leaves: where an operation meets two NaNs of different bits, either may come out (LLVM
may swap a commutative operation's operands, as NumPy's SIMD loops may).

A loop is compiled the first time a program is seen with those operand kinds (about
0.2 s; the first in a process about 1 s, Numba's own start) and kept for the process:
a recorded training step compiles its update chains once.
"""

from __future__ import annotations

import weakref

import numba
import numpy as np

__all__ = ["run", "compilable"]

_F32, _F64, _BOOL = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.bool_)
#: sets, not tuples: NumPy's ``dtype == None`` is True for float64 (None means the default
#: dtype), so ``None in (float32, float64)`` would be True
_FLOATS = frozenset({_F32, _F64})
_CASTABLE = frozenset({_F32, _F64, _BOOL})
_DTYPES = {"float32": _F32, "float64": _F64, "bool": _BOOL}
_ARITH = {"add": "({a} + {b})", "sub": "({a} - {b})", "mul": "({a} * {b})", "div": "({a} / {b})"}
_COMPARE = {"eq": "({a} == {b})", "ne": "({a} != {b})", "lt": "({a} < {b})", "le": "({a} <= {b})",
            "gt": "({a} > {b})", "ge": "({a} >= {b})"}
#: PyTorch's products for these exponents, as the unfused kernel (``_pow_by_products``)
_POW = {2: "({a} * {a})", 3: "(({a} * {a}) * {a})", -1: "({one} / {a})", -2: "({one} / ({a} * {a}))"}
#: (not ``neg``: NumPy flips a NaN's sign bit, Numba's ``-x`` is ``-0.0 - x``, which keeps it)
_UNARY = {"abs": "abs({a})", "sqrt": "np.sqrt({a})"}
#: the largest int each float dtype holds exactly with all smaller ones (NumPy converts a
#: larger Python int by way of float64: not always the correctly rounded float32)
_EXACT_INT = {_F32: 2 ** 24, _F64: 2 ** 53}
_F32_MAX = float(np.finfo(np.float32).max)

_kernels: dict = {}
_exponents: dict = {}            # program -> the input registers that are pow exponents
_recent: dict = {}               # id(program) -> its last call (a _Call)
_ANY = object()


def compilable(program: tuple) -> bool:
    """Whether every step of ``program`` is one this module compiles (as far as the program
    says: its operands' kinds and a ``pow`` exponent's value are seen at the call)."""
    for kind, op, _args, dtype_ in program:
        d = _DTYPES.get(getattr(dtype_, "name", None))
        if not (kind == "binary" and (op in _ARITH or op == "pow") and d in _FLOATS
                or kind == "binary" and op in _COMPARE and d is _BOOL
                or kind == "unary" and op in _UNARY and d in _FLOATS
                or kind in ("where", "copy") and d in _FLOATS):
            return False
    return True


def run(program: tuple, inputs: list, outs: list) -> bool:
    """Compute ``program`` in one compiled loop (compiled at its first sight); False when
    this module does not compile it (the program, its operands, or arrays that are not
    whole contiguous buffers of the outs' size), or this call's scalars would not convert
    as NumPy converts them: the caller then runs the NumPy steps. A scalar ``pow``
    exponent is part of the program (its value picks the formula): each value gets its
    own loop.

    A replay calls a program again and again with the same arrays: a call with the very
    arrays (and scalar types) of the program's last call skips the checks and the lookup."""
    recent = _recent.get(id(program))
    if recent is not None and recent.same(program, inputs, outs):
        return recent.kernel(inputs, outs)
    n = outs[0][1].size
    if not all(out.flags.c_contiguous and out.size == n for _, out in outs):
        return False
    kinds = []
    for a in inputs:
        if a.__class__ is not np.ndarray:
            kinds.append(a.__class__)
        elif a.flags.c_contiguous and a.size == n:
            kinds.append(a.dtype)
        elif a.size == 1 or not any(a.strides):      # one element, broadcast (a 0-d tensor, an expand)
            kinds.append((a.dtype, a.ndim))
        else:
            return False
    kinds = tuple(kinds)
    try:
        exponents = _exponents[program]
    except KeyError:
        exponents = _exponents[program] = tuple(args[1] for kind, op, args, _ in program
                                                if kind == "binary" and op == "pow" and args[1] < len(inputs))
    except TypeError:            # an unhashable constant in the program: not one of ours
        return False
    key = (program, kinds, tuple([(reg, out.dtype, _input_of(out, inputs)) for reg, out in outs]),
           tuple([_exponent_key(inputs[i]) for i in exponents]))
    try:
        compiled = _kernels[key]
    except KeyError:
        compiled = _kernels[key] = _build(program, inputs, kinds, outs)
    if compiled is None:
        return False
    _recent[id(program)] = _Call(program, inputs, outs, exponents, compiled)
    return compiled(inputs, outs)


class _Call:
    """A program's last call: the arrays (weakly: a replay's buffers may be freed), the
    scalars' types, the ``pow`` exponents' values, and the kernel it ran."""

    __slots__ = ("program", "inputs", "outs", "kernel")

    def __init__(self, program, inputs, outs, exponents, kernel):
        self.program, self.kernel = program, kernel
        self.inputs = [weakref.ref(a) if a.__class__ is np.ndarray else (a.__class__, a if i in exponents else _ANY)
                       for i, a in enumerate(inputs)]
        self.outs = [(reg, weakref.ref(out)) for reg, out in outs]

    def same(self, program, inputs, outs) -> bool:
        if program is not self.program or len(inputs) != len(self.inputs) or len(outs) != len(self.outs):
            return False
        for a, then in zip(inputs, self.inputs):
            if then.__class__ is tuple:
                if a.__class__ is not then[0] or then[1] is not _ANY and a != then[1]:
                    return False
            elif then() is not a:
                return False
        for (reg, out), (then_reg, then) in zip(outs, self.outs):
            if reg != then_reg or then() is not out:
                return False
        return True


def _exponent_key(v):
    """A scalar ``pow`` exponent as part of a kernel's key (its value picks the formula)."""
    return None if v.__class__ is np.ndarray else v if v == v else "nan"


def _input_of(out, inputs):
    """The index of the input that is ``out`` itself (an in-place step), or None. The loop
    then writes through the input's argument: LLVM vectorises a loop that reads and writes
    one array, but falls back to scalar code where two arguments overlap."""
    for i, a in enumerate(inputs):
        if a is out:
            return i
    return None


class _Kernel:
    """A compiled loop and how to pass it one call's arrays and scalars: ``args`` are the
    input positions passed (arrays, then the scalars, raw: the loop converts them),
    ``outs`` the positions in ``outs`` of the arrays passed as outs, ``checks`` the
    scalars whose value may not convert as NumPy converts it (``(input, int limit, is
    it used as float32)``)."""

    __slots__ = ("fn", "args", "outs", "checks", "ones", "source")

    def __init__(self, fn, args, outs, checks, ones, source):
        self.fn, self.args, self.outs, self.checks, self.source = fn, args, outs, checks, source
        self.ones = ones         # (position in args, index of the element) of one-element inputs

    def __call__(self, inputs, outs) -> bool:
        for i, limit, as_f32 in self.checks:
            v = inputs[i]
            if v.__class__ is int and not -limit <= v <= limit:
                return False
            if as_f32 and v.__class__ is float and abs(v) > _F32_MAX and v - v == 0.0:
                return False
        args = [inputs[i] for i in self.args]
        for k, index in self.ones:
            args[k] = args[k][index]                   # the element, as a NumPy scalar of its dtype
        self.fn(outs[0][1].size, *args, *[outs[o][1] for o in self.outs])
        return True


def _build(program, inputs, kinds, outs):
    """The :class:`_Kernel` of a program, or None (``inputs`` give the ``pow`` exponents)."""
    n_in = len(kinds)
    # a register's dtype (None: a Python scalar); a one-element array is passed as its element
    reg_dtype = [k[0] if k.__class__ is tuple else k if isinstance(k, np.dtype) else None for k in kinds]
    ones = [i for i in range(n_in) if kinds[i].__class__ is tuple]
    if any(d is not None and d not in _CASTABLE for d in reg_dtype):
        return None
    if any(not isinstance(k, np.dtype) and k.__class__ is not tuple and k not in (bool, int, float) for k in kinds):
        return None
    arrays = [i for i in range(n_in) if reg_dtype[i] is not None and i not in ones]
    scalars = {}                  # (input, dtype) -> argument name
    exponents = {i: inputs[i] for i in range(n_in) if kinds[i] is int or kinds[i] is float}

    def scalar(i, dtype_):
        if (i, dtype_) not in scalars:
            scalars[i, dtype_] = f"s{len(scalars)}"
        return scalars[i, dtype_]

    def operand(r, dtype_):
        """The source of register ``r`` as an operand of dtype ``dtype_``, or None."""
        if r < n_in and reg_dtype[r] is None:
            return scalar(r, dtype_)
        return f"r{r}" if reg_dtype[r] is dtype_ else None

    body = [f"        r{i} = a{i}[k]" for i in arrays]
    head = [f"    r{i} = e{i}" for i in ones]
    for j, step in enumerate(program):
        kind, op, args, dtype_ = step
        d = _DTYPES.get(getattr(dtype_, "name", None))
        r = n_in + j
        if kind != "copy" and all(reg_dtype[x] is None for x in args):
            return None              # no array operand: not a kernel call
        if kind == "binary" and op in _ARITH and d in _FLOATS:
            a, b = operand(args[0], d), operand(args[1], d)
            expr = None if a is None or b is None else _ARITH[op].format(a=a, b=b)
        elif kind == "binary" and op in _COMPARE and d is _BOOL:
            compute = next((reg_dtype[x] for x in args if reg_dtype[x] is not None), None)
            a, b = (operand(x, compute) for x in args) if compute in _FLOATS else (None, None)
            expr = None if a is None or b is None else _COMPARE[op].format(a=a, b=b)
        elif kind == "binary" and op == "pow" and d in _FLOATS and reg_dtype[args[1]] is None \
                and exponents.get(args[1]) in _POW:
            a = operand(args[0], d)
            expr = None if a is None else _POW[exponents[args[1]]].format(a=a, one=f"np.{d.name}(1.0)")
        elif kind == "unary" and op in _UNARY and d in _FLOATS:
            a = operand(args[0], d)
            expr = None if a is None else _UNARY[op].format(a=a)
        elif kind == "where" and d in _FLOATS and reg_dtype[args[0]] is _BOOL:
            a, b = operand(args[1], d), operand(args[2], d)
            expr = None if a is None or b is None else f"({a} if r{args[0]} else {b})"
        elif kind == "copy" and d in _FLOATS and reg_dtype[args[0]] is None:     # a fill
            expr = operand(args[0], d)
        elif kind == "copy" and d in _FLOATS and reg_dtype[args[0]] in _CASTABLE:
            expr = f"np.{d.name}(r{args[0]})"
        else:
            expr = None
        if expr is None:
            return None
        body.append(f"        r{r} = {expr}")
        reg_dtype.append(d)
    separate = []
    for o, (reg, out) in enumerate(outs):
        if reg_dtype[reg] is None or reg_dtype[reg] is not out.dtype:
            return None
        alias = _input_of(out, inputs)
        body.append(f"        a{alias}[k] = r{reg}" if alias is not None else f"        o{o}[k] = r{reg}")
        if alias is None:
            separate.append(o)
    passed = sorted({i for i, _ in scalars})
    flat = [f"a{i}" for i in arrays] + [f"o{o}" for o in separate]
    head += [f"    {v} = {v}.reshape(n)" for v in flat]
    head += [f"    {name} = np.{dtype_.name}(p{i})" for (i, dtype_), name in scalars.items()]
    params = [f"a{i}" for i in arrays] + [f"e{i}" for i in ones] + [f"p{i}" for i in passed] \
        + [f"o{o}" for o in separate]
    source = ("def fused(n, " + ", ".join(params) + "):\n" + "\n".join(head) + "\n    for k in range(n):\n"
              + "\n".join(body) + "\n")
    namespace = {"np": np}
    exec(compile(source, "<plugrad_cpu fused program>", "exec"), namespace)   # noqa: S102 - generated above
    fn = numba.njit(error_model="numpy", nogil=True)(namespace["fused"])
    checks = [(i, min(_EXACT_INT[d] for j, d in scalars if j == i), any(d is _F32 for j, d in scalars if j == i))
              for i in passed]
    elements = [(len(arrays) + k, (0,) * kinds[i][1]) for k, i in enumerate(ones)]
    return _Kernel(fn, arrays + ones + passed, separate, checks, elements, source)
