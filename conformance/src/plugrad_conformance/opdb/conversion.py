"""Entries for ``plugrad.ops.conversion``: ``to`` (dtype conversion; the round-trip
check adds device moves), and ``copy_``/``fill_``/``zero_``, called on a clone so
that their result can be compared and differentiated like any op's."""

from __future__ import annotations

import numpy as np
import plugrad

from ..opinfo import ALL, ErrorInput, OpInfo, Sample

FAMILY = "plugrad.ops.conversion"


def _c(name, ref, sample, **kw):
    kw.setdefault("dtypes", ALL)
    return OpInfo(name, FAMILY, ref, sample, **kw)


def _to_sample(g):
    x = g.array(g.shape())
    if g.purpose in ("grad", "layout"):
        return Sample(x, g.dtype, copy=True)
    targets = [n for n in g.available if n != "uint8" or g.kind != "float"] or [g.dtype.name]
    target = plugrad.dtypes.dtype_from_name(g.choice(targets))
    if target.name == "uint8" or (g.kind == "float" and not target.is_floating_point and target.name != "bool"):
        x = np.asarray(np.abs(x))
    return Sample(x, target) if g.boolean() else Sample(x, dtype=target)


def _to_ref(x, dtype=None, copy=False):
    if dtype.name == "bool":
        return x != 0
    if not dtype.is_floating_point and x.dtype == np.float64:
        return np.trunc(x)
    return x


def _to_dtype(d, s):
    return s.kwargs["dtype"] if "dtype" in s.kwargs else s.args[1]


def _clone_then(method):
    def call(x, *args, **kwargs):
        y = x.clone()
        getattr(plugrad.ops.conversion, method)(y, *args, **kwargs)
        return y
    return call


def _copy_sample(g):
    shape = g.shape()
    lead = g.integers(0, len(shape))
    src = tuple(1 if g.integers(0, 2) == 0 else n for n in shape[lead:])
    return Sample(g.array(shape), g.array(src))


def _fill_sample(g):
    return Sample(g.array(g.shape()), g.scalar())


ENTRIES = [
    _c("to", _to_ref, _to_sample, result_dtype=_to_dtype, method="to", inplace=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2,)), 3.5), TypeError, "a number as the target")]),
    _c("copy_", lambda x, src: np.broadcast_to(src, x.shape).copy(), _copy_sample, call=_clone_then("copy_"),
       method=False, inplace=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((4,))), RuntimeError,
                          "a source that does not broadcast")]),
    _c("fill_", lambda x, value: np.full_like(x, value), _fill_sample, call=_clone_then("fill_"), method=False,
       inplace=False, gradgrad=False,
       errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2,))), RuntimeError,
                          "a 1-d tensor as the value")]),
    _c("zero_", np.zeros_like, lambda g: Sample(g.array(g.shape())), call=_clone_then("zero_"), method=False,
       inplace=False, gradgrad=False),
]

__all__ = ["ENTRIES"]
