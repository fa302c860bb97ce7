"""Reductions over one axis, arg reductions and scans, all over a ``pg_rlayout``.

A work-item owns one position of the kept dims (or a run of ``l->run`` adjacent ones
along the innermost kept dim, so that a CPU device reads memory in order when the
reduced axis is not the innermost) and one chunk of the axis; the host cuts a long
axis into chunks and reduces the partial results with a second launch. Reducing
several axes is done by the host one axis at a time.
"""

from __future__ import annotations

from .common import KernelSpec, operand_argtypes
from .ctype import CType

_DECOMPOSE = """
    I row = row0;
    for (int d = 1; d < l->nd; ++d) {
        const I sh = l->shape[d];
        const I c = row % sh;
        row /= sh;
        bx += c * l->kx[d];
        bo += c * l->ko[d];
    }"""


def _rules(op: str, ct: CType):
    """(accumulator type, identity, combine(a, v) macro body, value-of-x expression)
    for one reduce op, or None when the op does not apply to the dtype."""
    c, u = ct.compute, ct.unsigned
    load = ct.load("p_x", "(i)")
    if op in ("any", "all"):
        return "uchar", ("0" if op == "any" else "1"), ("((a) | (v))" if op == "any" else "((a) & (v))"), \
            f"(uchar)({load} != 0)"
    if ct.kind == "b":       # bool sums saturate (logical or), products are logical and
        if op in ("max", "sum"):
            return "uchar", "0", "((a) | (v))", load
        return "uchar", "1", "((a) & (v))", load
    if op == "sum":
        comb = "((a) + (v))" if ct.is_float else f"(({c})(({u})(a) + ({u})(v)))"
        return c, "0", comb, load
    if op == "prod":
        comb = "((a) * (v))" if ct.is_float else f"(({c})(({u})(a) * ({u})(v)))"
        return c, "1", comb, load
    if op in ("max", "min"):
        cmp = ">" if op == "max" else "<"
        nan = " || isnan(v)" if ct.is_float else ""
        return c, (ct.lowest if op == "max" else ct.highest), f"((((v) {cmp} (a)){nan}) ? (v) : (a))", load
    return None


def reduce_kernel(op: str, ct: CType, idx) -> list:
    """``red_<op>``: out[kept] = op over the chunk of the axis (4 accumulators when a
    work-item owns one position, which breaks the dependency chain of the adds)."""
    rules = _rules(op, ct)
    if rules is None:
        return []
    acc, init, comb, value = rules
    out_storage = "uchar" if op in ("any", "all") else ct.storage
    store = (lambda i, v: f"p_o[{i}] = {v};") if out_storage == "uchar" else (lambda i, v: ct.store("p_o", i, v))
    name = f"red_{op}"
    src = f"""
#define {name}_COMB(a, v) {comb}
#define {name}_VAL(i) ({value})
__kernel void {name}(__constant pg_rlayout* l, __global {out_storage}* p_o, const I off_o,
                     __global const {ct.storage}* p_x, const I off_x) {{
    const I t = (I)get_global_id(0);
    const I sh0 = l->shape[0];
    const I nrun = (sh0 + l->run - 1) / l->run;
    const I q = t / l->nchunk;
    const I p = t - q * l->nchunk;
    const I row0 = q / nrun;
    if (row0 >= l->rows) return;
    const I j0 = (q - row0 * nrun) * l->run;
    I bx = off_x, bo = off_o;{_DECOMPOSE}
    bx += j0 * l->kx[0];
    bo += j0 * l->ko[0] + p * l->ps;
    const I r0 = p * l->chunk;
    const I r1 = min(r0 + l->chunk, l->R);
    const I rs = l->rs;
    const I jn = min(l->run, sh0 - j0);
    if (jn == 1) {{
        {acc} a0 = {init}, a1 = {init}, a2 = {init}, a3 = {init};
        I r = r0;
        for (; r + 4 <= r1; r += 4) {{
            const I i = bx + r * rs;
            a0 = {name}_COMB(a0, {name}_VAL(i));
            a1 = {name}_COMB(a1, {name}_VAL(i + rs));
            a2 = {name}_COMB(a2, {name}_VAL(i + 2 * rs));
            a3 = {name}_COMB(a3, {name}_VAL(i + 3 * rs));
        }}
        for (; r < r1; ++r) a0 = {name}_COMB(a0, {name}_VAL(bx + r * rs));
        a0 = {name}_COMB(a0, a1);
        a2 = {name}_COMB(a2, a3);
        a0 = {name}_COMB(a0, a2);
        {store("bo", "a0")}
        return;
    }}
    {acc} acc[RUN];
    for (int k = 0; k < RUN; ++k) acc[k] = {init};
    const I kx0 = l->kx[0];
    for (I r = r0; r < r1; ++r) {{
        const I xr = bx + r * rs;
        for (int k = 0; k < jn; ++k) acc[k] = {name}_COMB(acc[k], {name}_VAL(xr + k * kx0));
    }}
    const I ko0 = l->ko[0];
    for (int k = 0; k < jn; ++k) {{ {store("bo + k * ko0", "acc[k]")} }}
}}
"""
    return [KernelSpec(name, src, (None,) + operand_argtypes([0, 0], idx))]


def arg_kernel(op: str, ct: CType, idx) -> list:
    """``arg_<op>``: the int64 index of the first extreme value (NaN counts as the
    extreme). One work-item per kept position (``rows`` of them; ``run`` is 1).
    ``mode`` bit 1: the axis holds partial results of a first launch, so the index is
    looked up in ``p_i`` (laid out like x); bit 2: also write the winning value to
    ``p_v`` (laid out like out), for a second launch to combine."""
    c = ct.compute
    cmp = ">" if op == "argmax" else "<"
    better = f"(v {cmp} best || (isnan(v) && !isnan(best)))" if ct.is_float else f"(v {cmp} best)"
    name = f"arg_{op}"
    src = f"""
__kernel void {name}(__constant pg_rlayout* l, __global long* p_o, const I off_o, __global {ct.storage}* p_v,
                     const I off_v, __global const {ct.storage}* p_x, const I off_x,
                     __global const long* p_i, const I off_i, const int mode) {{
    const I t = (I)get_global_id(0);
    const I row0 = t / l->nchunk;
    const I p = t - row0 * l->nchunk;
    if (row0 >= l->rows) return;
    I bx = off_x, bo = off_o;
    I row = row0;
    for (int d = 0; d < l->nd; ++d) {{
        const I sh = l->shape[d];
        const I c = row % sh;
        row /= sh;
        bx += c * l->kx[d];
        bo += c * l->ko[d];
    }}
    bo += p * l->ps;
    const I r0 = p * l->chunk;
    const I r1 = min(r0 + l->chunk, l->R);
    const I rs = l->rs;
    {c} best = {ct.load("p_x", "bx + r0 * rs")};
    I at = r0;
    for (I r = r0 + 1; r < r1; ++r) {{
        const {c} v = {ct.load("p_x", "bx + r * rs")};
        if ({better}) {{ best = v; at = r; }}
    }}
    p_o[bo] = (mode & 1) ? p_i[off_i + (bx - off_x) + at * rs] : (long)at;
    if (mode & 2) {{ {ct.store("p_v", "off_v + (bo - off_o)", "best")} }}
}}
"""
    return [KernelSpec(name, src, (None, None, idx.np, None, idx.np, None, idx.np, None, idx.np, "int32"))]


def scan_kernel(op: str, ct: CType, idx) -> list:
    """``scan_<op>``: inclusive cumulative sum/product along the axis (out's axis stride
    is ``l->ps``); accumulates in float for float16."""
    rules = _rules("sum" if op == "cumsum" else "prod", ct)
    if rules is None:
        return []
    acc, init, comb, value = rules
    name = f"scan_{op}"
    src = f"""
#define {name}_COMB(a, v) {comb}
#define {name}_VAL(i) ({value})
__kernel void {name}(__constant pg_rlayout* l, __global {ct.storage}* p_o, const I off_o,
                     __global const {ct.storage}* p_x, const I off_x) {{
    const I t = (I)get_global_id(0);
    const I sh0 = l->shape[0];
    const I nrun = (sh0 + l->run - 1) / l->run;
    const I row0 = t / nrun;
    if (row0 >= l->rows) return;
    const I j0 = (t - row0 * nrun) * l->run;
    I bx = off_x, bo = off_o;{_DECOMPOSE}
    bx += j0 * l->kx[0];
    bo += j0 * l->ko[0];
    const I rs = l->rs, os = l->ps;
    const I jn = min(l->run, sh0 - j0);
    if (jn == 1) {{
        {acc} a = {init};
        for (I r = 0; r < l->R; ++r) {{
            a = {name}_COMB(a, {name}_VAL(bx + r * rs));
            {ct.store("p_o", "bo + r * os", "a")}
        }}
        return;
    }}
    {acc} acc[RUN];
    for (int k = 0; k < RUN; ++k) acc[k] = {init};
    const I kx0 = l->kx[0], ko0 = l->ko[0];
    for (I r = 0; r < l->R; ++r) {{
        for (int k = 0; k < jn; ++k) {{
            acc[k] = {name}_COMB(acc[k], {name}_VAL(bx + r * rs + k * kx0));
            {ct.store("p_o", "bo + r * os + k * ko0", "acc[k]")}
        }}
    }}
}}
"""
    return [KernelSpec(name, src, (None,) + operand_argtypes([0, 0], idx))]

