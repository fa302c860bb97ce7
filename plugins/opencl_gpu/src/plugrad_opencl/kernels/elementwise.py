"""Elementwise kernels: unary, binary, where, cast-copy and fill, each in two forms.

``<name>_c`` is the contiguous fast path: one element per work-item, index
``off + i`` for every operand. ``<name>_s`` is the general strided path over a
``pg_layout``: a work-item takes one row position (the nd-index of every dim but the
innermost, decomposed once) and a run of ``RUN`` elements along the innermost dim,
so the divisions are paid once per run and a CPU device walks memory in order.
Broadcast operands have stride 0. Both forms define ``lin``, the row-major position
of the element in the output, for kernels whose value depends on it (``put_keys``).
"""

from __future__ import annotations

from .common import KernelSpec, Operand, operand_argtypes
from .ctype import CType, convert
from .ops import binary_expr, unary_expr


def pair(name: str, operands: list, scalars: list, body: str, idx, extras: tuple = ()) -> list:
    """Both forms of one elementwise kernel. ``scalars`` are ``(c_type, name, np_dtype)``;
    ``extras`` are further ``(declaration, np_dtype)`` parameters (a whole storage for
    indexing); ``body`` reads ``i_<var>`` (the element index of each operand) and ``lin``."""
    params = ", ".join([op.params(idx) for op in operands] + [f"const {t} {n}" for t, n, _ in scalars]
                       + [decl for decl, _ in extras])
    sargs = tuple(np for _, _, np in scalars) + tuple(np for _, np in extras)
    oargs = operand_argtypes(operands, idx)
    cidx = "\n".join(f"    const I i_{op.var} = off_{op.var} + i;" for op in operands)
    contiguous = f"""
__kernel void {name}_c(const I n, {params}) {{
    const I i = (I)get_global_id(0);
    if (i >= n) return;
    const I lin = i;
{cidx}
    {body}
}}
"""
    base = "\n".join(f"    I b_{op.var} = off_{op.var};" for op in operands)
    step = " ".join(f"b_{op.var} += c * l->st[{k}][d];" for k, op in enumerate(operands))
    inner = "\n".join(f"    const I s_{op.var} = l->st[{k}][0];" for k, op in enumerate(operands))
    eidx = "\n".join(f"        const I i_{op.var} = b_{op.var} + j * s_{op.var};" for op in operands)
    strided = f"""
__kernel void {name}_s(__constant pg_layout* l, {params}) {{
    const I t = (I)get_global_id(0);
    const I sh0 = l->shape[0];
    const I nrun = (sh0 + RUN - 1) / RUN;
    const I row0 = t / nrun;
    if (row0 >= l->rows) return;
    const I j0 = (t - row0 * nrun) * RUN;
    const I j1 = min(j0 + (I)RUN, sh0);
{base}
    I row = row0;
    for (int d = 1; d < l->nd; ++d) {{
        const I sh = l->shape[d];
        const I c = row % sh;
        row /= sh;
        {step}
    }}
{inner}
    for (I j = j0; j < j1; ++j) {{
        const I lin = l->lin0 + row0 * sh0 + j;
{eidx}
        {body}
    }}
}}
"""
    idx_np = idx.np
    return [KernelSpec(f"{name}_c", contiguous, (idx_np,) + oargs + sargs),
            KernelSpec(f"{name}_s", strided, (None,) + oargs + sargs)]


def unary_kernels(op: str, ct: CType, idx) -> list:
    """``u_<op>``: out = op(x); a predicate's out is bool."""
    expr = unary_expr(op, ct)
    if expr is None:
        return []
    out_storage = "uchar" if expr.startswith("(uchar)") else ct.storage
    out = Operand("o", out_storage, True)
    store = f"p_o[i_o] = {expr};" if out_storage == "uchar" and ct.storage != "uchar" else \
        ct.store("p_o", "i_o", _normalized(ct, expr))
    body = f"const {ct.compute} x = {ct.load('p_x', 'i_x')}; {store}"
    return pair(f"u_{op}", [out, Operand("x", ct.storage)], [], body, idx)


def _normalized(ct: CType, expr: str) -> str:
    """bool results must stay 0/1 (``True + True`` is ``True``)."""
    return f"(uchar)(({expr}) != 0)" if ct.kind == "b" else expr


def binary_kernels(op: str, ct: CType, idx) -> list:
    """``b_<op>``: out = op(a, b). One operand may be the scalar ``s``: ``sm`` is 0 for two
    arrays, 1 when b is the scalar, 2 when a is (its buffer is then a dummy)."""
    expr = binary_expr(op, ct)
    if expr is None:
        return []
    comparison = expr.startswith("(uchar)")
    out = Operand("o", "uchar" if comparison else ct.storage, True)
    c = ct.compute
    load = (f"const {c} x = sm == 2 ? s : {ct.load('p_a', 'i_a')}; "
            f"const {c} y = sm == 1 ? s : {ct.load('p_b', 'i_b')}; ")
    store = f"p_o[i_o] = {expr};" if comparison else ct.store("p_o", "i_o", _normalized(ct, expr))
    return pair(f"b_{op}", [out, Operand("a", ct.storage), Operand("b", ct.storage)],
                [(c, "s", ct.scalar_np), ("int", "sm", "int32")], load + store, idx)


def where_kernels(ct: CType, idx) -> list:
    """``where``: out = cond ? a : b; a and/or b may be scalars (``am``/``bm`` set)."""
    c = ct.compute
    body = (f"const {c} v = p_c[i_c] ? (am ? sa : {ct.load('p_a', 'i_a')}) : (bm ? sb : {ct.load('p_b', 'i_b')}); "
            + ct.store("p_o", "i_o", "v"))
    ops = [Operand("o", ct.storage, True), Operand("c", "uchar"), Operand("a", ct.storage), Operand("b", ct.storage)]
    scalars = [(c, "sa", ct.scalar_np), ("int", "am", "int32"), (c, "sb", ct.scalar_np), ("int", "bm", "int32")]
    return pair("where", ops, scalars, body, idx)


def cast_kernels(src: CType, dst: CType, idx) -> list:
    """``cast_<src>``: out (this program's dtype) = src converted with PyTorch's rules."""
    if dst.is_half and src.name == "float64":
        body = f"vstore_half_rte({src.load('p_x', 'i_x')}, i_o, p_o);"   # one rounding, not two
    else:
        body = dst.store("p_o", "i_o", convert(src.load("p_x", "i_x"), src, dst))
    return pair(f"cast_{src.name}", [Operand("o", dst.storage, True), Operand("x", src.storage)], [], body, idx)


def fill_kernels(ct: CType, idx) -> list:
    """``fill``: every element of out = v."""
    return pair("fill", [Operand("o", ct.storage, True)], [(ct.compute, "v", ct.scalar_np)],
                ct.store("p_o", "i_o", "v"), idx)
