"""The ``fused`` column: ``Backend.fused_elementwise`` against the device's own unfused
kernels.

For an op that is an elementwise kernel (``UNARY_OPS``, ``BINARY_OPS``, ``where``), each
example is a random program containing that kernel in the case's dtype, amid other
elementwise steps (unary ops, binary ops with arrays and Python scalars, comparisons,
``where``, casts to another dtype), over random shapes with broadcast, transposed and
strided inputs and several outs, some strided. The device's ``fused_elementwise`` must
write exactly the bits that the default (``plugrad.extend.Backend.fused_elementwise``,
the unfused kernels step by step) writes on the same device: the contract that lets
``plugrad.compile`` fuse a chain and still give eager's bits. One freedom: where an
operation meets two NaNs of different bits, which of them comes out (see
:func:`_nans_alike`).

Arrays are made and read through the kernel interface itself (``from_bytes``, ``view``,
``to_bytes``): the check exercises a kernel, not an op.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plugrad
from hypothesis import strategies as st
from plugrad.extend import BINARY_OPS, UNARY_OPS, Backend

from ..compare import Mismatch
from .base import PREFERRED, Check

__all__ = ["FUSED", "kernel_of", "program_ops"]

#: the opdb op whose name differs from its kernel's
_KERNEL_OF_OP = {"floor_divide": "floordiv"}
_FLOAT_ONLY_UNARY = frozenset(UNARY_OPS - {"bitwise_not"})
_INT_UNARY = frozenset({"neg", "abs", "sign", "bitwise_not", "logical_not", "isnan", "isinf", "isfinite"})
_BOOL_UNARY = frozenset({"logical_not", "bitwise_not"})
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
_LOGICAL = ("logical_and", "logical_or", "logical_xor")
_FLOAT_BINARY = frozenset({"add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2", "copysign",
                           "floordiv", "remainder", "fmod", *_COMPARISONS, *_LOGICAL})
_INT_BINARY = frozenset({"add", "sub", "mul", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor",
                         *_COMPARISONS, *_LOGICAL})
#: integer ops whose right operand is a Python scalar: a non-zero divisor, a non-negative exponent
_INT_SCALAR_RIGHT = frozenset({"floordiv", "remainder", "fmod", "pow"})
_BOOL_BINARY = frozenset({"bitwise_and", "bitwise_or", "bitwise_xor", "eq", "ne", *_LOGICAL})


def _kind(dtype_name: str) -> str:
    return "f" if dtype_name.startswith("float") else "b" if dtype_name == "bool" else "i"


def program_ops(dtype_name: str) -> tuple:
    """``(unary ops, binary ops with two arrays, binary ops with a scalar right operand)``
    a program of ``dtype_name`` draws from."""
    kind = _kind(dtype_name)
    if kind == "f":
        return _FLOAT_ONLY_UNARY, _FLOAT_BINARY, _FLOAT_BINARY
    if kind == "b":
        return _BOOL_UNARY, _BOOL_BINARY, _BOOL_BINARY
    unary = _INT_UNARY - {"neg"} if dtype_name == "uint8" else _INT_UNARY
    return unary, _INT_BINARY, _INT_BINARY | _INT_SCALAR_RIGHT


def kernel_of(op_name: str):
    """``(kind, kernel op)`` of an opdb op that is one elementwise kernel, else None."""
    name = _KERNEL_OF_OP.get(op_name, op_name)
    if name == "where":
        return ("where", None)
    if name in UNARY_OPS:
        return ("unary", name)
    if name in BINARY_OPS:
        return ("binary", name)
    return None


def _valid(kind: str, name, dtype_name: str) -> bool:
    unary, binary, scalar_right = program_ops(dtype_name)
    if kind == "where":
        return True
    return name in (unary if kind == "unary" else scalar_right)


def _fused_cases(op, device):
    found = kernel_of(op.name) if op.alias_target is None else None
    if found is None:
        return []
    cases = [(name, None) for name in PREFERRED if device.supports(name) and _valid(*found, name)]
    return cases or [("-", "the device supports no dtype this kernel has")]


@dataclass(frozen=True)
class ProgramSample:
    """A drawn program description (see ``_build``). It has no op arguments
    (``args``/``kwargs`` are empty), so the runner's one-line repro does not apply: the
    failure message prints the program itself."""

    shape: tuple
    inputs: tuple
    plan: tuple
    outs: tuple
    seed: int
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@st.composite
def _programs(draw, kind, name, dtype_name):
    """A :class:`ProgramSample`: shape, input layouts, steps, out layouts and a seed."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    layouts = ["contiguous", "broadcast", "strided"] + (["transposed"] if ndim >= 2 else [])
    inputs = [draw(st.sampled_from(layouts)) for _ in range(draw(st.integers(1, 3)))]
    unary, binary, scalar_right = program_ops(dtype_name)
    plan = []
    nsteps = draw(st.integers(1, 5))
    target = draw(st.integers(0, nsteps))
    for i in range(nsteps + 1):
        if i == target:
            plan.append((kind, name, draw(st.booleans())))
            continue
        choice = draw(st.sampled_from(("unary", "binary", "scalar", "where", "cast")))
        if choice == "unary":
            plan.append(("unary", draw(st.sampled_from(sorted(unary))), False))
        elif choice in ("binary", "scalar"):
            ops = sorted(binary if choice == "binary" else scalar_right)
            plan.append(("binary", draw(st.sampled_from(ops)), choice == "scalar"))
        else:
            plan.append((choice, None, draw(st.booleans())))
    outs = draw(st.lists(st.sampled_from(("contiguous", "strided")), min_size=1, max_size=3))
    return ProgramSample(shape, tuple(inputs), tuple(plan), tuple(outs), draw(st.integers(0, 2 ** 31)))


_SPECIAL = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 2.0, 1e-30)


def _host_values(rng, dtype_name: str, n: int) -> np.ndarray:
    if dtype_name == "bool":
        return rng.random(n) < 0.5
    if _kind(dtype_name) == "i":
        lo = 0 if dtype_name == "uint8" else -20
        return rng.integers(lo, 21, n).astype(dtype_name)
    v = rng.standard_normal(n) * 3
    mask = rng.random(n) < 0.15
    v[mask] = rng.choice(_SPECIAL, int(mask.sum()))
    return v.astype(dtype_name)


class _Builder:
    """Arrays on the device under test, through the kernel interface."""

    def __init__(self, backend, rng):
        self.backend, self.rng = backend, rng

    def array(self, shape, dtype, layout, values=True):
        d = plugrad.dtypes.dtype_from_name(dtype) if isinstance(dtype, str) else dtype
        b = self.backend
        if layout == "broadcast":          # size-1 dims where the draw says so: stride 0 when broadcast
            shape = tuple(n if self.rng.random() < 0.5 else 1 for n in shape)
            layout = "contiguous"
        n = int(np.prod(shape))
        if layout == "contiguous":
            storage_shape, strides, view_shape = shape, None, shape
        elif layout == "transposed":
            storage_shape = tuple(reversed(shape))
            rev = [int(np.prod(storage_shape[k + 1:])) for k in range(len(shape))]
            strides, view_shape = tuple(reversed(rev)), shape
        else:                              # every other element of a storage twice as long, offset 1
            storage_shape = (2 * n + 1,)
            strides = tuple(2 * int(np.prod(shape[k + 1:])) for k in range(len(shape)))
            view_shape = shape
        count = int(np.prod(storage_shape))
        host = _host_values(self.rng, d.name, count) if values else np.zeros(count, d.name)
        base = b.from_bytes(host.tobytes(), storage_shape, d)
        if strides is None:
            return base
        return b.view(base, view_shape, strides, 1 if layout == "strided" else 0)


def _scalar(rng, dtype_name: str, op):
    kind = _kind(dtype_name)
    if kind == "b":
        return bool(rng.random() < 0.5)
    if kind == "i":
        if op == "pow":
            return int(rng.integers(0, 4))
        value = int(rng.integers(1, 6))
        return value if dtype_name == "uint8" or rng.random() < 0.5 else -value
    return float(rng.choice((0.5, -1.25, 3.0, 1.0001, 2.0, -0.0, -1.0, -2.0, -0.5)))   # pow's special exponents


def _build(backend, spec, dtype_name):
    """``(program, inputs, out factory)`` from a drawn description. Steps refer to
    ``("i", k)`` (input k) and ``("s", j)`` (step j) while the program grows, since a
    step may add a scalar input; registers are numbered at the end."""
    rng = np.random.default_rng(spec.seed)
    make = _Builder(backend, rng)
    shape = spec.shape
    inputs = [make.array(shape, dtype_name, layout) for layout in spec.inputs]
    types = {("i", k): dtype_name for k in range(len(inputs))}       # the dtype of each register
    steps = []
    # casts whose result C defines (no NaN or out-of-range float to an integer)
    others = [n for n in PREFERRED if n != dtype_name and plugrad.dtypes.dtype_from_name(n) in backend.dtypes
              and (_kind(dtype_name) != "f" or _kind(n) != "i")]

    def pick(dtype):
        regs = [r for r, t in types.items() if t == dtype]
        return regs[int(rng.integers(len(regs)))] if regs else None

    def add(kind, op, args, dtype):
        steps.append((kind, op, args, plugrad.dtypes.dtype_from_name(dtype)))
        types[("s", len(steps) - 1)] = dtype
        return ("s", len(steps) - 1)

    def scalar(op):
        inputs.append(_scalar(rng, dtype_name, op))
        types[("i", len(inputs) - 1)] = "scalar"
        return ("i", len(inputs) - 1)

    for kind, op, flag in spec.plan:
        a = pick(dtype_name)
        if kind == "unary":
            add("unary", op, (a,), "bool" if op in ("logical_not", "isnan", "isinf", "isfinite") else dtype_name)
        elif kind == "binary":
            scalar_right = flag or _kind(dtype_name) == "i" and op in _INT_SCALAR_RIGHT
            b = scalar(op) if scalar_right else pick(dtype_name)
            args = (b, a) if scalar_right and _kind(dtype_name) == "f" and rng.random() < 0.3 else (a, b)
            add("binary", op, args, "bool" if op in _COMPARISONS or op in _LOGICAL else dtype_name)
        elif kind == "where":
            c = pick("bool")
            if c is None:
                c = add("binary", "gt" if dtype_name != "bool" else "ne", (a, pick(dtype_name)), "bool")
            b = scalar("where") if flag else pick(dtype_name)
            add("where", None, (c, a, b) if rng.random() < 0.5 else (c, b, a), dtype_name)
        elif others:                          # a cast away, and maybe back
            r = add("copy", None, (a,), others[int(rng.integers(len(others)))])
            if flag:
                add("copy", None, (r,), dtype_name)
    if not steps:
        add("unary", "logical_not", (pick(dtype_name),), "bool")

    def reg(ref):
        return ref[1] if ref[0] == "i" else len(inputs) + ref[1]
    program = tuple((kind, op, tuple(reg(a) for a in args), d) for kind, op, args, d in steps)
    last = len(steps) - 1
    chosen = [last] + [int(rng.integers(len(steps))) for _ in spec.outs[1:]]

    def fresh_outs():
        return [(len(inputs) + j, make.array(shape, types[("s", j)], layout, values=False))
                for j, layout in zip(chosen, spec.outs)]
    return program, inputs, fresh_outs


def run_fused(ctx, op, dtype, sample):
    """The device's ``fused_elementwise`` writes the default loop's bits."""
    backend = ctx.device.backend
    ctx.current = {}
    program, inputs, fresh_outs = _build(backend, sample, dtype.name)
    want, got = fresh_outs(), fresh_outs()
    Backend.fused_elementwise(backend, program, inputs, [(r, a) for r, a in want])
    backend.fused_elementwise(program, inputs, [(r, a) for r, a in got])
    dtypes = [program[reg - len(inputs)][3].name for reg, _ in want]
    for (reg, w), (_, g), dtype_name in zip(want, got, dtypes):
        wb, gb = backend.to_bytes(w), backend.to_bytes(g)
        if wb != gb and _nans_alike(wb, dtype_name) != _nans_alike(gb, dtype_name):
            raise Mismatch(f"fused_elementwise wrote other bits than the unfused kernels for register {reg} "
                           f"of the program {program} (inputs {[type(x).__name__ for x in inputs]}, shape "
                           f"{sample.shape}, layouts {sample.inputs}): expected {wb.hex()}, got {gb.hex()}")


#: (unsigned type, exponent mask, fraction mask) of each float dtype's bit pattern
_FLOAT_BITS = {"float64": (np.uint64, 0x7FF0000000000000, 0x000FFFFFFFFFFFFF),
               "float32": (np.uint32, 0x7F800000, 0x007FFFFF),
               "float16": (np.uint16, 0x7C00, 0x03FF), "bfloat16": (np.uint16, 0x7F80, 0x007F)}


def _nans_alike(data: bytes, dtype_name: str) -> bytes:
    """The bytes with every NaN of a float dtype made the same NaN. Which NaN comes out of
    an operation on two NaNs of different bits (sign, payload) is left open by IEEE 754,
    and a compiler or a SIMD loop may take either operand's: the contract is every other
    bit."""
    if dtype_name not in _FLOAT_BITS:
        return data
    utype, exponent, fraction = _FLOAT_BITS[dtype_name]
    bits = np.frombuffer(data, utype).copy()
    bits[((bits & utype(exponent)) == exponent) & ((bits & utype(fraction)) != 0)] = exponent | fraction
    return bits.tobytes()


def _strategy(ctx, op, dtype):
    kind, name = kernel_of(op.name)
    return _programs(kind, name, dtype.name)


FUSED = Check("fused", "fused_elementwise on random programs with the op gives the bits of the device's own "
              "unfused kernels", _fused_cases, run_fused, _strategy, None, {"ci": 1, "thorough": 40})
