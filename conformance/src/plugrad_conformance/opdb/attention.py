"""Entries for ``plugrad.ops.attention``: ``scaled_dot_product_attention`` and
``multi_head_attention_forward``. The references are the formulas written out in
NumPy: scores, masks, softmax, weighted sum (and the projections around them)."""

from __future__ import annotations

import math

import numpy as np

from ..gen import Domain
from ..opinfo import Arr, ErrorInput, OpInfo, Sample

#: sums of a few products, a softmax, then another sum: float16 rounds at each step
ATTENTION_TOL = {"float16": (1e-2, 2e-2)}

SMALL = Domain(-2, 2)


def _op(name, ref, sample, **kw):
    kw.setdefault("tol", ATTENTION_TOL)
    return OpInfo(name, "plugrad.ops.attention", ref, sample, method=False, inplace=False, **kw)


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _values(a):
    return a.value if isinstance(a, Arr) else a


# ---- scaled_dot_product_attention ---------------------------------------------------------------

def _sdpa_sample(g):
    batch = g.shape(max_ndim=2, min_size=1, max_size=2)
    L, S, E, Ev = g.integers(1, 3), g.integers(1, 3), g.integers(1, 3), g.integers(1, 2)
    heads = g.integers(1, 2) if batch else 1
    gqa = bool(batch) and heads == 2 and g.boolean()
    kv_batch = batch[:-1] + (1,) if gqa else batch
    q = g.array(batch + (L, E), SMALL)
    k, v = g.array(kv_batch + (S, E), SMALL), g.array(kv_batch + (S, Ev), SMALL)
    s = Sample(q, k, v)
    if gqa:
        s.kwargs["enable_gqa"] = True
    kind = g.integers(0, 3)
    if kind == 1:
        s.kwargs["is_causal"] = True
    elif kind == 2:
        s.kwargs["attn_mask"] = g.mask((L, S))   # True = attend; rows with none give zeros
    elif kind == 3:
        s.kwargs["attn_mask"] = g.array((L, S) if g.boolean() else (1, S), SMALL)
    if g.boolean():
        s.kwargs["scale"] = g.choice([0.5, -0.25, 2.0])
    if g.purpose == "forward" and g.integers(0, 5) == 0:
        s.kwargs["dropout_p"] = 1.0   # every weight dropped: the one dropout result that is not random
    return s


def _sdpa_ref(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    L, S = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    scores = q @ np.swapaxes(k, -1, -2) * factor
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    attn_mask = _values(attn_mask)
    if attn_mask is None:
        weights = _softmax(scores)
    else:
        scores = scores + (np.where(attn_mask, 0.0, -np.inf) if attn_mask.dtype == bool else attn_mask)
        dead = np.all(scores == -np.inf, axis=-1, keepdims=True)
        weights = np.where(dead, 0.0, _softmax(np.where(dead, 0.0, scores)))
    if dropout_p == 1.0:
        weights = np.zeros_like(weights)
    return weights @ v


# ---- multi_head_attention_forward ----------------------------------------------------------------

def _mha_sample(g):
    heads, head_dim = g.integers(1, 2), g.integers(1, 2)
    E = heads * head_dim
    L, S = g.integers(1, 3), g.integers(1, 3)
    batched = g.boolean()
    N = g.integers(1, 2) if batched else None
    separate = g.boolean()
    kdim, vdim = (g.integers(1, 3), g.integers(1, 3)) if separate else (E, E)

    def seq(n, width):
        return g.array((n, N, width) if batched else (n, width), SMALL)

    query, key, value = seq(L, E), seq(S, kdim), seq(S, vdim)
    bias = g.boolean()
    in_w = None if separate else g.array((3 * E, E), SMALL)
    in_b = g.array((3 * E,), SMALL) if bias else None
    add_bias_kv = g.boolean()
    bias_k, bias_v = (g.array((1, 1, E), SMALL), g.array((1, 1, E), SMALL)) if add_bias_kv else (None, None)
    add_zero_attn = g.boolean()
    s = Sample(query, key, value, E, heads, in_w, in_b, bias_k, bias_v, add_zero_attn, 0.0,
               g.array((E, E), SMALL), g.array((E,), SMALL) if bias else None)
    s.kwargs["training"] = g.boolean()
    s.kwargs["need_weights"] = g.boolean()
    if s.kwargs["need_weights"] and g.boolean():
        s.kwargs["average_attn_weights"] = False
    if separate:
        s.kwargs.update(use_separate_proj_weight=True, q_proj_weight=g.array((E, E), SMALL),
                        k_proj_weight=g.array((E, kdim), SMALL), v_proj_weight=g.array((E, vdim), SMALL))
    if batched and g.boolean():
        padding = g.array((N, S), kind="bool")
        padding[:, 0] = False   # every query keeps a key: no all-masked row (NaN weights in PyTorch too)
        s.kwargs["key_padding_mask"] = Arr(padding, "bool")
    mask_kind = g.integers(0, 2)
    if mask_kind == 1:
        masked = g.array((L, S), kind="bool")
        masked[:, 0] = False
        s.kwargs["attn_mask"] = Arr(masked, "bool")
    elif mask_kind == 2:
        s.kwargs["attn_mask"] = g.array((L, S), SMALL)
    return s


def _mha_ref(query, key, value, embed_dim, heads, in_w, in_b, bias_k, bias_v, add_zero_attn, dropout_p,
             out_w, out_b, training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
             use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None, v_proj_weight=None,
             average_attn_weights=True):
    batched = query.ndim == 3
    if not batched:
        query, key, value = query[:, None], key[:, None], value[:, None]
        key_padding_mask = None if key_padding_mask is None else _values(key_padding_mask)[None]
    L, N, E = query.shape
    hd = E // heads
    if use_separate_proj_weight:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        w_q, w_k, w_v = in_w[:E], in_w[E:2 * E], in_w[2 * E:]
    b_q, b_k, b_v = (0.0, 0.0, 0.0) if in_b is None else (in_b[:E], in_b[E:2 * E], in_b[2 * E:])
    q, k, v = query @ w_q.T + b_q, key @ w_k.T + b_k, value @ w_v.T + b_v
    mask = np.zeros((1, L, k.shape[0]))
    if attn_mask is not None:
        m = _values(attn_mask)
        mask = mask + (np.where(m, -np.inf, 0.0) if m.dtype == bool else m)[None]
    kpm = None if key_padding_mask is None else np.where(_values(key_padding_mask), -np.inf, 0.0)
    if bias_k is not None:
        k = np.concatenate([k, np.broadcast_to(bias_k, (1, N, E))])
        v = np.concatenate([v, np.broadcast_to(bias_v, (1, N, E))])
        mask = np.pad(mask, ((0, 0), (0, 0), (0, 1)))
        kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
    # (N * heads, len, hd)
    q = q.reshape(L, N * heads, hd).transpose(1, 0, 2)
    k = k.reshape(k.shape[0], N * heads, hd).transpose(1, 0, 2)
    v = v.reshape(v.shape[0], N * heads, hd).transpose(1, 0, 2)
    if add_zero_attn:
        k = np.concatenate([k, np.zeros((N * heads, 1, hd))], axis=1)
        v = np.concatenate([v, np.zeros((N * heads, 1, hd))], axis=1)
        mask = np.pad(mask, ((0, 0), (0, 0), (0, 1)))
        kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
    S = k.shape[1]
    if kpm is not None:
        mask = mask + np.repeat(kpm, heads, axis=0)[:, None, :]
    weights = _softmax(q @ k.transpose(0, 2, 1) / math.sqrt(hd) + mask)
    out = (weights @ v).transpose(1, 0, 2).reshape(L, N, E) @ out_w.T + (0.0 if out_b is None else out_b)
    weights = weights.reshape(N, heads, L, S)
    if average_attn_weights:
        weights = weights.mean(axis=1)
    if not batched:
        out, weights = out[:, 0], weights[0]
    return out, (weights if need_weights else None)


def _mha_call(q, k, v, E=2, heads=1, **kw):
    return Sample(q, k, v, E, heads, np.vstack([np.eye(E)] * 3), None, None, None, False, 0.0, np.eye(E), None, **kw)


ENTRIES = [
    _op("scaled_dot_product_attention", _sdpa_ref, _sdpa_sample,
        errors=[ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((2, 2)),
                                            attn_mask=g.mask((2, 2)), is_causal=True), RuntimeError,
                           "both an attn_mask and is_causal"),
                ErrorInput(lambda g: Sample(g.array((3,)), g.array((2, 3)), g.array((2, 2))), RuntimeError,
                           "a 1-d query"),
                ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 4)), g.array((2, 2))), RuntimeError,
                           "query and key of different widths"),
                ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((2, 2)),
                                            attn_mask=Arr(np.zeros((2, 2), dtype=np.int64), "int64")), RuntimeError,
                           "an int64 attn_mask"),
                ErrorInput(lambda g: Sample(g.array((2, 3)), g.array((2, 3)), g.array((2, 2)), dropout_p=1.5),
                           RuntimeError, "a dropout probability above 1")]),
    _op("multi_head_attention_forward", _mha_ref, _mha_sample, dtypes=frozenset({"float32", "float64"}),
        errors=[ErrorInput(lambda g: _mha_call(g.array((2, 1, 2)), g.array((3, 1, 2)), g.array((3, 1, 2)),
                                               attn_mask=g.array((2, 2))), RuntimeError,
                           "a 2-D attn_mask of the wrong shape"),
                ErrorInput(lambda g: _mha_call(g.array((2, 1, 2)), g.array((3, 1, 2)), g.array((3, 2))),
                           AssertionError, "a 2-D value for a batched query"),
                ErrorInput(lambda g: _mha_call(g.array((2, 1, 2)), g.array((3, 1, 2)), g.array((3, 1, 2)), E=3),
                           AssertionError, "an embedding width other than embed_dim_to_check")]),
]

__all__ = ["ENTRIES"]
