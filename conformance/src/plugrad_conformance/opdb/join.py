"""Entries for ``plugrad.ops.join``: ``cat``, ``stack``, ``hstack``, ``vstack``."""

from __future__ import annotations

import numpy as np

from ..opinfo import ALL, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.join"


def _j(name, ref, sample, **kw):
    kw.setdefault("dtypes", ALL)
    return OpInfo(name, FAMILY, ref, sample, promotes=True, scalar_operands=False, **kw)


def _parts(g, shape, dim, count):
    out = []
    for _ in range(count):
        s = list(shape)
        if dim is not None:
            s[dim] = g.integers(0, 3)
        out.append(g.array(tuple(s)))
    return out


def _cat_sample(g):
    shape = g.shape(min_ndim=1, max_numel=8)
    d = g.integers(0, len(shape) - 1)
    parts = _parts(g, shape, d, g.integers(1, 3))
    if g.purpose == "forward" and g.integers(0, 4) == 0:
        parts.insert(g.integers(0, len(parts)), g.array((0,)))    # legacy: 1-d empty parts are skipped
    return Sample(parts, d - len(shape) if g.boolean() else d)


def _cat_ref(tensors, dim=0):
    parts = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or list(tensors[:1])
    return np.concatenate(parts, axis=dim)


def _stack_sample(g):
    shape = g.shape(max_numel=8)
    parts = _parts(g, shape, None, g.integers(1, 3))
    return Sample(parts, g.integers(-len(shape) - 1, len(shape)))


def _stack_ref(tensors, dim=0):
    return np.stack(tensors, axis=dim)


def _hv_sample(g):
    shape = g.shape(max_ndim=3, max_numel=8)
    d = 0 if len(shape) <= 1 else 1
    parts = _parts(g, shape, d if len(shape) else None, g.integers(1, 3))
    return Sample(parts)


def _vstack_sample(g):
    shape = g.shape(max_ndim=3, max_numel=8)
    parts = _parts(g, shape, 0 if len(shape) >= 2 else None, g.integers(1, 3))
    return Sample(parts)


ENTRIES = [
    _j("cat", _cat_ref, _cat_sample,
       errors=[ErrorInput(lambda g: Sample([g.array(()), g.array(())]), RuntimeError, "0-d tensors"),
               ErrorInput(lambda g: Sample([g.array((2, 3)), g.array((2, 4))]), RuntimeError,
                          "sizes that differ outside the cat dim"),
               ErrorInput(lambda g: Sample([]), ValueError, "an empty list"),  # as torch.cat([])
               ErrorInput(lambda g: Sample(g.array((2,))), TypeError, "a tensor instead of a list")]),
    _j("stack", _stack_ref, _stack_sample,
       errors=[ErrorInput(lambda g: Sample([g.array((2,)), g.array((3,))]), RuntimeError, "different shapes"),
               ErrorInput(lambda g: Sample([g.array(()), g.array((2,))], -2), IndexError,
                          "dim -2 for 0-d tensors, checked before the shapes")]),
    _j("hstack", lambda tensors: np.hstack(tensors), _hv_sample),
    _j("vstack", lambda tensors: np.vstack(tensors), _vstack_sample),
]

__all__ = ["ENTRIES"]
