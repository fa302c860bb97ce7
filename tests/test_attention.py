"""F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention
against PyTorch: the same inputs and parameters (state dicts copied) in both libraries,
then outputs, attention weights, gradients and exception classes compared. float64 on
every device, to 1e-10."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

TOL = dict(rtol=1e-10, atol=1e-10)

#: the device fixture is a plain string: reusing it across examples is safe
with_device = settings(suppress_health_check=list(settings.default.suppress_health_check)
                       + [HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _float64_device(request):
    """These comparisons run in float64: a device without it skips them."""
    if "device" in request.fixturenames:
        from plugrad.plugins.registry import backend_for
        device = request.getfixturevalue("device")
        if plugrad.float64 not in backend_for(device).dtypes:
            pytest.skip(f"{device} has no float64")


# ---- moving values between the two libraries ----------------------------------------------

def np_of(t):
    return None if t is None else t.detach().cpu().numpy()


def close(actual, expected, **tol):
    """Two tensors (or Nones) of the two libraries agree to ``tol`` (TOL by default)."""
    if expected is None:
        assert actual is None
        return
    a, e = np_of(actual), np_of(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, **(tol or TOL))


def both(arr, device, grad=False):
    """``arr`` as a torch tensor and a plugrad tensor on ``device`` (None stays None)."""
    if arr is None:
        return None, None
    t = torch.tensor(arr, requires_grad=grad and arr.dtype.kind == "f")
    p = plugrad.tensor(arr, device=device).requires_grad_(grad and arr.dtype.kind == "f")
    return t, p


def copy_state(src, dst, device="cpu"):
    """Load ``src``'s (torch) state dict into ``dst`` (plugrad); the keys must be the same."""
    state = src.state_dict()
    assert list(state) == list(dst.state_dict())
    dst.load_state_dict({k: plugrad.tensor(v.detach().numpy()) for k, v in state.items()})
    dst.to(device)


def same_grads(tmod, pmod):
    for (n1, p1), (n2, p2) in zip(tmod.named_parameters(), pmod.named_parameters()):
        assert n1 == n2
        if p1.grad is None:
            assert p2.grad is None, n2
        else:
            close(p2.grad, p1.grad)


def raises_like(torch_call, plugrad_call):
    """Both calls raise, with the same exception class."""
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(type(expected.value)):
        plugrad_call()


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- scaled_dot_product_attention ---------------------------------------------------------------

@st.composite
def sdpa_cases(draw):
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    gqa = len(batch) >= 1 and batch[-1] == 2 and draw(st.booleans())
    kv_batch = batch[:-1] + (1,) if gqa else batch
    mask = draw(st.sampled_from(["none", "bool", "float", "causal", "bool_broadcast"]))
    # PyTorch's fused CPU kernel (4-d inputs) gives NaN for a negative scale with a mask;
    # its reference path (the other ranks) is the oracle for negative scales
    scale = draw(st.sampled_from([None, 0.3] if len(batch) == 2 else [None, 0.3, -0.7]))
    seed = draw(st.integers(0, 2 ** 16))
    return batch, kv_batch, L, S, E, Ev, gqa, mask, scale, seed


def _mask(kind, L, S, r):
    if kind == "bool":
        return r.random((L, S)) < 0.6
    if kind == "bool_broadcast":
        return r.random((1, S)) < 0.6
    if kind == "float":
        return r.standard_normal((L, S))
    return None


@with_device
@given(sdpa_cases())
def test_sdpa_matches_torch(device, case):
    batch, kv_batch, L, S, E, Ev, gqa, kind, scale, seed = case
    r = rng(seed)
    arrays = [r.standard_normal(batch + (L, E)), r.standard_normal(kv_batch + (S, E)),
              r.standard_normal(kv_batch + (S, Ev))]
    (tq, pq), (tk, pk), (tv, pv) = (both(a, device, grad=True) for a in arrays)
    tm, pm = both(_mask(kind, L, S, r), device, grad=True)
    kw = dict(is_causal=kind == "causal", scale=scale, enable_gqa=gqa)
    expected = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, tm, **kw)
    actual = plugrad.nn.functional.scaled_dot_product_attention(pq, pk, pv, pm, **kw)
    close(actual, expected)
    g = r.standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(g))
    actual.backward(plugrad.tensor(g, device=device))
    for t, p in ((tq, pq), (tk, pk), (tv, pv), (tm, pm)):
        if t is not None and t.requires_grad:
            close(p.grad, t.grad)


def test_sdpa_causal_is_top_left_aligned(device):
    """L != S: query i attends keys 0..i (PyTorch's tril of an L x S matrix)."""
    for L, S in ((2, 5), (5, 2)):
        r = rng(L)
        q, k, v = (r.standard_normal(s) for s in ((L, 3), (S, 3), (S, 2)))
        expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), is_causal=True)
        actual = plugrad.nn.functional.scaled_dot_product_attention(
            *(plugrad.tensor(a, device=device) for a in (q, k, v)), is_causal=True)
        close(actual, expected)
        close(actual[0], torch.tensor(v[0]))


def test_sdpa_fully_masked_rows_give_zeros_and_zero_grads(device):
    r = rng(1)
    arrays = [r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4)), r.standard_normal((2, 5, 2))]
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    fmask = np.where(mask, 0.0, -np.inf)
    for m in (mask, fmask):
        (tq, pq), (tk, pk), (tv, pv) = (both(a, device, grad=True) for a in arrays)
        expected = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, torch.tensor(m))
        actual = plugrad.nn.functional.scaled_dot_product_attention(pq, pk, pv, plugrad.tensor(m, device=device))
        close(actual, expected)
        assert not actual[:, 1].abs().sum().item()
        expected.sum().backward()
        actual.sum().backward()
        for t, p in ((tq, pq), (tk, pk), (tv, pv)):
            close(p.grad, t.grad)
        assert np.isfinite(np_of(pq.grad)).all()


def test_sdpa_float32_mask_with_float64_inputs(device):
    r = rng(2)
    q, k, v = (r.standard_normal((2, 3, 4)) for _ in range(3))
    m = r.standard_normal((3, 3)).astype(np.float32)
    expected = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v, m)))
    actual = plugrad.nn.functional.scaled_dot_product_attention(*(plugrad.tensor(a, device=device)
                                                                  for a in (q, k, v, m)))
    assert actual.dtype == plugrad.float64
    close(actual, expected)


def test_sdpa_dropout_only_when_p_positive(device):
    r = rng(3)
    q, k, v = (plugrad.tensor(r.standard_normal((2, 4, 3)), device=device) for _ in range(3))
    F = plugrad.nn.functional
    plugrad.manual_seed(0)
    base = F.scaled_dot_product_attention(q, k, v)
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).equal(base)
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).abs().sum().item() == 0
    plugrad.manual_seed(5)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    plugrad.manual_seed(5)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert first.equal(again) and not first.equal(base)


SDPA_BAD = [
    ("mask and causal", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3)),
                                   dict(attn_mask=L.ones(2, 2, dtype=L.bool), is_causal=True))),
    ("1-d query", lambda L: ((L.randn(3), L.randn(2, 3), L.randn(2, 3)), {})),
    ("dtype mismatch", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3, dtype=L.float64)), {})),
    ("int mask", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3)),
                            dict(attn_mask=L.zeros(2, 2, dtype=L.int64)))),
    ("float64 mask, float32 query", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3)),
                                               dict(attn_mask=L.zeros(2, 2, dtype=L.float64)))),
    ("key width", lambda L: ((L.randn(2, 3), L.randn(2, 4), L.randn(2, 3)), {})),
    ("value length", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(4, 3)), {})),
    ("mask shape", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3)), dict(attn_mask=L.zeros(3, 2)))),
    ("gqa heads", lambda L: ((L.randn(1, 3, 2, 3), L.randn(1, 2, 2, 3), L.randn(1, 2, 2, 3)),
                             dict(enable_gqa=True))),
    ("query None", lambda L: ((None, L.randn(2, 3), L.randn(2, 3)), {})),
    ("dropout above 1", lambda L: ((L.randn(2, 3), L.randn(2, 3), L.randn(2, 3)), dict(dropout_p=1.5))),
]


@pytest.mark.parametrize("why,build", SDPA_BAD, ids=[b[0] for b in SDPA_BAD])
def test_sdpa_bad_input_raises_like_torch(why, build):
    targs, tkw = build(torch)
    pargs, pkw = build(plugrad)
    raises_like(lambda: torch.nn.functional.scaled_dot_product_attention(*targs, **tkw),
                lambda: plugrad.nn.functional.scaled_dot_product_attention(*pargs, **pkw))


# ---- nn.MultiheadAttention ----------------------------------------------------------------------

def make_mha(device, **kw):
    torch.manual_seed(0)
    tmod = torch.nn.MultiheadAttention(**kw).double()
    pmod = plugrad.nn.MultiheadAttention(**kw).double()
    copy_state(tmod, pmod, device)
    return tmod, pmod


@st.composite
def mha_cases(draw):
    heads = draw(st.sampled_from([1, 2]))
    E = heads * draw(st.integers(1, 3))
    cfg = dict(embed_dim=E, num_heads=heads, bias=draw(st.booleans()), add_bias_kv=draw(st.booleans()),
               add_zero_attn=draw(st.booleans()), batch_first=draw(st.booleans()))
    if draw(st.booleans()):
        cfg.update(kdim=draw(st.integers(1, 4)), vdim=draw(st.integers(1, 4)))
    attention = draw(st.sampled_from(["self", "cross", "shared_kv"] if "kdim" not in cfg else ["cross"]))
    call = dict(need_weights=draw(st.booleans()), average_attn_weights=draw(st.booleans()))
    masks = dict(attn_mask=draw(st.sampled_from([None, "bool2d", "float2d", "bool3d", "float3d", "causal"])),
                 key_padding_mask=draw(st.sampled_from([None, "bool", "float"])))
    unbatched = draw(st.booleans())
    return cfg, attention, call, masks, unbatched, draw(st.integers(0, 2 ** 16))


def _mha_inputs(cfg, attention, unbatched, L, S, N, r):
    E = cfg["embed_dim"]
    kdim, vdim = cfg.get("kdim") or E, cfg.get("vdim") or E

    def seq(n, width):
        if unbatched:
            return r.standard_normal((n, width))
        return r.standard_normal((N, n, width) if cfg["batch_first"] else (n, N, width))
    q = seq(L, E)
    if attention == "self":
        return q, q, q
    k = seq(S, kdim)
    return (q, k, k) if attention == "shared_kv" else (q, k, seq(S, vdim))


def _mha_masks(masks, heads, L, S, N, unbatched, r):
    out = {}
    kind = masks["attn_mask"]
    blocked = r.random((heads * (1 if unbatched else N), L, S) if kind and kind.endswith("3d") else (L, S)) < 0.4
    blocked[..., 0] = False   # every query keeps a key (all-masked rows are NaN in the weights path)
    if kind is not None:
        out["attn_mask"] = blocked if kind.startswith("bool") else np.where(blocked, -np.inf, r.standard_normal(
            blocked.shape)) if kind != "causal" else np.triu(np.full((L, L), -np.inf), 1)
    kpm = masks["key_padding_mask"]
    if kpm is not None:
        pad = r.random((S,) if unbatched else (N, S)) < 0.4
        pad[..., 0] = False
        out["key_padding_mask"] = pad if kpm == "bool" else np.where(pad, -np.inf, 0.0)
    return out


@with_device
@given(mha_cases())
def test_multihead_attention_matches_torch(device, case):
    cfg, attention, call, masks, unbatched, seed = case
    r = rng(seed)
    L = r.integers(1, 4)
    S = L if attention == "self" or masks["attn_mask"] == "causal" else r.integers(1, 4)
    N = r.integers(1, 3)
    tmod, pmod = make_mha(device, **cfg)
    arrays = _mha_inputs(cfg, attention, unbatched, L, S, N, r)
    tin, pin = {}, {}
    for name, a in zip("qkv", arrays):
        for seen, arr in zip("qkv", arrays):   # keep self-attention's identities (one projection)
            if arr is a and seen in tin:
                tin[name], pin[name] = tin[seen], pin[seen]
                break
        else:
            tin[name], pin[name] = both(a, device, grad=True)
    mask_arrays = _mha_masks(masks, cfg["num_heads"], L, S, N, unbatched, r)
    kw_t = {k: torch.tensor(v) for k, v in mask_arrays.items()}
    kw_p = {k: plugrad.tensor(v, device=device) for k, v in mask_arrays.items()}
    if masks["attn_mask"] == "causal":
        kw_t["is_causal"] = kw_p["is_causal"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # mismatched mask dtypes warn in both
        t_out, t_w = tmod(tin["q"], tin["k"], tin["v"], **call, **kw_t)
        p_out, p_w = pmod(pin["q"], pin["k"], pin["v"], **call, **kw_p)
    close(p_out, t_out)
    close(p_w, t_w)
    g = r.standard_normal(tuple(t_out.shape))
    loss_t = (t_out * torch.tensor(g)).sum() + (t_w.sum() if t_w is not None else 0)
    loss_p = (p_out * plugrad.tensor(g, device=device)).sum() + (p_w.sum() if p_w is not None else 0)
    loss_t.backward()
    loss_p.backward()
    same_grads(tmod, pmod)
    for name in "qkv":
        close(pin[name].grad, tin[name].grad)


def test_multihead_attention_parameters_init_and_names():
    torch.manual_seed(0)
    for kw in (dict(), dict(add_bias_kv=True), dict(kdim=3, vdim=5), dict(bias=False)):
        tmod = torch.nn.MultiheadAttention(4, 2, **kw)
        pmod = plugrad.nn.MultiheadAttention(4, 2, **kw)
        assert list(tmod.state_dict()) == list(pmod.state_dict())
        for (n, tp), (_, pp) in zip(tmod.named_parameters(), pmod.named_parameters()):
            assert tuple(tp.shape) == tuple(pp.shape), n
        assert type(pmod.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
        assert isinstance(pmod.out_proj, plugrad.nn.Linear)
        assert repr(pmod) == repr(tmod)
    big = plugrad.nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6.0 / (64 + 3 * 64))   # xavier_uniform over the packed (3E, E) matrix
    w = np_of(big.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not np_of(big.in_proj_bias).any() and not np_of(big.out_proj.bias).any()
    assert big.bias_k is None and big.bias_v is None and big.head_dim == 16


def test_multihead_attention_torch_state_dict_round_trip(device):
    tmod, pmod = make_mha(device, embed_dim=4, num_heads=2, add_bias_kv=True)
    back = torch.nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    back.load_state_dict({k: torch.tensor(np_of(v)) for k, v in pmod.state_dict().items()})
    x = rng(4).standard_normal((3, 2, 4))
    close(back(*(torch.tensor(x),) * 3)[0], tmod(*(torch.tensor(x),) * 3)[0])


def test_multihead_attention_eval_drops_no_weights_and_dropout_trains(device):
    tmod, pmod = make_mha(device, embed_dim=4, num_heads=2, dropout=0.5)
    x = rng(5).standard_normal((3, 2, 4))
    tx, px = torch.tensor(x), plugrad.tensor(x, device=device)
    tmod.eval()
    pmod.eval()
    close(pmod(px, px, px)[0], tmod(tx, tx, tx)[0])
    pmod.train()
    plugrad.manual_seed(0)
    a = pmod(px, px, px)[1]
    assert not a.equal(pmod.eval()(px, px, px)[1])


MHA_BAD = [
    ("embed_dim not divisible", lambda L: L.nn.MultiheadAttention(5, 2), None),
    ("zero heads", lambda L: L.nn.MultiheadAttention(4, 0), None),
    ("4-d query", lambda L: L.nn.MultiheadAttention(4, 2), lambda L: (L.randn(1, 2, 3, 4),) * 3),
    ("2-d key for 3-d query", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: (L.randn(2, 1, 4), L.randn(2, 4), L.randn(2, 4))),
    ("embed width", lambda L: L.nn.MultiheadAttention(4, 2), lambda L: (L.randn(2, 1, 3),) * 3),
    ("key/value shapes", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: (L.randn(2, 1, 4), L.randn(3, 1, 4), L.randn(2, 1, 4))),
    ("2-d mask shape", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(attn_mask=L.zeros(3, 2)))),
    ("3-d mask shape", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(attn_mask=L.zeros(1, 2, 2)))),
    ("4-d mask", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(attn_mask=L.zeros(1, 1, 2, 2)))),
    ("int mask", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(attn_mask=L.zeros(2, 2, dtype=L.int64)))),
    ("padding mask shape", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(key_padding_mask=L.zeros(1, 3, dtype=L.bool)))),
    ("padding mask rank", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(key_padding_mask=L.zeros(2, dtype=L.bool)))),
    ("is_causal without a mask", lambda L: L.nn.MultiheadAttention(4, 2),
     lambda L: ((L.randn(2, 1, 4),) * 3, dict(is_causal=True))),
]


@pytest.mark.parametrize("why,make,inputs", MHA_BAD, ids=[b[0] for b in MHA_BAD])
def test_multihead_attention_bad_input_raises_like_torch(why, make, inputs):
    def run(lib):
        def go():
            mod = make(lib)
            args = inputs(lib)
            args, kw = args if isinstance(args[-1], dict) else (args, {})
            return mod(*args, **kw)
        return go
    if inputs is None:
        raises_like(lambda: make(torch), lambda: make(plugrad))
    else:
        raises_like(run(torch), run(plugrad))


def test_mismatched_mask_dtypes_warn_like_torch():
    x = torch.randn(2, 1, 4)
    args = dict(key_padding_mask=torch.zeros(1, 2, dtype=torch.bool), attn_mask=torch.zeros(2, 2))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        torch.nn.MultiheadAttention(4, 2)(x, x, x, **args)
    px = plugrad.tensor(x.numpy())
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        plugrad.nn.MultiheadAttention(4, 2)(px, px, px, key_padding_mask=plugrad.zeros(1, 2, dtype=plugrad.bool),
                                            attn_mask=plugrad.zeros(2, 2))


def test_multi_head_attention_forward_static_kv(device):
    """The functional form with static_k/static_v (precomputed per-head keys and values)."""
    r = rng(6)
    E, heads, L, S, N = 4, 2, 3, 5, 2
    params = [r.standard_normal(s) for s in ((3 * E, E), (3 * E,), (E, E), (E,))]
    q = r.standard_normal((L, N, E))
    static = [r.standard_normal((N * heads, S, E // heads)) for _ in range(2)]
    (tq, pq), = [both(q, device, grad=True)]
    tp, pp = zip(*(both(a, device, grad=True) for a in params))
    ts, ps = zip(*(both(a, device, grad=True) for a in static))
    t_out, t_w = torch.nn.functional.multi_head_attention_forward(
        tq, tq, tq, E, heads, tp[0], tp[1], None, None, True, 0.0, tp[2], tp[3], static_k=ts[0], static_v=ts[1],
        average_attn_weights=False)
    p_out, p_w = plugrad.nn.functional.multi_head_attention_forward(
        pq, pq, pq, E, heads, pp[0], pp[1], None, None, True, 0.0, pp[2], pp[3], static_k=ps[0], static_v=ps[1],
        average_attn_weights=False)
    close(p_out, t_out)
    close(p_w, t_w)
    (t_out.sum() + t_w.sum()).backward()
    (p_out.sum() + p_w.sum()).backward()
    for t, p in zip(ts + tp + (tq,), ps + pp + (pq,)):
        close(p.grad, t.grad)
    raises_like(lambda: torch.nn.functional.multi_head_attention_forward(
                    tq, tq, tq, E, heads, tp[0], tp[1], None, None, False, 0.0, tp[2], tp[3], static_k=ts[0][:1]),
                lambda: plugrad.nn.functional.multi_head_attention_forward(
                    pq, pq, pq, E, heads, pp[0], pp[1], None, None, False, 0.0, pp[2], pp[3], static_k=ps[0][:1]))
