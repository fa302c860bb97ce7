"""Gather/scatter by storage position (take, put) and nonzero.

``put`` with accumulation has two implementations:

* atomics (``put_acc``): ``atomic_add``/``atom_add`` for 32/64-bit integers, a
  compare-and-swap on the aligned 32-bit word holding the element for 8/16-bit
  dtypes (storages start at their buffer's start and buffers are padded to 8 bytes,
  so the word is always inside the buffer), and a compare-and-swap loop for floats
  (OpenCL 1.2 has no float atomics). Integer sums do not depend on the order, float
  sums do: their bits may vary from run to run.
* sorted runs (``put_keys``, ``sort_local``/``sort_step``, ``put_runs``): the
  (position, index order) pairs are sorted on the device by a bitonic network (steps
  within a work-group run in local memory), then each run of equal
  positions is summed in index order. Deterministic, and bit-equal to a sequential
  ``base[q] += v``; the device uses it for floats unless asked not to.
"""

from __future__ import annotations

from .common import KernelSpec, Operand, operand_argtypes
from .elementwise import pair
from .ctype import CType


def _add(ct: CType, cur: str, v: str) -> str:
    if ct.kind == "b":
        return f"(uchar)(({cur} | {v}) != 0)"
    if ct.is_float:
        return f"({cur} + {v})"
    return f"(({ct.compute})(({ct.unsigned}){cur} + ({ct.unsigned}){v}))"


def atomic_helper(ct: CType, int64_atomics: bool) -> str:
    """``pg_atomic_add(base, q, v)``: base[q] += v atomically (empty when impossible)."""
    c, s = ct.compute, ct.storage
    head = f"void pg_atomic_add(__global {s}* base, const long q, const {c} v)"
    if ct.name == "int32":
        return f"{head} {{ atomic_add(base + q, v); }}\n"
    if ct.name == "int64":
        return f"{head} {{ atom_add(base + q, v); }}\n" if int64_atomics else ""
    if ct.name == "float32":
        return f"""{head} {{
    volatile __global int* w = (volatile __global int*)(base + q);
    int old = *w, seen;
    do {{ seen = old; old = atomic_cmpxchg(w, seen, as_int(as_float(seen) + v)); }} while (old != seen);
}}
"""
    if ct.name == "float64":
        if not int64_atomics:
            return ""
        return f"""{head} {{
    volatile __global long* w = (volatile __global long*)(base + q);
    long old = *w, seen;
    do {{ seen = old; old = atom_cmpxchg(w, seen, as_long(as_double(seen) + v)); }} while (old != seen);
}}
"""
    bits = ct.itemsize * 8
    if ct.is_half:
        decode = "vload_half(0, (const half*)&h)"
        encode = f"vstore_half_rte({_add(ct, 'cur', 'v')}, 0, (half*)&h);"
        field = "ushort h = (ushort)((seen & mask) >> shift);"
        value = "(uint)h"
    else:
        decode = f"({c})({s})((seen & mask) >> shift)"
        encode = ""
        field = ""
        value = f"(uint)(u{'char' if bits == 8 else 'short'})({_add(ct, 'cur', 'v')})"
    return f"""{head} {{
    const ulong byte = (ulong)q * {ct.itemsize};
    volatile __global uint* w = (volatile __global uint*)base + (byte >> 2);
    const uint shift = (uint)(byte & 3) * 8;
    const uint mask = {hex((1 << bits) - 1)}u << shift;
    uint old = *w, seen;
    do {{
        seen = old;
        {field}
        const {c} cur = {decode};
        {encode}
        const uint nv = ({value} << shift) & mask;
        old = atomic_cmpxchg(w, seen, (seen & ~mask) | nv);
    }} while (old != seen);
}}
"""


def take_kernels(ct: CType, idx) -> list:
    """``take``: out[i] = base[index[i]] (index laid out like out, maybe expanded)."""
    body = ct.store("p_o", "i_o", ct.load("p_base", "p_q[i_q]"))
    return pair("take", [Operand("o", ct.storage, True), Operand("q", "long")], [], body, idx,
                extras=((f"__global const {ct.storage}* p_base", None),))


def put_kernels(ct: CType, idx, atomic: bool) -> list:
    """``put`` (base[index[i]] = values[i]) and ``put_acc`` (+=); values may be the
    scalar ``s`` (``sm`` set)."""
    c = ct.compute
    value = f"const {c} v = sm ? s : {ct.load('p_v', 'i_v')};"
    operands = [Operand("q", "long"), Operand("v", ct.storage)]
    scalars = [(c, "s", ct.scalar_np), ("int", "sm", "int32")]
    extras = ((f"__global {ct.storage}* p_base", None),)
    specs = pair("put", operands, scalars, value + ct.store("p_base", "p_q[i_q]", "v"), idx, extras)
    if atomic:
        specs += pair("put_acc", operands, scalars, value + "pg_atomic_add(p_base, p_q[i_q], v);", idx, extras)
    specs += pair("put_keys", [Operand("q", "long")], [], "p_k[lin] = p_q[i_q]; p_id[lin] = (long)lin;", idx,
                  extras=(("__global long* p_k", None), ("__global long* p_id", None)))
    specs.append(_sort_step(idx))
    specs.append(_sort_local(idx))
    specs.append(_put_runs(ct, idx))
    return specs


def _sort_step(idx) -> KernelSpec:
    """One compare-exchange pass of a bitonic sort of (key, id) pairs, ascending; the
    host launches it for every (size k, distance j) of the network."""
    src = """
__kernel void sort_step(__global long* key, __global long* id, const I j, const I k) {
    const I t = (I)get_global_id(0);
    const I u = t ^ j;
    if (u <= t) return;
    const long kt = key[t], ku = key[u], it = id[t], iu = id[u];
    const int greater = kt > ku || (kt == ku && it > iu);
    if (greater == ((t & k) == 0)) { key[t] = ku; key[u] = kt; id[t] = iu; id[u] = it; }
}
"""
    return KernelSpec("sort_step", src, (None, None, idx.np, idx.np))


def _sort_local(idx) -> KernelSpec:
    """The steps of the network whose distance is below the work-group size, in local
    memory, one launch for all of them: with ``k`` 0, sorts every block of LOCAL pairs
    (sizes 2..LOCAL); with ``k`` set, the distances LOCAL/2..1 of size k."""
    src = """
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1)))
void sort_local(__global long* key, __global long* id, const I kfixed) {
    __local long lk[LOCAL];
    __local long li[LOCAL];
    const int l = get_local_id(0);
    const I t = (I)get_global_id(0);
    lk[l] = key[t];
    li[l] = id[t];
    const I k0 = kfixed ? kfixed : 2, k1 = kfixed ? kfixed : LOCAL;
    for (I k = k0; k <= k1; k <<= 1) {
        for (I j = (kfixed ? LOCAL : k) >> 1; j > 0; j >>= 1) {
            barrier(CLK_LOCAL_MEM_FENCE);
            const int p = l ^ (int)j;
            if (p > l) {
                const long ka = lk[l], kb = lk[p], ia = li[l], ib = li[p];
                const int greater = ka > kb || (ka == kb && ia > ib);
                if (greater == ((t & k) == 0)) { lk[l] = kb; lk[p] = ka; li[l] = ib; li[p] = ia; }
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    key[t] = lk[l];
    id[t] = li[l];
}
"""
    return KernelSpec("sort_local", src, (None, None, idx.np))


def _put_runs(ct: CType, idx) -> KernelSpec:
    """After sorting (position, index order) pairs: the first pair of each run of equal
    positions adds the run's values to the base in index order, rounding after every
    addition, so the result is deterministic and equals a sequential ``base[q] += v``."""
    c = ct.compute
    value = f"(sm ? s : {ct.load('p_v', 'pg_offset(l, 1, id[j], off_v)')})"
    if ct.is_half:
        step = (f"ushort h; vstore_half_rte({_add(ct, 'acc', value)}, 0, (half*)&h); "
                "acc = vload_half(0, (const half*)&h);")
    else:
        step = f"acc = {_add(ct, 'acc', value)};"
    src = f"""
__kernel void put_runs(__constant pg_layout* l, {Operand("v", ct.storage).params(idx)}, const {c} s, const int sm,
                       __global const long* key, __global const long* id, const I n, __global {ct.storage}* p_base) {{
    const I t = (I)get_global_id(0);
    if (t >= n) return;
    const long q = key[t];
    if (t > 0 && key[t - 1] == q) return;
    {c} acc = {ct.load("p_base", "q")};
    for (I j = t; j < n && key[j] == q; ++j) {{ {step} }}
    {ct.store("p_base", "q", "acc")}
}}
"""
    return KernelSpec("put_runs", src, (None, None, idx.np, ct.scalar_np, "int32", None, None, idx.np, None))


def nonzero_kernels(ct: CType, idx) -> list:
    """Three launches: count the non-zeros of each chunk of the row-major order, an
    exclusive scan of the counts (one work-item; the total lands after the last
    count), then every chunk writes the coordinates of its non-zeros from its offset."""
    params = f"__constant pg_layout* l, {Operand('x', ct.storage).params(idx)}"
    read = f"{ct.load('p_x', 'pg_offset(l, 0, lin, off_x)')} != 0"
    src = f"""
__kernel void nz_count({params}, __global long* counts, const I chunk, const I total) {{
    const I p = (I)get_global_id(0);
    const I start = p * chunk;
    if (start >= total) return;
    const I end = min(start + chunk, total);
    long n = 0;
    for (I lin = start; lin < end; ++lin) n += ({read}) ? 1 : 0;
    counts[p] = n;
}}
__kernel void nz_scan(__global long* counts, const I n) {{
    if (get_global_id(0) != 0) return;
    long acc = 0;
    for (I p = 0; p < n; ++p) {{ const long c = counts[p]; counts[p] = acc; acc += c; }}
    counts[n] = acc;
}}
__kernel void nz_write({params}, __global long* out, __global const long* counts,
                       __global const long* shape, const int ndim, const I chunk, const I total) {{
    const I p = (I)get_global_id(0);
    const I start = p * chunk;
    if (start >= total) return;
    const I end = min(start + chunk, total);
    long w = counts[p];
    for (I lin = start; lin < end; ++lin) {{
        if (!({read})) continue;
        long rem = lin;
        for (int d = ndim - 1; d >= 0; --d) {{ const long sh = shape[d]; out[w * ndim + d] = rem % sh; rem /= sh; }}
        ++w;
    }}
}}
"""
    x = operand_argtypes([0], idx)
    return [KernelSpec("nz_count", src, (None,) + x + (None, idx.np, idx.np)),
            KernelSpec("nz_scan", "", (None, idx.np)),
            KernelSpec("nz_write", "", (None,) + x + (None, None, None, "int32", idx.np, idx.np))]
