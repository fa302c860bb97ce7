"""Shared pieces of generated OpenCL C: the layout structs, index types and the
description of one kernel (its name, source and argument types)."""

from __future__ import annotations

from dataclasses import dataclass

#: Most dims a layout struct describes; layouts with more dims after coalescing are
#: split into several launches by the host.
MAXD = 8
#: Most operands (output included) of one elementwise kernel.
NOPS = 4


@dataclass(frozen=True)
class Index:
    """The integer type of element indices in one program: ``int`` for storages of
    fewer than 2**31 elements (fast on every device), ``long`` beyond."""

    c: str
    np: str


NARROW = Index("int", "int32")
WIDE = Index("long", "int64")


@dataclass(frozen=True)
class KernelSpec:
    """One kernel: its name, its source, and the NumPy dtype of each argument
    (None for buffers and structs passed as raw bytes), for ``set_scalar_arg_dtypes``."""

    name: str
    source: str
    argtypes: tuple


@dataclass(frozen=True)
class Operand:
    """A buffer operand of a kernel: ``p_<var>`` plus element offset ``off_<var>``."""

    var: str
    storage: str      # C element type
    writable: bool = False

    def params(self, idx: Index) -> str:
        const = "" if self.writable else "const "
        return f"__global {const}{self.storage}* p_{self.var}, const {idx.c} off_{self.var}"


def operand_argtypes(operands, idx: Index) -> tuple:
    return tuple(t for _ in operands for t in (None, idx.np))


def structs(idx: Index) -> str:
    """``pg_layout``: rows (product of all dims but the innermost), the row-major
    position of its first element (non-zero when the host splits a layout with more
    than MAXD dims into several launches), dims innermost first, one stride row per
    operand. ``pg_rlayout``: a reduction or scan over one
    axis (length R, input stride rs, partial/output-axis stride ps) for every position
    of the kept dims, ``run`` adjacent kept positions per work-item, the axis cut in
    ``nchunk`` chunks of ``chunk``."""
    i = idx.c
    return f"""
typedef {i} I;
typedef struct {{ I rows; I nd; I lin0; I shape[{MAXD}]; I st[{NOPS}][{MAXD}]; }} pg_layout;
typedef struct {{ I rows; I nd; I shape[{MAXD}]; I kx[{MAXD}]; I ko[{MAXD}];
                 I R; I rs; I chunk; I nchunk; I ps; I run; }} pg_rlayout;
/* storage index of operand k at row-major position lin */
I pg_offset(__constant pg_layout* l, const int k, I lin, I off) {{
    for (int d = 0; d < l->nd; ++d) {{
        const I sh = l->shape[d];
        off += (lin % sh) * l->st[k][d];
        lin /= sh;
    }}
    return off;
}}
"""
