"""Matrix product kernels over a ``pg_mm`` (rows [m0, m1) and columns [n0, n1) of
every batch, K, and the batch/row/column strides of a, b and out; a batch stride 0
broadcasts an operand).

* ``mm_generic``: any dtype, any strides, ragged edges; a work-item computes a 4x4
  block in registers. The fallback, and the edge strips of the others.
* ``mm_v16``: floats on CPU devices: a work-item computes 8 rows x 16 columns with
  16-wide vectors (what PoCL vectorises best); needs b and out rows with column
  stride 1 and only covers whole 8x16 tiles.
* ``mm_tiled``: floats on GPUs: 64x64 tiles staged through local memory by 16x16
  work-groups, each work-item accumulating 4x4 outputs; bounds-checked loads.
"""

from __future__ import annotations

from .common import KernelSpec
from .ctype import CType

MM_STRUCT = "typedef struct { I m0; I m1; I n0; I n1; I K; I sab; I sam; I sak; I sbb; I sbk; I sbn; " \
            "I sob; I som; I son; } pg_mm;\n"
MM_FIELDS = 14
_PARAMS = "(__constant pg_mm* p, __global {t}* p_o, const I off_o, __global const {t}* p_a, const I off_a, " \
          "__global const {t}* p_b, const I off_b)"


def _argtypes(idx) -> tuple:
    return (None, None, idx.np, None, idx.np, None, idx.np)


def _mac(ct: CType, acc: str, a: str, b: str) -> str:
    if ct.kind == "b":
        return f"{acc} | ({a} & {b})"
    if ct.is_float:
        return f"{acc} + {a} * {b}"
    u = ct.unsigned
    return f"({ct.compute})(({u}){acc} + ({u}){a} * ({u}){b})"


def generic_kernel(ct: CType, idx) -> list:
    c = ct.compute
    src = f"""
__kernel void mm_generic{_PARAMS.format(t=ct.storage)} {{
    const I j0 = p->n0 + (I)get_global_id(0) * 4;
    const I i0 = p->m0 + (I)get_global_id(1) * 4;
    const I bt = (I)get_global_id(2);
    if (i0 >= p->m1 || j0 >= p->n1) return;
    const I mi = min((I)4, p->m1 - i0), nj = min((I)4, p->n1 - j0);
    const I ab = off_a + bt * p->sab + i0 * p->sam, bb = off_b + bt * p->sbb + j0 * p->sbn;
    {c} acc[4][4];
    for (int r = 0; r < 4; ++r) for (int q = 0; q < 4; ++q) acc[r][q] = 0;
    for (I k = 0; k < p->K; ++k) {{
        {c} av[4], bv[4];
        for (int r = 0; r < 4; ++r) av[r] = r < mi ? {ct.load("p_a", "ab + r * p->sam + k * p->sak")} : 0;
        for (int q = 0; q < 4; ++q) bv[q] = q < nj ? {ct.load("p_b", "bb + k * p->sbk + q * p->sbn")} : 0;
        for (int r = 0; r < 4; ++r)
            for (int q = 0; q < 4; ++q) acc[r][q] = {_mac(ct, "acc[r][q]", "av[r]", "bv[q]")};
    }}
    const I ob = off_o + bt * p->sob + i0 * p->som + j0 * p->son;
    for (int r = 0; r < mi; ++r)
        for (int q = 0; q < nj; ++q) {{ {ct.store("p_o", "ob + r * p->som + q * p->son", "acc[r][q]")} }}
}}
"""
    return [KernelSpec("mm_generic", src, _argtypes(idx))]


def v16_kernel(ct: CType, idx) -> list:
    if not ct.is_float:
        return []
    vec = f"{ct.compute}16"
    if ct.is_half:
        vload, vstore = "vload_half16(0, p_b + ({i}))", "vstore_half16_rte({v}, 0, p_o + ({i}));"
    else:
        vload, vstore = "vload16(0, p_b + ({i}))", "vstore16({v}, 0, p_o + ({i}));"
    src = f"""
__kernel void mm_v16{_PARAMS.format(t=ct.storage)} {{
    const I j0 = (I)get_global_id(0) * 16;
    const I i0 = (I)get_global_id(1) * 8;
    const I bt = (I)get_global_id(2);
    if (i0 + 8 > p->m1 || j0 + 16 > p->n1) return;
    {vec} acc[8];
    for (int r = 0; r < 8; ++r) acc[r] = ({vec})(0);
    const I ab = off_a + bt * p->sab + i0 * p->sam, bb = off_b + bt * p->sbb + j0;
    for (I k = 0; k < p->K; ++k) {{
        const {vec} bv = {vload.format(i="bb + k * p->sbk")};
        const I ak = ab + k * p->sak;
        for (int r = 0; r < 8; ++r) acc[r] += {ct.load("p_a", "ak + r * p->sam")} * bv;
    }}
    const I ob = off_o + bt * p->sob + i0 * p->som + j0;
    for (int r = 0; r < 8; ++r) {vstore.format(v="acc[r]", i="ob + r * p->som")}
}}
"""
    return [KernelSpec("mm_v16", src, _argtypes(idx))]


def tiled_kernel(ct: CType, idx) -> list:
    if not ct.is_float:
        return []
    c = ct.compute
    src = f"""
__kernel __attribute__((reqd_work_group_size(16, 16, 1)))
void mm_tiled{_PARAMS.format(t=ct.storage)} {{
    __local {c} as[16][65];
    __local {c} bs[16][65];
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * 16 + tx;
    const I nb = p->n0 + (I)get_group_id(0) * 64, mb = p->m0 + (I)get_group_id(1) * 64;
    const I bt = (I)get_global_id(2);
    const I ab = off_a + bt * p->sab, bb = off_b + bt * p->sbb;
    {c} acc[4][4];
    for (int r = 0; r < 4; ++r) for (int q = 0; q < 4; ++q) acc[r][q] = 0;
    for (I k0 = 0; k0 < p->K; k0 += 16) {{
        for (int e = lid; e < 1024; e += 256) {{
            const int ka = e % 16, ma = e / 16;
            const I gi = mb + ma, gka = k0 + ka;
            as[ka][ma] = (gi < p->m1 && gka < p->K) ? {ct.load("p_a", "ab + gi * p->sam + gka * p->sak")} : 0;
            const int kb = e / 64, nbk = e % 64;
            const I gj = nb + nbk, gkb = k0 + kb;
            bs[kb][nbk] = (gj < p->n1 && gkb < p->K) ? {ct.load("p_b", "bb + gkb * p->sbk + gj * p->sbn")} : 0;
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < 16; ++kk) {{
            {c} av[4], bv[4];
            for (int r = 0; r < 4; ++r) av[r] = as[kk][ty + 16 * r];
            for (int q = 0; q < 4; ++q) bv[q] = bs[kk][tx + 16 * q];
            for (int r = 0; r < 4; ++r)
                for (int q = 0; q < 4; ++q) acc[r][q] += av[r] * bv[q];
        }}
        barrier(CLK_LOCAL_MEM_FENCE);
    }}
    const I ob = off_o + bt * p->sob;
    for (int r = 0; r < 4; ++r)
        for (int q = 0; q < 4; ++q) {{
            const I gi = mb + ty + 16 * r, gj = nb + tx + 16 * q;
            if (gi < p->m1 && gj < p->n1) {{ {ct.store("p_o", "ob + gi * p->som + gj * p->son", "acc[r][q]")} }}
        }}
}}
"""
    return [KernelSpec("mm_tiled", src, _argtypes(idx))]
