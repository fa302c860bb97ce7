"""Fused elementwise programs (``Backend.fused_elementwise``): one generated kernel per
program, operand dtypes and layout, built on first use and cached.

A work-item loads each input array element once, computes every step into a private
variable and stores the registers that are written out, so a chain of N kernels costs
one launch and one pass over memory instead of N. The results are bit-identical to
the unfused kernels because the generated code is made of the same pieces: each step's
C expression comes from :mod:`.kernels.ops` (as the unfused ``u_``/``b_`` kernels'),
casts from :func:`.kernels.ctype.convert`, and each intermediate is held in its step's
storage type (a float16 value is rounded to half after every step, as a store and a
load between two unfused kernels would). ``#pragma OPENCL FP_CONTRACT OFF`` keeps the
compiler from fusing a multiply of one step and an add of the next into an ``fma``,
which rounds once instead of twice; the helper functions some ops call (``pg_floordiv``,
``pg_erfinv``...) come before it, compiled exactly as in the unfused programs.

Layouts: ``c`` when every array is contiguous with the output's shape (index ``off +
i``), else ``s<nd>``: the dims coalesced (:func:`.plans.coalesce`), their sizes and every
operand's strides in a cached constant buffer, a run of ``RUN`` elements per work-item
along the innermost dim. A program whose layout keeps more than ``MAXD`` dims, or
that the unfused kernels could not run either (an op a dtype lacks), raises
:class:`Unfusable`, and the backend runs the unfused loop instead.
"""

from __future__ import annotations


import numpy as np
import pyopencl as cl

from .kernels.ctype import CTYPES, convert
from .kernels.ops import binary_expr, helpers, unary_expr
from .runtime import KernelInfo, build_program

#: built kernels kept; the cache is emptied beyond this (a replayed program is rebuilt once)
MAX_KERNELS = 512


class Unfusable(Exception):
    """This program cannot be generated as one kernel: the caller runs the loop."""


def _tagged(text: str, ct) -> str:
    """Helper names (``pg_floordiv``...) made unique per dtype, so that one kernel may use
    the helpers of several compute types (OpenCL C has no overloading)."""
    return text.replace("pg_", f"pg{ct.name}_")


def _op_expr(ct, expr: str) -> str:
    """An op's expression as the unfused kernel stores it: bool results stay 0/1."""
    if ct.kind == "b" and not expr.startswith("(uchar)"):
        return f"(uchar)(({expr}) != 0)"
    return expr


class FusedSource:
    """The OpenCL C of one program, for input ``kinds`` (a dtype name per input
    register, None for a Python scalar), written-out registers ``out_regs``, a layout
    (``"c"`` or ``"s<nd>"``), an index type and a RUN length.

    ``arrays`` lists the kernel's array operands in argument order (``("o", k)`` for
    the k-th out, ``("i", r)`` for input register r); ``scalars`` lists ``(register,
    dtype name)`` for each scalar argument, passed in that dtype's compute type.
    ``source`` is the whole program; ``kernel`` its kernel function alone, and
    ``helper_types`` the compute types whose helper functions it calls (what
    :mod:`.prepared` needs to put the kernel into a larger program)."""

    def __init__(self, program, kinds, out_regs, layout, idx, run, fp64):
        ninputs = len(kinds)
        self.ctypes = [CTYPES[k] if k is not None else None for k in kinds]
        self.scalars = []
        self._helpers = {}
        lines = [self._step(ninputs + i, step) for i, step in enumerate(program)]
        self.helper_types = list(self._helpers.values())
        out_cts = []
        for reg in out_regs:
            if self.ctypes[reg] is None:
                raise Unfusable("a scalar register written out")
            out_cts.append(self.ctypes[reg])
        loads = [r for r in range(ninputs) if kinds[r] is not None]
        self.arrays = [("o", k) for k in range(len(out_regs))] + [("i", r) for r in loads]
        names = [f"o{k}" for k in range(len(out_regs))] + [f"a{r}" for r in loads]
        storages = [ct.storage for ct in out_cts] + [self.ctypes[r].storage for r in loads]
        params = [f"__global {'' if v[0] == 'o' else 'const '}{s}* p_{v}, const I off_{v}"
                  for v, s in zip(names, storages)]
        params += [f"const {CTYPES[d].compute} s{r}_{d}" for r, d in self.scalars]
        body = ([f"const {self.ctypes[r].compute} r{r} = {self.ctypes[r].load(f'p_a{r}', f'i_a{r}')};"
                 for r in loads] + lines
                + [ct.store(f"p_o{k}", f"i_o{k}", f"r{reg}") for k, (reg, ct) in enumerate(zip(out_regs, out_cts))])
        # the helper functions first, compiled as in the unfused programs (which may contract
        # within one op); then contraction off for the kernel, whose steps must round apart
        head = "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" if fp64 else ""
        head += "".join(_tagged(helpers(ct), ct) for ct in self._helpers.values())
        head += "#pragma OPENCL FP_CONTRACT OFF\n"
        head += (f"typedef {idx.c} I;\n"
                 "float pg_round_half(float v) { ushort h; vstore_half_rte(v, 0, (half*)&h); "
                 "return vload_half(0, (const half*)&h); }\n")
        if fp64:
            head += ("float pg_round_half_d(double v) { ushort h; vstore_half_rte(v, 0, (half*)&h); "
                     "return vload_half(0, (const half*)&h); }\n")
        plist = ", ".join(params)
        if layout == "c":
            index = "\n".join(f"    const I i_{v} = off_{v} + i;" for v in names)
            statements = "\n".join("    " + s for s in body)
            self.kernel = f"""
__kernel void fused(const I n, {plist}) {{
    const I i = (I)get_global_id(0);
    if (i >= n) return;
{index}
{statements}
}}
"""
            self.source = head + self.kernel
            return
        nd = int(layout[1:])
        # L: rows, shape[nd] innermost first, then nd strides per operand (innermost first)
        base = "\n".join(f"    I b_{v} = off_{v};" for v in names)
        step = " ".join(f"b_{v} += c * L[{1 + nd * (k + 1)} + d];" for k, v in enumerate(names))
        inner = "\n".join(f"    const I s_{v} = L[{1 + nd * (k + 1)}];" for k, v in enumerate(names))
        index = "\n".join(f"        const I i_{v} = b_{v} + j * s_{v};" for v in names)
        statements = "\n".join("        " + s for s in body)
        self.kernel = f"""
__kernel void fused(__constant I* L, {plist}) {{
    const I t = (I)get_global_id(0);
    const I sh0 = L[1];
    const I nrun = (sh0 + {run} - 1) / {run};
    const I row0 = t / nrun;
    if (row0 >= L[0]) return;
    const I j0 = (t - row0 * nrun) * {run};
    const I j1 = min(j0 + (I){run}, sh0);
{base}
    I row = row0;
    for (int d = 1; d < {nd}; ++d) {{
        const I sh = L[1 + d];
        const I c = row % sh;
        row /= sh;
        {step}
    }}
{inner}
    for (I j = j0; j < j1; ++j) {{
{index}
{statements}
    }}
}}
"""
        self.source = head + self.kernel

    def _operand(self, r: int, ct) -> str:
        """Register r read as ``ct``'s compute type: its variable, or the scalar argument."""
        if self.ctypes[r] is None:
            if (r, ct.name) not in self.scalars:
                self.scalars.append((r, ct.name))
            return f"s{r}_{ct.name}"
        return f"r{r}"

    def _assign(self, r: int, ct, expr: str, bindings) -> str:
        """``r<r> = expr`` with the operands bound to ``x``/``y`` (of ``ct``'s compute type);
        the result is held in its storage type (bool as uchar 0/1, float16 rounded)."""
        out_ct = CTYPES["bool"] if expr.startswith("(uchar)") else ct
        self.ctypes.append(out_ct)
        expr = _op_expr(ct, expr)
        if "pg_" in expr:
            self._helpers[ct.name] = ct
            expr = _tagged(expr, ct)
        if out_ct.is_half:
            expr = f"pg_round_half({expr})"
        binds = " ".join(f"const {'int' if name == 'sm' else ct.compute} {name} = {value};"
                         for name, value in bindings)
        return f"{out_ct.compute} r{r}; {{ {binds} r{r} = {expr}; }}"

    def _step(self, r: int, step) -> str:
        kind, op, args, dt = step
        cts = [self.ctypes[a] for a in args]
        if kind in ("unary", "binary"):
            ct = next((c for c in cts if c is not None), None)
            expr = None
            if ct is not None:
                expr = unary_expr(op, ct) if kind == "unary" else binary_expr(op, ct)
            if expr is None or ct.name != dt.name and not expr.startswith("(uchar)"):
                raise Unfusable(f"{kind} '{op}' for {ct.name if ct else 'scalars'} into {dt.name}")
            names = ("x",) if kind == "unary" else ("x", "y")
            bindings = [(n, self._operand(a, ct)) for n, a in zip(names, args)]
            if kind == "binary":           # the unfused kernel's scalar mode, which pow reads
                sm = 2 if cts[0] is None else 1 if cts[1] is None else 0
                bindings.append(("sm", str(sm)))
            return self._assign(r, ct, expr, bindings)
        out_ct = CTYPES[dt.name]
        if kind == "where":
            if cts[0] is None or cts[0].kind != "b":
                raise Unfusable("where's condition is not a bool array")
            self.ctypes.append(out_ct)
            value = f"(r{args[0]} ? {self._operand(args[1], out_ct)} : {self._operand(args[2], out_ct)})"
            if out_ct.is_half:             # a scalar branch is rounded by the unfused kernel's store
                value = f"pg_round_half({value})"
            return f"const {out_ct.compute} r{r} = {value};"
        if kind == "copy":
            src = cts[0]
            self.ctypes.append(out_ct)
            if src is None:                # a fill: the scalar as the fill kernel gets it, stored alike
                value = self._operand(args[0], out_ct)
                if out_ct.is_half:
                    value = f"pg_round_half({value})"
                return f"const {out_ct.compute} r{r} = {value};"
            if out_ct.is_half and src.name == "float64":          # one rounding, as the cast kernel
                return f"const float r{r} = pg_round_half_d(r{args[0]});"
            value = convert(f"r{args[0]}", src, out_ct)
            if out_ct.is_half:
                value = f"pg_round_half({value})"
            return f"const {out_ct.compute} r{r} = {value};"
        raise Unfusable(f"step kind {kind!r}")


class FusedKernels:
    """The built fused kernels of one device, by (program, input kinds, outs, layout)."""

    def __init__(self, rt, fp64: bool, run: int):
        self.rt = rt
        self.fp64 = fp64
        self.run = run
        self._kernels = {}

    def get(self, key, program, kinds, out_regs, layout, idx):
        """``(kernel, FusedSource)`` of the key, generated and built on first use; raises
        :class:`Unfusable` (remembered, so the loop is chosen at once the next time)."""
        hit = self._kernels.get(key)
        if hit is not None:
            if hit is Unfusable:
                raise Unfusable("remembered")
            return hit
        try:
            src = FusedSource(program, kinds, out_regs, layout, idx, self.run, self.fp64)
        except Unfusable:
            self._remember(key, Unfusable)
            raise
        prg = build_program(self.rt.ctx, src.source, f"{self.rt.label()}: building a fused elementwise kernel failed")
        knl = cl.Kernel(prg, "fused")
        argtypes = [None if layout != "c" else np.dtype(idx.np)]
        argtypes += [None, np.dtype(idx.np)] * len(src.arrays)
        argtypes += [np.dtype(CTYPES[d].scalar_np) for _, d in src.scalars]
        knl.set_scalar_arg_dtypes(argtypes)
        knl.plugrad = KernelInfo(prg, "fused", tuple(argtypes), src, "fused", idx)
        return self._remember(key, (knl, src))

    def _remember(self, key, value):
        if len(self._kernels) >= MAX_KERNELS:
            self._kernels.clear()
        self._kernels[key] = value
        return value
