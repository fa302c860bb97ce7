"""Entries for the ops over 1, 2 or 3 spatial dims that the 2-d ones of ``layers`` grew
into: ``conv3d``, the transposed convolutions, the 1-d and 3-d pools, the adaptive
max pools, ``lp_pool``, and ``plugrad.ops.upsampling`` (``interpolate``,
``pixel_shuffle``). The references loop over windows (or compute PyTorch's source
positions and weights) in NumPy: slow, and obviously right."""

from __future__ import annotations

import itertools

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import FLOATS, Arr, ErrorInput, OpInfo, Sample
from .common import D

#: sums of up to a few dozen products: float16 rounds each partial sum
SPATIAL_TOL = {"float16": (5e-3, 2e-2)}
POSITIVE = Domain(0.5, 2)


def _op(family, name, ref, sample, **kw):
    kw.setdefault("tol", SPATIAL_TOL)
    kw.setdefault("method", False)
    kw.setdefault("inplace", False)
    kw.setdefault("dtypes", FLOATS)
    return OpInfo(name, f"plugrad.ops.{family}", ref, sample, **kw)


def _tuple(v, nd):
    if isinstance(v, (tuple, list)):
        return tuple(v) * nd if len(v) == 1 else tuple(v)
    return (v,) * nd


def _batched(x, nd):
    return (x[None], True) if x.ndim == nd + 1 else (x, False)


# ---- convolution ---------------------------------------------------------------------------

def _conv_ref(nd):
    def ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        x, squeeze = _batched(x, nd)
        s, d = _tuple(stride, nd), _tuple(dilation, nd)
        k = w.shape[2:]
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            pads = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for kk, dd in zip(k, d)]
        else:
            pads = [(p, p) for p in _tuple(padding, nd)]
        xp = np.pad(x, [(0, 0), (0, 0)] + pads)
        out_size = [(n + sum(p) - dd * (kk - 1) - 1) // ss + 1 for n, p, kk, ss, dd in zip(x.shape[2:], pads, k, s, d)]
        n, c = x.shape[:2]
        o, cg = w.shape[:2]
        og = o // groups
        out = np.zeros((n, o) + tuple(out_size))
        for off in itertools.product(*(range(kk) for kk in k)):
            sl = tuple(slice(f * dd, f * dd + (m - 1) * ss + 1, ss) for f, dd, m, ss in zip(off, d, out_size, s))
            xs = xp[(slice(None), slice(None)) + sl]
            for gi in range(groups):
                wk = w[(slice(gi * og, (gi + 1) * og), slice(None)) + off]           # (og, cg)
                out[:, gi * og:(gi + 1) * og] += np.einsum("nc...,oc->no...", xs[:, gi * cg:(gi + 1) * cg], wk)
        if b is not None:
            out += b.reshape((1, -1) + (1,) * nd)
        return out[0] if squeeze else out
    return ref


def _conv_sample(nd):
    def sample(g):
        grad = g.purpose != "forward"
        groups = g.choice([1, 1, 2])
        cg, og = 1, groups * g.integers(1, 2)
        k = tuple(g.integers(1, 2) for _ in range(nd))
        stride = g.choice([1, 2])
        dilation = g.choice([1, 1, 2])
        padding = g.choice([0, 1, "valid", "same"] if stride == 1 else [0, 1])
        size = tuple((kk - 1) * dilation + 1 + g.integers(0, 1 if grad else 2) for kk in k)
        shape = (1 if grad else g.integers(1, 2), cg * groups) + size
        x = g.array(shape if g.integers(0, 3) else shape[1:])
        s = Sample(x, g.array((og, cg) + k))
        if g.boolean():
            s.args += (g.array((og,)),)
        for key, v, default in (("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1),
                                ("groups", groups, 1)):
            if v != default:
                s.kwargs[key] = v
        return s
    return sample


def _conv_transpose_ref(nd):
    def ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x, squeeze = _batched(x, nd)
        s, p, op, d = (_tuple(v, nd) for v in (stride, padding, output_padding, dilation))
        n, cin = x.shape[:2]
        cg_out = w.shape[1]
        k = w.shape[2:]
        cin_g = cin // groups
        full = [(m - 1) * ss + dd * (kk - 1) + 1 + o for m, ss, dd, kk, o in zip(x.shape[2:], s, d, k, op)]
        out = np.zeros((n, cg_out * groups) + tuple(full))
        for off in itertools.product(*(range(kk) for kk in k)):
            sl = tuple(slice(f * dd, f * dd + (m - 1) * ss + 1, ss) for f, dd, m, ss in zip(off, d, x.shape[2:], s))
            for gi in range(groups):
                wk = w[(slice(gi * cin_g, (gi + 1) * cin_g), slice(None)) + off]   # (cin_g, cg_out)
                out[(slice(None), slice(gi * cg_out, (gi + 1) * cg_out)) + sl] += np.einsum(
                    "nc...,co->no...", x[:, gi * cin_g:(gi + 1) * cin_g], wk)
        crop = tuple(slice(pp, f - pp) for pp, f in zip(p, full))
        out = out[(slice(None), slice(None)) + crop]
        if b is not None:
            out = out + b.reshape((1, -1) + (1,) * nd)
        return out[0] if squeeze else out
    return ref


def _conv_transpose_sample(nd):
    def sample(g):
        grad = g.purpose != "forward"
        groups = g.choice([1, 1, 2])
        cin, cg_out = groups * g.integers(1, 2), g.integers(1, 2)
        k = tuple(g.integers(1, 2) for _ in range(nd))
        stride, dilation = g.choice([1, 2]), g.choice([1, 1, 2])
        padding = g.choice([0, 1]) if min(k) > 1 or dilation > 1 else 0
        output_padding = g.choice([0, 1]) if max(stride, dilation) > 1 else 0
        size = tuple(g.integers(1, 2 if grad else 3) for _ in range(nd))
        g.assume(all((m - 1) * stride - 2 * padding + dilation * (kk - 1) + output_padding >= 0
                     for m, kk in zip(size, k)))
        shape = (1 if grad else g.integers(1, 2), cin) + size
        s = Sample(g.array(shape if g.integers(0, 3) else shape[1:]), g.array((cin, cg_out) + k))
        if g.boolean():
            s.args += (g.array((cg_out * groups,)),)
        for key, v, default in (("stride", stride, 1), ("padding", padding, 0), ("output_padding", output_padding, 0),
                                ("groups", groups, 1), ("dilation", dilation, 1)):
            if v != default:
                s.kwargs[key] = v
        return s
    return sample


# ---- pooling ---------------------------------------------------------------------------------

def _pool_out(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _windows(size, kernel_size, stride, padding, dilation, ceil_mode):
    """Every pooling window: its output position and, per dim, the input positions it
    covers (padding included, as positions outside ``[0, n)``)."""
    nd = len(size)
    k = _tuple(kernel_size, nd)
    s = _tuple(stride if stride not in (None, (), []) else kernel_size, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    out = tuple(_pool_out(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(size, k, s, p, d))
    windows = []
    for pos in itertools.product(*(range(o) for o in out)):
        windows.append((pos, [[o * ss - pp + a * dd for a in range(kk)] for o, ss, pp, dd, kk in zip(pos, s, p, d, k)]))
    return out, windows


def _max_pool_ref(nd, with_indices):
    def ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        x, squeeze = _batched(x, nd)
        size = x.shape[2:]
        out, windows = _windows(size, kernel_size, stride, padding, dilation, ceil_mode)
        values = np.zeros(x.shape[:2] + out)
        indices = np.zeros(x.shape[:2] + out, dtype=np.int64)
        for pos, spans in windows:
            best = np.full(x.shape[:2], -np.inf)
            where = np.zeros(x.shape[:2], dtype=np.int64)
            for q in itertools.product(*spans):
                if all(0 <= v < n for v, n in zip(q, size)):
                    v = x[(slice(None), slice(None)) + q]
                    better = v > best
                    best = np.where(better, v, best)
                    where = np.where(better, np.ravel_multi_index(q, size), where)
            values[(slice(None), slice(None)) + pos] = best
            indices[(slice(None), slice(None)) + pos] = where
        if squeeze:
            values, indices = values[0], indices[0]
        return (values, indices) if with_indices or return_indices else values
    return ref


def _avg_pool_ref(nd):
    def ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        x, squeeze = _batched(x, nd)
        size = x.shape[2:]
        p = _tuple(padding, nd)
        out, windows = _windows(size, kernel_size, stride, padding, 1, ceil_mode)
        r = np.zeros(x.shape[:2] + out)
        for pos, spans in windows:
            inside = [[v for v in span if 0 <= v < n] for span, n in zip(spans, size)]
            total = sum((x[(slice(None), slice(None)) + q] for q in itertools.product(*inside)), np.zeros(x.shape[:2]))
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = np.prod([len([v for v in span if v < n + pp]) for span, n, pp in zip(spans, size, p)])
            else:
                div = np.prod([len(i) for i in inside])
            r[(slice(None), slice(None)) + pos] = total / div
        return r[0] if squeeze else r
    return ref


def _pool_sample(nd, kind):
    """``kind``: 'max', 'avg' or 'lp' (no padding, a positive input)."""
    def sample(g):
        grad = g.purpose != "forward"
        k = tuple(g.integers(1, 2) for _ in range(nd))
        stride = g.choice([None, 1, 2])
        padding = g.choice([0, 0, 1]) if min(k) >= 2 and kind != "lp" else 0
        dilation = g.choice([1, 1, 2]) if kind == "max" else 1
        ceil_mode = g.boolean()
        size = tuple((kk - 1) * dilation + 1 + g.integers(0, 1 if grad else 2) for kk in k)
        shape = (1 if grad else g.integers(1, 2), 1 if grad or nd == 3 else g.integers(1, 2)) + size
        x = g.array(shape if g.integers(0, 3) else shape[1:], POSITIVE if kind == "lp" else D, unique=kind != "avg")
        s = Sample(x, k if nd > 1 and (len(set(k)) > 1 or g.boolean()) else k[0])
        if kind == "lp":
            s.args = (x, g.choice([1, 2, 1.5]), s.args[1])
        if stride is not None:
            s.kwargs["stride"] = stride
        if padding:
            s.kwargs["padding"] = padding
        if dilation != 1:
            s.kwargs["dilation"] = dilation
        if ceil_mode:
            s.kwargs["ceil_mode"] = True
        if kind == "avg" and padding and g.boolean():
            s.kwargs["count_include_pad"] = False
        if kind == "avg" and nd > 1 and g.integers(0, 4) == 0:
            s.kwargs["divisor_override"] = g.choice([2, 3])
        return s
    return sample


def _lp_pool_ref(nd):
    avg = _avg_pool_ref(nd)

    def ref(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        a = avg(x ** norm_type, kernel_size, stride, 0, ceil_mode)
        return (np.sign(a) * np.maximum(np.abs(a), 0) * np.prod(_tuple(kernel_size, nd))) ** (1.0 / norm_type)
    return ref


def _bands(n, m):
    return [((i * n) // m, -(-((i + 1) * n) // m)) for i in range(m)]


def _adaptive_size(x, output_size, nd):
    size = _tuple(output_size, nd)
    return tuple(x.shape[-nd + i] if v is None else v for i, v in enumerate(size))


def _adaptive_avg_ref(nd):
    def ref(x, output_size):
        size = _adaptive_size(x, output_size, nd)
        lead = x.shape[:-nd]
        out = np.zeros(lead + size)
        for pos in itertools.product(*(range(m) for m in size)):
            sl = tuple(slice(*_bands(n, m)[i]) for i, n, m in zip(pos, x.shape[-nd:], size))
            out[(Ellipsis,) + pos] = x[(Ellipsis,) + sl].mean(axis=tuple(range(-nd, 0)))
        return out
    return ref


def _adaptive_max_ref(nd):
    def ref(x, output_size, return_indices=False):
        size = _adaptive_size(x, output_size, nd)
        in_size = x.shape[-nd:]
        lead = x.shape[:-nd]
        values, indices = np.zeros(lead + size), np.zeros(lead + size, dtype=np.int64)
        for pos in itertools.product(*(range(m) for m in size)):
            sl = tuple(slice(*_bands(n, m)[i]) for i, n, m in zip(pos, in_size, size))
            block = x[(Ellipsis,) + sl].reshape(lead + (-1,))
            k = block.argmax(-1)
            values[(Ellipsis,) + pos] = block.max(-1)
            local = np.unravel_index(k, tuple(s.stop - s.start for s in sl))
            indices[(Ellipsis,) + pos] = np.ravel_multi_index(tuple(lc + s.start for lc, s in zip(local, sl)), in_size)
        return (values, indices) if return_indices else values
    return ref


def _adaptive_sample(nd, unique):
    def sample(g):
        grad = g.purpose != "forward"
        size = tuple(g.integers(1, 3 if nd < 3 else 2) for _ in range(nd))
        shape = (1 if grad else g.integers(1, 2), 1 if grad else g.integers(1, 2)) + size
        x = g.array(shape if g.integers(0, 3) else shape[1:], unique=unique)
        out = tuple(g.integers(1, 3) for _ in range(nd))
        if nd == 1:
            return Sample(x, out[0])
        return Sample(x, g.choice([out, out[0], (None,) + out[1:]]))
    return sample


def _errors_pool(fname_nd):
    shape = (1, 1) + (2,) * fname_nd
    return [ErrorInput(lambda g: Sample(g.array(shape), 2, ceil_mode=None), TypeError, "a ceil_mode of None"),
            ErrorInput(lambda g: Sample(g.array((2,) * fname_nd), 2), RuntimeError, "an input without channels")]


def _max_unpool_ref(nd):
    def ref(x, indices, kernel_size, stride=None, padding=0, output_size=None):
        k = _tuple(kernel_size, nd)
        s = _tuple(stride if stride is not None else kernel_size, nd)
        p = _tuple(padding, nd)
        size = tuple(output_size)[-nd:] if output_size is not None else tuple(
            (n - 1) * ss + kk - 2 * pp for n, ss, kk, pp in zip(x.shape[-nd:], s, k, p))
        lead = x.shape[:-nd]
        out = np.zeros(lead + (int(np.prod(size)),))
        flat_x, flat_i = x.reshape(lead + (-1,)), indices.reshape(lead + (-1,))
        for pos in itertools.product(*(range(m) for m in lead)):
            out[pos][flat_i[pos]] = flat_x[pos]
        return out.reshape(lead + size)
    return ref


def _max_unpool_sample(nd):
    """Values with the indices a max pool of kernel = stride could give (one position in
    each window, so no two values land on one place)."""
    def sample(g):
        grad = g.purpose != "forward"
        k = tuple(g.integers(1, 2) for _ in range(nd))
        size = tuple(g.integers(1, 2) for _ in range(nd))
        lead = (1 if grad else g.integers(1, 2), g.integers(1, 2))
        if g.integers(0, 3) == 0:
            lead = lead[1:]
        out = tuple(n * kk for n, kk in zip(size, k))
        idx = np.zeros(lead + size, dtype=np.int64)
        for pos in itertools.product(*(range(m) for m in lead + size)):
            inner = tuple(o * kk + g.integers(0, kk - 1) for o, kk in zip(pos[len(lead):], k))
            idx[pos] = np.ravel_multi_index(inner, out)
        s = Sample(g.array(lead + size), Arr(idx, "int64"), k if nd > 1 else k[0])
        if g.boolean():
            s.kwargs["output_size"] = out
        return s
    return sample


# ---- upsampling ------------------------------------------------------------------------------

_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _resize_matrix(n_in, n_out, mode, align, scale, antialias):
    """The (n_out, n_in) matrix of one dim's resampling, from PyTorch's formulas."""
    m = np.zeros((n_out, n_in))
    if align and mode not in ("nearest", "nearest-exact"):
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale else n_in / n_out
    if mode in ("nearest", "nearest-exact"):
        s32 = np.float32(s)
        for i in range(n_out):
            src = np.float32(np.float32(i + (0.5 if mode == "nearest-exact" else 0.0)) * s32)
            m[i, min(int(np.floor(src)), n_in - 1)] = 1
        return m
    if antialias:
        cubic = mode == "bicubic"
        support = (2.0 if cubic else 1.0) * (s if s >= 1 else 1.0)
        inv = 1.0 / s if s >= 1 else 1.0
        for i in range(n_out):
            center = s * (i + 0.5)
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            w = np.array([_aa_filter((j - center + 0.5) * inv, cubic) for j in range(lo, hi)])
            m[i, lo:hi] = w / w.sum() if w.sum() else w
        return m
    for i in range(n_out):
        src = s * i if align else s * (i + 0.5) - 0.5
        if mode == "bicubic":
            i0 = int(np.floor(src))
            t = src - i0
            for k, w in enumerate(_cubic_weights(t)):
                m[i, min(max(i0 - 1 + k, 0), n_in - 1)] += w
        else:
            src = max(src, 0.0)
            i0 = min(int(np.floor(src)), n_in - 1)
            lam = min(max(src - i0, 0.0), 1.0)
            m[i, i0] += 1 - lam
            m[i, min(i0 + 1, n_in - 1)] += lam
    return m


def _cubic_weights(t, a=-0.75):
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _aa_filter(x, cubic):
    x = abs(x)
    if not cubic:
        return max(1 - x, 0.0)
    a = -0.5
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a if x < 2 else 0.0


def _interpolate_ref(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                     recompute_scale_factor=None, antialias=False):
    nd = x.ndim - 2
    if mode == "area":
        return _adaptive_avg_ref(nd)(x, _tuple(size, nd) if size is not None else
                                     tuple(int(np.floor(n * scale_factor)) for n in x.shape[2:]))
    scales = [None] * nd
    if size is not None:
        out = list(_tuple(size, nd))
    else:
        sf = _tuple(scale_factor, nd)
        out = [int(np.floor(n * f)) for n, f in zip(x.shape[2:], sf)]
        if not recompute_scale_factor:
            scales = list(sf)
    for i in range(nd):
        m = _resize_matrix(x.shape[2 + i], out[i], mode, bool(align_corners), scales[i], antialias)
        x = np.moveaxis(np.tensordot(m, np.moveaxis(x, 2 + i, 0), axes=(1, 0)), 0, 2 + i)
    return x


def _interpolate_sample(g):
    grad = g.purpose != "forward"
    mode = g.choice(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"])
    nd = _NDIM.get(mode) or g.integers(1, 3 if grad else 2)
    size = tuple(g.integers(1, 3 if nd == 3 else 4) for _ in range(nd))
    x = g.array((1 if grad else g.integers(1, 2), 1 if grad else g.integers(1, 2)) + size)
    kw = {"mode": mode}
    if g.boolean():
        out = tuple(g.integers(1, 5 if nd < 3 else 3) for _ in range(nd))
        kw["size"] = out if nd > 1 or g.boolean() else out[0]
    else:
        kw["scale_factor"] = g.choice([2, 0.5, 1.5, 2.3, 3]) if nd == 3 else g.choice([2, 0.5, 1.5, 2.3, 3, 1.7])
        g.assume(all(int(n * kw["scale_factor"]) >= 1 for n in size))
        if mode != "area" and g.boolean():
            kw["recompute_scale_factor"] = True
    if mode in _NDIM and g.boolean():
        kw["align_corners"] = True
    if mode in ("bilinear", "bicubic") and g.integers(0, 3) == 0:
        kw["antialias"] = True
    return Sample(x, **kw)


def _pixel_shuffle_ref(x, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w).transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_unshuffle_ref(x, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r).transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def _shuffle_sample(unshuffle):
    def sample(g):
        r = g.integers(1, 2 if g.purpose != "forward" else 3)
        lead = (g.integers(1, 2),) * g.integers(0, 1)
        c, h, w = g.integers(1, 2), g.integers(1, 2), g.integers(1, 2)
        if unshuffle:
            return Sample(g.array(lead + (c, h * r, w * r)), r)
        return Sample(g.array(lead + (c * r * r, h, w)), r)
    return sample



WITH_INDICES = {"result_dtype": lambda d, s: (d, plugrad.int64)}

ENTRIES = [
    _op("convolution", "conv3d", _conv_ref(3), _conv_sample(3),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 2, 2, 2)), g.array((1, 3, 1, 1, 1))), RuntimeError,
                           "weight channels 3 for an input of 2 channels"),
                ErrorInput(lambda g: Sample(g.array((2, 2)), g.array((1, 1, 1, 1, 1))), RuntimeError,
                           "a 2-d input")]),
    _op("convolution", "conv_transpose1d", _conv_transpose_ref(1), _conv_transpose_sample(1),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 3)), g.array((3, 1, 2))), RuntimeError,
                           "weight for 3 input channels and an input of 2")]),
    _op("convolution", "conv_transpose3d", _conv_transpose_ref(3), _conv_transpose_sample(3),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 2, 2, 2)), g.array((2, 1, 1, 1, 1)), stride=2,
                                            output_padding=2), RuntimeError, "an output_padding beyond stride")]),
    _op("pooling", "max_pool1d", _max_pool_ref(1, False), _pool_sample(1, "max"), errors=_errors_pool(1)),
    _op("pooling", "max_pool3d", _max_pool_ref(3, False), _pool_sample(3, "max"), errors=_errors_pool(3)),
    _op("pooling", "max_pool1d_with_indices", _max_pool_ref(1, True), _pool_sample(1, "max"), **WITH_INDICES),
    _op("pooling", "max_pool3d_with_indices", _max_pool_ref(3, True), _pool_sample(3, "max"), **WITH_INDICES),
    _op("pooling", "avg_pool1d", _avg_pool_ref(1), _pool_sample(1, "avg"), errors=_errors_pool(1)),
    _op("pooling", "avg_pool3d", _avg_pool_ref(3), _pool_sample(3, "avg"), errors=_errors_pool(3)),
    _op("pooling", "lp_pool1d", _lp_pool_ref(1), _pool_sample(1, "lp"), tol={"float16": (2e-2, 2e-2)}),
    _op("pooling", "lp_pool2d", _lp_pool_ref(2), _pool_sample(2, "lp"), tol={"float16": (2e-2, 2e-2)}),
    _op("pooling", "lp_pool3d", _lp_pool_ref(3), _pool_sample(3, "lp"), tol={"float16": (2e-2, 2e-2)}),
    _op("pooling", "adaptive_avg_pool1d", _adaptive_avg_ref(1), _adaptive_sample(1, False),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 0)), 2), RuntimeError, "an empty length")]),
    _op("pooling", "adaptive_avg_pool3d", _adaptive_avg_ref(3), _adaptive_sample(3, False),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 2, 2)), None), TypeError, "an output_size of None")]),
    _op("pooling", "adaptive_max_pool1d", _adaptive_max_ref(1), _adaptive_sample(1, True),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 0)), 2), RuntimeError, "an empty length")]),
    _op("pooling", "adaptive_max_pool2d", _adaptive_max_ref(2), _adaptive_sample(2, True),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 3, 3)), None), TypeError, "an output_size of None")]),
    _op("pooling", "adaptive_max_pool3d", _adaptive_max_ref(3), _adaptive_sample(3, True),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 2, 2)), -1), RuntimeError, "a negative output_size")]),
    _op("pooling", "max_unpool1d", _max_unpool_ref(1), _max_unpool_sample(1),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2)), Arr(np.array([[0, 9]]), "int64"), 2), RuntimeError,
                           "an index past the output")]),
    _op("pooling", "max_unpool2d", _max_unpool_ref(2), _max_unpool_sample(2),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 1, 1)), Arr(np.array([[[0]]]), "int64"), 2,
                                            output_size=(5, 5)), ValueError, "an output_size no pool gives")]),
    _op("pooling", "max_unpool3d", _max_unpool_ref(3), _max_unpool_sample(3),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 1, 1, 1)), Arr(np.array([[[[0, 1]]]]), "int64"), 2),
                           RuntimeError, "indices of another shape")]),
    _op("upsampling", "interpolate", _interpolate_ref, _interpolate_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 1, 2)), size=2, scale_factor=2.0), ValueError,
                           "both size and scale_factor"),
                ErrorInput(lambda g: Sample(g.array((1, 1, 2)), size=2, mode="bilinear"), NotImplementedError,
                           "bilinear of a 3-d input"),
                ErrorInput(lambda g: Sample(g.array((1, 1, 2)), size=2, align_corners=True), ValueError,
                           "align_corners with nearest"),
                ErrorInput(lambda g: Sample(g.array((1, 1, 2)), size=(2, 2)), ValueError, "two sizes for one dim")]),
    _op("upsampling", "pixel_shuffle", _pixel_shuffle_ref, _shuffle_sample(False),
        errors=[ErrorInput(lambda g: Sample(g.array((3, 2, 2)), 2), RuntimeError, "3 channels for a factor of 2")]),
    _op("upsampling", "pixel_unshuffle", _pixel_unshuffle_ref, _shuffle_sample(True),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 3, 2)), 2), RuntimeError, "a height of 3 for a factor of 2")]),
]

__all__ = ["ENTRIES"]
