"""Entries for the layer ops: ``plugrad.ops.dense`` (linear, embedding),
``convolution`` (conv1d/conv2d, unfold/fold), ``pooling``, ``normalization`` and
``padding``. The references are direct loops over windows in NumPy: slow, and
obviously right."""

from __future__ import annotations

import numpy as np
import plugrad

from ..gen import Domain
from ..opinfo import FLOATS, Arr, ErrorInput, OpInfo, Sample
from .common import D

#: sums of up to a few dozen products: float16 rounds each partial sum
LAYER_TOL = {"float16": (5e-3, 2e-2)}


def _op(family, name, ref, sample, **kw):
    kw.setdefault("tol", LAYER_TOL)
    kw.setdefault("method", False)
    kw.setdefault("inplace", False)
    return OpInfo(name, f"plugrad.ops.{family}", ref, sample, **kw)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _small(g, lo=1, hi=3):
    return g.integers(lo, hi)


# ---- dense -------------------------------------------------------------------------------------

def _linear_sample(g):
    n_in, n_out = _small(g, 0 if g.purpose == "forward" else 1), _small(g)
    lead = g.shape(max_ndim=2, max_size=3, max_numel=4)
    x = g.array(lead + (n_in,))
    w = g.array((n_out, n_in))
    return Sample(x, w, g.array((n_out,))) if g.boolean() else Sample(x, w)


def _linear_ref(x, w, b=None):
    r = x @ w.T
    return r + b if b is not None else r


def _embedding_sample(g):
    num, dim = _small(g, 1, 4), _small(g, 1, 3)
    idx = g.index(g.shape(max_ndim=2, max_size=3), num, negative=False)
    s = Sample(idx, g.array((num, dim)))
    if g.purpose == "forward" and g.boolean():
        s.kwargs["padding_idx"] = g.integers(-num, num - 1)   # forward unchanged; only the gradient differs
    return s


def _embedding_ref(idx, w, padding_idx=None):
    return w[idx]


# ---- convolution -------------------------------------------------------------------------------

def _conv_out(n, k, s, p_total, d):
    return (n + p_total - d * (k - 1) - 1) // s + 1


def _conv2d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if padding == "valid":
        pads = ((0, 0), (0, 0))
    elif padding == "same":
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in ((kh, dh), (kw, dw)))
    else:
        ph, pw = _pair(padding)
        pads = ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    oh = _conv_out(h, kh, sh, sum(pads[0]), dh)
    ow = _conv_out(wd, kw, sw, sum(pads[1]), dw)
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for gi in range(groups):
        wg = w[gi * og:(gi + 1) * og]
        xg = xp[:, gi * cg:(gi + 1) * cg]
        for i in range(oh):
            for j in range(ow):
                patch = xg[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, gi * og:(gi + 1) * og, i, j] = np.einsum("nckl,ockl->no", patch, wg)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out[0] if squeeze else out


def _conv2d_sample(g):
    grad = g.purpose != "forward"
    groups = g.choice([1, 1, 2])
    cg, og = 1 if grad else _small(g, 1, 2), _small(g, 1, 2)
    kh, kw = _small(g, 1, 2), _small(g, 1, 3 if not grad else 2)
    stride = g.choice([1, 2, (1, 2)])
    dilation = g.choice([1, 1, 2])
    padding = g.choice([0, 1, (1, 0), "valid", "same"] if stride == 1 else [0, 1, (0, 1)])
    eff_h, eff_w = (kh - 1) * (dilation if isinstance(dilation, int) else 1) + 1, \
                   (kw - 1) * (dilation if isinstance(dilation, int) else 1) + 1
    h, w = eff_h + g.integers(0, 1 if grad else 2), eff_w + g.integers(0, 1 if grad else 2)
    n = 1 if grad else _small(g, 1, 2)
    x_shape = (n, cg * groups, h, w) if g.integers(0, 4) else (cg * groups, h, w)
    s = Sample(g.array(x_shape), g.array((og * groups, cg, kh, kw)))
    if g.boolean():
        s.args = s.args + (g.array((og * groups,)),)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    for k, v in kwargs.items():
        if v != (0 if k == "padding" else 1):
            s.kwargs[k] = v
    return s


def _conv_transpose2d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = (_pair(v) for v in (stride, padding, output_padding, dilation))
    n, c, h, wd = x.shape
    cin, og, kh, kw = w.shape
    cg = cin // groups
    full = np.zeros((n, og * groups, (h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw))
    for gi in range(groups):
        for ci in range(gi * cg, (gi + 1) * cg):
            for i in range(h):
                for j in range(wd):
                    for a in range(kh):
                        for b_ in range(kw):
                            full[:, gi * og:(gi + 1) * og, i * sh + a * dh, j * sw + b_ * dw] += \
                                x[:, ci, i, j][:, None] * w[ci, :, a, b_][None, :]
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = full[:, :, ph:ph + ho, pw:pw + wo]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out[0] if squeeze else out


def _conv_transpose2d_sample(g):
    grad = g.purpose != "forward"
    groups = g.choice([1, 2])
    cg, og = 1, _small(g, 1, 2)
    kh, kw = _small(g, 1, 2), _small(g, 1, 2)
    stride, dilation = g.choice([1, 2, (2, 1)]), g.choice([1, 1, 2])
    padding = g.choice([0, 1]) if min(kh, kw) > 1 or dilation != 1 else 0
    h, w = _small(g, 1, 2 if grad else 3), _small(g, 1, 2)
    n = 1 if grad else _small(g, 1, 2)
    x_shape = (n, cg * groups, h, w) if g.integers(0, 3) else (cg * groups, h, w)
    s = Sample(g.array(x_shape), g.array((cg * groups, og, kh, kw)))
    if g.boolean():
        s.args = s.args + (g.array((og * groups,)),)
    s.kwargs.update(stride=stride, padding=padding, groups=groups, dilation=dilation)
    if max(_pair(stride)) > 1 and g.boolean():
        s.kwargs["output_padding"] = 1 if max(_pair(stride)) == min(_pair(stride)) else (1, 0)
    op_h, op_w = _pair(s.kwargs.get("output_padding", 0))
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    g.assume((h - 1) * sh - 2 * padding + dh * (kh - 1) + op_h >= 0 and
             (w - 1) * sw - 2 * padding + dw * (kw - 1) + op_w >= 0)     # at least one output row and column
    return s


def _conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    squeeze = x.ndim == 2
    x4 = (x[None] if squeeze else x)[:, :, None, :]
    pad = padding if isinstance(padding, str) else (0, padding[0] if isinstance(padding, tuple) else padding)
    r = _conv2d_ref(x4, w[:, :, None, :], b, (1, stride), pad, (1, dilation), groups)[:, :, 0, :]
    return r[0] if squeeze else r


def _conv1d_sample(g):
    grad = g.purpose != "forward"
    groups = g.choice([1, 2])
    cg, og, k = 1, _small(g, 1, 2), _small(g, 1, 3)
    stride, dilation = g.choice([1, 2]), g.choice([1, 2])
    padding = g.choice([0, 1, "same"] if stride == 1 else [0, 1])
    length = (k - 1) * dilation + 1 + g.integers(0, 1 if grad else 3)
    n = 1 if grad else _small(g, 1, 2)
    x_shape = (n, cg * groups, length) if g.integers(0, 4) else (cg * groups, length)
    s = Sample(g.array(x_shape), g.array((og * groups, cg, k)))
    if g.boolean():
        s.args = s.args + (g.array((og * groups,)),)
    s.kwargs.update(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return s


def _unfold_geometry(g):
    kh, kw = _small(g, 1, 2), _small(g, 1, 2)
    return {"kernel_size": (kh, kw) if kh != kw or g.boolean() else kh, "dilation": g.choice([1, 2]),
            "padding": g.choice([0, 1]), "stride": g.choice([1, 2])}


def _blocks(hw, kernel_size, dilation, padding, stride):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    oh = _conv_out(hw[0], kh, sh, 2 * ph, dh)
    ow = _conv_out(hw[1], kw, sw, 2 * pw, dw)
    return (kh, kw), (dh, dw), (ph, pw), (sh, sw), oh, ow


def _unfold_sample(g):
    geo = _unfold_geometry(g)
    (kh, kw), (dh, dw), (ph, pw) = _pair(geo["kernel_size"]), _pair(geo["dilation"]), _pair(geo["padding"])
    h = max(1, (kh - 1) * dh + 1 - 2 * ph) + g.integers(0, 2)
    w = max(1, (kw - 1) * dw + 1 - 2 * pw) + g.integers(0, 1)
    n, c = (1, 1) if g.purpose != "forward" else (_small(g, 1, 2), _small(g, 1, 2))
    return Sample(g.array((n, c, h, w) if g.integers(0, 3) else (c, h, w)), **geo)


def _unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    squeeze = x.ndim == 3
    x = x[None] if squeeze else x
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), oh, ow = _blocks((h, w), kernel_size, dilation, padding, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, c * kh * kw, oh * ow))
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                for y in range(oh):
                    for z in range(ow):
                        out[:, (ci * kh + i) * kw + j, y * ow + z] = xp[:, ci, y * sh + i * dh, z * sw + j * dw]
    return out[0] if squeeze else out


def _fold_sample(g):
    geo = _unfold_geometry(g)
    (kh, kw), (dh, dw), (ph, pw) = _pair(geo["kernel_size"]), _pair(geo["dilation"]), _pair(geo["padding"])
    h = max(1, (kh - 1) * dh + 1 - 2 * ph) + g.integers(0, 2)
    w = max(1, (kw - 1) * dw + 1 - 2 * pw) + g.integers(0, 1)
    *_, oh, ow = _blocks((h, w), **geo)
    c = 1 if g.purpose != "forward" else _small(g, 1, 2)
    n = 1 if g.purpose != "forward" else _small(g, 1, 2)
    shape = (n, c * kh * kw, oh * ow) if g.integers(0, 3) else (c * kh * kw, oh * ow)
    return Sample(g.array(shape), (h, w), **geo)


def _fold_ref(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    squeeze = x.ndim == 2
    x = x[None] if squeeze else x
    h, w = _pair(output_size)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw), oh, ow = _blocks((h, w), kernel_size, dilation, padding, stride)
    n, ckk, _ = x.shape
    c = ckk // (kh * kw)
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                for y in range(oh):
                    for z in range(ow):
                        out[:, ci, y * sh + i * dh, z * sw + j * dw] += x[:, (ci * kh + i) * kw + j, y * ow + z]
    out = out[:, :, ph:ph + h, pw:pw + w]
    return out[0] if squeeze else out


# ---- pooling ---------------------------------------------------------------------------------

def _pool_out(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_sample(avg):
    def sample(g):
        grad = g.purpose != "forward"
        kh, kw = _small(g, 1, 2), _small(g, 1, 3)
        stride = g.choice([None, 1, 2, (2, 1)])
        padding = g.choice([0, 0, 1]) if min(kh, kw) >= 2 else 0
        dilation = 1 if avg else g.choice([1, 1, 2])
        ceil_mode = g.boolean()
        h = (kh - 1) * dilation + 1 + g.integers(0, 1 if grad else 2)
        w = (kw - 1) * dilation + 1 + g.integers(0, 1 if grad else 2)
        n, c = (1, 1) if grad else (_small(g, 1, 2), _small(g, 1, 2))
        shape = (n, c, h, w) if g.integers(0, 3) else (c, h, w)
        x = g.array(shape, D, unique=not avg)
        s = Sample(x, (kh, kw) if kh != kw or g.boolean() else kh)
        if stride is not None:
            s.kwargs["stride"] = stride
        if padding:
            s.kwargs["padding"] = padding
        if dilation != 1:
            s.kwargs["dilation"] = dilation
        if ceil_mode:
            s.kwargs["ceil_mode"] = True
        if avg and padding and g.boolean():
            s.kwargs["count_include_pad"] = False
        if avg and g.integers(0, 4) == 0:
            s.kwargs["divisor_override"] = g.choice([2, 3])
        return s
    return sample


def _windows(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Yield (i, j, rows, cols) of every pooling window: the input rows/cols it covers
    (the padded positions left out), with PyTorch's output size."""
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(stride if stride is not None else kernel_size)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    h, w = x.shape[-2:]
    oh, ow = _pool_out(h, kh, sh, ph, dh, ceil_mode), _pool_out(w, kw, sw, pw, dw, ceil_mode)
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - ph + a * dh for a in range(kh)]
            cols = [j * sw - pw + b * dw for b in range(kw)]
            yield i, j, oh, ow, rows, cols


def _max_pool_ref(with_indices):
    def ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        squeeze = x.ndim == 3
        x = x[None] if squeeze else x
        n, c, h, w = x.shape
        values, indices = None, None
        for i, j, oh, ow, rows, cols in _windows(x, kernel_size, stride, padding, dilation, ceil_mode):
            if values is None:
                values, indices = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), dtype=np.int64)
            best = np.full((n, c), -np.inf)
            where = np.zeros((n, c), dtype=np.int64)
            for r in rows:
                for q in cols:
                    if 0 <= r < h and 0 <= q < w:
                        better = x[:, :, r, q] > best
                        best = np.where(better, x[:, :, r, q], best)
                        where = np.where(better, r * w + q, where)
            values[:, :, i, j], indices[:, :, i, j] = best, where
        if squeeze:
            values, indices = values[0], indices[0]
        return (values, indices) if with_indices or return_indices else values
    return ref


def _avg_pool_ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                  divisor_override=None):
    squeeze = x.ndim == 3
    x = x[None] if squeeze else x
    n, c, h, w = x.shape
    ph, pw = _pair(padding)
    out = None
    for i, j, oh, ow, rows, cols in _windows(x, kernel_size, stride, padding, 1, ceil_mode):
        if out is None:
            out = np.zeros((n, c, oh, ow))
        inside_r = [r for r in rows if 0 <= r < h]
        inside_c = [q for q in cols if 0 <= q < w]
        total = sum(x[:, :, r, q] for r in inside_r for q in inside_c) if inside_r and inside_c else 0.0
        if divisor_override:
            div = divisor_override
        elif count_include_pad:
            div = len([r for r in rows if r < h + ph]) * len([q for q in cols if q < w + pw])
        else:
            div = len(inside_r) * len(inside_c)
        out[:, :, i, j] = total / div
    return out[0] if squeeze else out


def _adaptive_sample(g):
    h, w = _small(g, 1, 4), _small(g, 1, 4)
    n, c = (1, 1) if g.purpose != "forward" else (_small(g, 1, 2), _small(g, 1, 2))
    shape = (n, c, h, w) if g.integers(0, 3) else (c, h, w)
    size = g.choice([(_small(g, 1, 3), _small(g, 1, 3)), _small(g, 1, 3), (None, _small(g, 1, 2))])
    return Sample(g.array(shape), size)


def _adaptive_ref(x, output_size):
    h, w = x.shape[-2:]
    oh, ow = output_size if isinstance(output_size, tuple) else (output_size, output_size)
    oh, ow = h if oh is None else oh, w if ow is None else ow
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        for j in range(ow):
            c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return out


# ---- normalization -------------------------------------------------------------------------------

def _batch_norm_sample(g):
    n, c = _small(g, 2, 3), _small(g, 1, 2)
    spatial = tuple(_small(g, 1, 2) for _ in range(g.integers(0, 2 if g.purpose == "forward" else 1)))
    x = g.array((n, c) + spatial, D, unique=True)
    training = g.boolean()
    affine = [g.array((c,), Domain(0.5, 2)), g.array((c,))] if g.boolean() else [None, None]
    if training:
        s = Sample(x, None, None, *affine, training=True)
    else:
        s = Sample(x, g.array((c,)), g.array((c,), Domain(0.25, 2)), *affine, nograd=(1, 2))
    if g.boolean():
        s.kwargs["eps"] = g.choice([1e-3, 0.25])
    return s


def _batch_norm_ref(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                    eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _layer_norm_sample(g):
    shape = g.shape(min_ndim=1, min_size=1, max_numel=8 if g.purpose != "forward" else 24)
    k = g.integers(1, len(shape))
    norm_shape = shape[len(shape) - k:]
    g.assume(int(np.prod(norm_shape)) >= 2)
    x = g.array(shape, D, unique=True)
    s = Sample(x, tuple(norm_shape))   # a tuple: PyTorch's function refuses a bare int
    if g.boolean():
        s.args = s.args + (g.array(norm_shape, Domain(0.5, 2)), g.array(norm_shape))
    if g.boolean():
        s.kwargs["eps"] = g.choice([1e-3, 0.25])
    return s


def _layer_norm_ref(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    k = len(normalized_shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ---- padding ---------------------------------------------------------------------------------------

def _pad_sample(g):
    mode = g.choice(["constant", "constant", "reflect", "replicate", "circular"])
    if mode == "constant":
        x = g.array(g.shape(min_ndim=1))
        k = g.integers(1, x.ndim)
        pads = []
        for d in range(k):
            n = x.shape[x.ndim - 1 - d]
            lo = g.integers(-min(n, 1), 2)
            pads += [lo, g.integers(-min(n + lo, 1), 2)]    # never crop below zero size
        s = Sample(x, tuple(pads))
        if g.boolean():
            s.kwargs["value"] = g.scalar()
        return s
    k = g.integers(1, 2)
    lead = (1, _small(g, 1, 2)) if g.boolean() else (_small(g, 1, 2),)
    spatial = tuple(_small(g, 2, 3) for _ in range(k))
    x = g.array(lead + spatial)
    pads = []
    for n in reversed(spatial):
        pads += [g.integers(0, n - 1), g.integers(0, n - 1)]
    return Sample(x, tuple(pads), mode=mode)


_NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_ref(x, pad, mode="constant", value=None):
    pairs = [(0, 0)] * x.ndim
    for d in range(len(pad) // 2):
        pairs[x.ndim - 1 - d] = (pad[2 * d], pad[2 * d + 1])
    if mode == "constant":
        crop = tuple(slice(max(0, -lo), n - max(0, -hi)) for (lo, hi), n in zip(pairs, x.shape))
        grow = [(max(0, lo), max(0, hi)) for lo, hi in pairs]
        return np.pad(x[crop], grow, constant_values=0 if value is None else value)
    return np.pad(x, pairs, mode=_NP_MODE[mode])


def _errors_conv():
    return [ErrorInput(lambda g: Sample(g.array((1, 2, 3, 3)), g.array((1, 3, 2, 2))), RuntimeError,
                       "weight channels 3 for an input of 2 channels"),
            ErrorInput(lambda g: Sample(g.array((3, 3)), g.array((1, 1, 2, 2))), RuntimeError, "a 2-d input")]


ENTRIES = [
    _op("dense", "linear", _linear_ref, _linear_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((4, 2))), RuntimeError,
                           "weight of 2 features for an input of 3")]),
    _op("dense", "embedding", _embedding_ref, _embedding_sample,
        errors=[ErrorInput(lambda g: Sample(Arr(np.array([3]), "int64"), g.array((3, 2))), IndexError,
                           "index 3 of 3 embeddings"),
                ErrorInput(lambda g: Sample(Arr(np.array([0.0]), "float32"), g.array((3, 2))), RuntimeError,
                           "float indices")]),
    _op("convolution", "conv2d", _conv2d_ref, _conv2d_sample, errors=_errors_conv()),
    _op("convolution", "conv1d", _conv1d_ref, _conv1d_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 4)), g.array((1, 3, 2))), RuntimeError,
                           "weight channels 3 for an input of 2 channels"),
                ErrorInput(lambda g: Sample(g.array((1, 2, 4)), None), TypeError, "a weight of None")]),
    _op("convolution", "conv_transpose2d", _conv_transpose2d_ref, _conv_transpose2d_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 3, 3)), g.array((3, 1, 2, 2))), RuntimeError,
                           "weight for 3 input channels and an input of 2"),
                ErrorInput(lambda g: Sample(g.array((1, 2, 3, 3)), g.array((2, 1, 2, 2)), groups=1.5), TypeError,
                           "a float groups")]),
    _op("convolution", "unfold", _unfold_ref, _unfold_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 0, 2, 2)), 1), RuntimeError, "an empty channel dim")]),
    _op("convolution", "fold", _fold_ref, _fold_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 3, 4)), (3, 3), 2), RuntimeError,
                           "3 rows for a 2x2 kernel")]),
    _op("pooling", "max_pool2d", _max_pool_ref(False), _pool_sample(False), dtypes=FLOATS,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 0, 2, 2)), 2), RuntimeError, "an empty channel dim"),
                ErrorInput(lambda g: Sample(g.array((1, 1, 2, 2)), 2, ceil_mode=None), TypeError,
                           "a ceil_mode of None")]),
    _op("pooling", "max_pool2d_with_indices", _max_pool_ref(True), _pool_sample(False),
        result_dtype=lambda d, s: (d, plugrad.int64)),
    _op("pooling", "avg_pool2d", _avg_pool_ref, _pool_sample(True),
        errors=[ErrorInput(lambda g: Sample(g.array((1, 1, 2, 2)), 2), RuntimeError,
                           "an int32 input (PyTorch averages int64 only)", "int32")]),
    _op("pooling", "adaptive_avg_pool2d", _adaptive_ref, _adaptive_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 3, 3)), None), TypeError, "an output_size of None"),
                ErrorInput(lambda g: Sample(g.array((1, 0, 3)), 2), RuntimeError, "an empty height")]),
    _op("normalization", "batch_norm", _batch_norm_ref, _batch_norm_sample, tol={"float16": (1e-2, 2e-2)},
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2)), None, None, training=True), ValueError,
                           "training with one value per channel"),
                ErrorInput(lambda g: Sample(g.array((3, 2)), None, None, training=True, eps=0.0), ValueError,
                           "training with eps 0")]),
    _op("normalization", "layer_norm", _layer_norm_ref, _layer_norm_sample, tol={"float16": (1e-2, 2e-2)},
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), (2,)), RuntimeError, "a normalized_shape that does "
                                                                                   "not end the input's shape")]),
    _op("padding", "pad", _pad_ref, _pad_sample, dtypes=FLOATS,
        errors=[ErrorInput(lambda g: Sample(g.array((1, 2, 3)), (1, 1), mode="wrap"), NotImplementedError,
                           "an unknown mode"),
                ErrorInput(lambda g: Sample(g.array((1, 2, 3)), (1, 1), mode=None), TypeError, "a mode of None"),
                ErrorInput(lambda g: Sample(g.array((1, 2, 3)), (1, 1), value="bogus"), TypeError,
                           "a string value")]),
]

__all__ = ["ENTRIES"]
