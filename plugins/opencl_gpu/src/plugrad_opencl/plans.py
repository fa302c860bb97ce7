"""Host-side layout planning: coalescing dims and packing the layout descriptors.

Before an elementwise launch, dims of size 1 are dropped and neighbouring dims that
are contiguous for every operand are merged, so most strided and broadcast cases
shrink to one or two dims; what remains is packed innermost-first into the kernel's
``pg_layout`` struct, which kernels read from a cached constant buffer. Plans are
cached by the operands' shapes and strides (offsets are kernel arguments, so every
slice of a loop reuses one plan).
"""

from __future__ import annotations

import itertools
import struct

from plugrad.extend import broadcast_strides

from .kernels.common import MAXD, NOPS
from .kernels.linalg import MM_FIELDS


def coalesce(shape, strides_list):
    """``(shape, [strides per operand])`` without size-1 dims and with neighbours that
    are contiguous for every operand merged; row-major order is preserved."""
    out_shape, out_st = [], [[] for _ in strides_list]
    for d, n in enumerate(shape):
        if n == 1:
            continue
        if out_shape and all(st[-1] == s[d] * n for st, s in zip(out_st, strides_list)):
            out_shape[-1] *= n
            for st, s in zip(out_st, strides_list):
                st[-1] = s[d]
            continue
        out_shape.append(n)
        for st, s in zip(out_st, strides_list):
            st.append(s[d])
    return out_shape, out_st


def split_leading(shape, strides_list):
    """Layouts with more than MAXD dims run as several launches: the leading dims are
    iterated on the host. Returns ``(trailing shape, trailing strides, launches)`` where
    ``launches`` is None for a single launch, else ``(first row-major position, offset
    shift per operand)`` for each launch."""
    extra = len(shape) - MAXD
    if extra <= 0:
        return shape, strides_list, None
    lead = shape[:extra]
    block = 1
    for n in shape[extra:]:
        block *= n
    launches = [(k * block, tuple(sum(i * s for i, s in zip(pos, st[:extra])) for st in strides_list))
                for k, pos in enumerate(itertools.product(*(range(n) for n in lead)))]
    return shape[extra:], [st[extra:] for st in strides_list], launches


class EwPlan:
    """An elementwise launch: padded global size and layout descriptor; ``splits`` is
    None, or ``(descriptor, offset shift per operand)`` for each of several launches."""

    __slots__ = ("gsize", "layout", "splits")

    def __init__(self, gsize, layout, splits):
        self.gsize, self.layout, self.splits = gsize, layout, splits


class Planner:
    """Layout planning for one index width (``fmt`` is the struct code of its ints)."""

    def __init__(self, fmt: str, run: int, local: int, constant):
        self.fmt = fmt
        self.constant = constant        # packed descriptor -> device buffer (cached by the runtime)
        self.run = run
        self.local = local
        self._ew = {}
        self._ew_struct = struct.Struct(f"<{3 + MAXD + NOPS * MAXD}{fmt}")
        self._r_struct = struct.Struct(f"<{2 + 3 * MAXD + 6}{fmt}")
        self._mm_struct = struct.Struct(f"<{MM_FIELDS}{fmt}")   # m0, m1, n0, n1, K, 9 strides

    def pad(self, n: int) -> int:
        return (n + self.local - 1) // self.local * self.local

    # ---- elementwise -------------------------------------------------------------------
    def ew(self, shape, out_strides, operands) -> EwPlan:
        """The plan of a launch over ``shape``; operands are arrays (shape and strides
        broadcast to ``shape``) or None for scalars."""
        key = (shape, out_strides, tuple(None if a is None else (a.shape, a.strides) for a in operands))
        plan = self._ew.get(key)
        if plan is None:
            strides = [out_strides] + [(0,) * len(shape) if a is None else broadcast_strides(a.shape, a.strides, shape)
                                       for a in operands]
            plan = self._ew_plan(shape, strides)
            if len(self._ew) > 4096:
                self._ew.clear()
            self._ew[key] = plan
        return plan

    def _ew_plan(self, shape, strides) -> EwPlan:
        cshape, cst = coalesce(shape, strides)
        if not cshape:
            cshape, cst = [1], [[0] for _ in strides]
        cshape, cst, launches = split_leading(cshape, cst)
        sh0 = cshape[-1]
        rows = 1
        for n in cshape[:-1]:
            rows *= n
        gsize = (self.pad(rows * ((sh0 + self.run - 1) // self.run)),)
        if launches is None:
            return EwPlan(gsize, self.pack_ew(cshape, cst, rows, 0), None)
        return EwPlan(gsize, None, [(self.pack_ew(cshape, cst, rows, lin0), deltas) for lin0, deltas in launches])

    def pack_ew(self, shape, strides, rows, lin0):
        nd = len(shape)
        vals = [rows, nd, lin0] + _rev(shape, 1)
        for k in range(NOPS):
            vals += _rev(strides[k], 0) if k < len(strides) else [0] * MAXD
        return self.constant(self._ew_struct.pack(*vals))

    # ---- reductions and scans -----------------------------------------------------------
    def pack_r(self, shape, kx, ko, rows, R, rs, chunk, nchunk, ps, run):
        return self.constant(self._r_struct.pack(rows, len(shape), *_rev(shape, 1), *_rev(kx, 0), *_rev(ko, 0),
                                                 R, rs, chunk, nchunk, ps, run))

    def pack_mm(self, *fields):
        return self.constant(self._mm_struct.pack(*fields))


def _rev(values, fill) -> list:
    """Innermost first, padded to MAXD."""
    out = list(reversed(values))
    return out + [fill] * (MAXD - len(out))
