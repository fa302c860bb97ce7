"""nn.Transformer and its parts against PyTorch: the torch module's state dict copied into
the plugrad one (same keys), then outputs and gradients compared in float64 to 1e-10,
over batch_first, norm_first, activations, bias and every kind of mask, on every device."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugrad

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch_oracle,
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]

TOL = dict(rtol=1e-10, atol=1e-10)
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


def np_of(t):
    return t.detach().cpu().numpy()


def close(actual, expected, **tol):
    a, e = np_of(actual), np_of(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, **(tol or TOL))


def build(cls_name, *args, device="cpu", **kwargs):
    """The torch module and its plugrad twin, with the torch module's parameters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # enable_nested_tensor's warning, in both
        torch.manual_seed(0)
        tmod = _make(torch, cls_name, args, kwargs).double()
        pmod = _make(plugrad, cls_name, args, kwargs).double()
    state = tmod.state_dict()
    assert list(state) == list(pmod.state_dict())
    pmod.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in state.items()})
    return tmod, pmod.to(device)


def _make(lib, cls_name, args, kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("activation") == "callable":
        kwargs["activation"] = lib.nn.functional.silu
    if cls_name in ("TransformerEncoder", "TransformerDecoder"):
        layer_cls = getattr(lib.nn, cls_name + "Layer")
        layer = layer_cls(*args, **{k: v for k, v in kwargs.items() if k not in ("num_layers", "with_norm")})
        norm = lib.nn.LayerNorm(args[0]) if kwargs.get("with_norm") else None
        return getattr(lib.nn, cls_name)(layer, kwargs["num_layers"], norm)
    return getattr(lib.nn, cls_name)(*args, **kwargs)


def both(arr, device, grad=False):
    if arr is None:
        return None, None
    g = grad and arr.dtype.kind == "f"
    return torch.tensor(arr, requires_grad=g), plugrad.tensor(arr, device=device).requires_grad_(g)


def same_grads(tmod, pmod):
    for (n1, p1), (n2, p2) in zip(tmod.named_parameters(), pmod.named_parameters()):
        assert n1 == n2
        assert (p1.grad is None) == (p2.grad is None), n1
        if p1.grad is not None:
            close(p2.grad, p1.grad)


def seq(r, batch_first, L, N, E):
    return r.standard_normal((N, L, E) if batch_first else (L, N, E))


def causal(L):
    return np.triu(np.full((L, L), -np.inf), 1)


def padding(r, N, S, kind):
    """A key padding mask with each row keeping its first position."""
    if kind is None:
        return None
    pad = r.random((N, S)) < 0.4
    pad[:, 0] = False
    return pad if kind == "bool" else np.where(pad, -np.inf, 0.0)


def attn_mask(r, L, S, kind):
    if kind is None:
        return None
    if kind == "causal":
        return causal(L)
    blocked = r.random((L, S)) < 0.4
    blocked[:, 0] = False
    return blocked if kind == "bool" else np.where(blocked, -np.inf, r.standard_normal((L, S)))


def run_and_compare(tmod, pmod, arrays, kwargs, device, seed):
    """Call both modules with ``arrays`` (positional, differentiated) and ``kwargs``
    (masks as arrays, flags as they are), compare outputs and all gradients."""
    pairs = [both(a, device, grad=True) for a in arrays]
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    pk = {k: plugrad.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = tmod(*(t for t, _ in pairs), **tk)
        actual = pmod(*(p for _, p in pairs), **pk)
    close(actual, expected)
    g = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(g))
    actual.backward(plugrad.tensor(g, device=device))
    same_grads(tmod, pmod)
    for t, p in pairs:
        close(p.grad, t.grad)


@st.composite
def layer_cases(draw):
    return dict(batch_first=draw(st.booleans()), norm_first=draw(st.booleans()), bias=draw(st.booleans()),
                activation=draw(st.sampled_from(["relu", "gelu", "callable"])),
                layer_norm_eps=draw(st.sampled_from([1e-5, 1e-3])))


MASKS = st.sampled_from([None, "bool", "float", "causal"])
PADS = st.sampled_from([None, "bool", "float"])


@with_device
@given(layer_cases(), MASKS, PADS, st.booleans(), st.integers(0, 2 ** 16))
def test_encoder_layer(device, cfg, mask, pad, hint, seed):
    r = np.random.default_rng(seed)
    L, N = r.integers(1, 4), r.integers(1, 3)
    tmod, pmod = build("TransformerEncoderLayer", 4, 2, 6, 0.0, device=device, **cfg)
    kwargs = dict(src_mask=attn_mask(r, L, L, mask), src_key_padding_mask=padding(r, N, L, pad))
    if mask == "causal" and hint:
        kwargs["is_causal"] = True
    run_and_compare(tmod, pmod, [seq(r, cfg["batch_first"], L, N, 4)], kwargs, device, seed)


@with_device
@given(layer_cases(), MASKS, PADS, PADS, st.integers(0, 2 ** 16))
def test_decoder_layer(device, cfg, mask, tgt_pad, mem_pad, seed):
    r = np.random.default_rng(seed)
    T, S, N = r.integers(1, 4), r.integers(1, 4), r.integers(1, 3)
    tmod, pmod = build("TransformerDecoderLayer", 4, 2, 6, 0.0, device=device, **cfg)
    kwargs = dict(tgt_mask=attn_mask(r, T, T, mask), memory_mask=attn_mask(r, T, S, "float" if mask else None),
                  tgt_key_padding_mask=padding(r, N, T, tgt_pad), memory_key_padding_mask=padding(r, N, S, mem_pad))
    if mask == "causal":
        kwargs["tgt_is_causal"] = True
    bf = cfg["batch_first"]
    run_and_compare(tmod, pmod, [seq(r, bf, T, N, 4), seq(r, bf, S, N, 4)], kwargs, device, seed)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_decoder_stacks(device, batch_first, norm_first):
    r = np.random.default_rng(7)
    L, S, N = 3, 4, 2
    cfg = dict(batch_first=batch_first, norm_first=norm_first, num_layers=2)
    tmod, pmod = build("TransformerEncoder", 4, 2, 6, 0.0, device=device, with_norm=True, **cfg)
    run_and_compare(tmod, pmod, [seq(r, batch_first, S, N, 4)],
                    dict(mask=causal(S), src_key_padding_mask=padding(r, N, S, "bool")), device, 1)
    tmod, pmod = build("TransformerDecoder", 4, 2, 6, 0.0, device=device, **cfg)
    run_and_compare(tmod, pmod, [seq(r, batch_first, L, N, 4), seq(r, batch_first, S, N, 4)],
                    dict(tgt_mask=causal(L), memory_key_padding_mask=padding(r, N, S, "float")), device, 2)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(device, batch_first, norm_first):
    r = np.random.default_rng(8)
    S, T, N = 4, 3, 2
    tmod, pmod = build("Transformer", d_model=4, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                       dim_feedforward=6, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
                       activation="gelu", device=device)
    src_pad = padding(r, N, S, "bool")
    kwargs = dict(tgt_mask=causal(T), src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad,
                  tgt_key_padding_mask=padding(r, N, T, "bool"), tgt_is_causal=True)
    run_and_compare(tmod, pmod, [seq(r, batch_first, S, N, 4), seq(r, batch_first, T, N, 4)], kwargs, device, 3)


def test_unbatched_transformer(device):
    r = np.random.default_rng(9)
    tmod, pmod = build("Transformer", d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=6, dropout=0.0, device=device)
    run_and_compare(tmod, pmod, [r.standard_normal((4, 4)), r.standard_normal((3, 4))],
                    dict(tgt_mask=causal(3), src_mask=attn_mask(r, 4, 4, "bool")), device, 4)


def test_state_dict_keys_and_submodules():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(torch.nn.Transformer(8, 2, 2, 2, 16), plugrad.nn.Transformer(8, 2, 2, 2, 16)),
                 (torch.nn.TransformerEncoderLayer(8, 2, bias=False), plugrad.nn.TransformerEncoderLayer(8, 2,
                                                                                                      bias=False)),
                 (torch.nn.TransformerDecoderLayer(8, 2, norm_first=True),
                  plugrad.nn.TransformerDecoderLayer(8, 2, norm_first=True))]
    for tmod, pmod in pairs:
        assert list(tmod.state_dict()) == list(pmod.state_dict())
        assert [n for n, _ in tmod.named_modules()] == [n for n, _ in pmod.named_modules()]
        for (n, a), (_, b) in zip(tmod.state_dict().items(), pmod.state_dict().items()):
            assert tuple(a.shape) == tuple(b.shape), n
    layer = pairs[1][1]
    assert layer.activation_relu_or_gelu == 1 and layer.activation is plugrad.nn.functional.relu


def test_transformer_initialisation():
    """Every weight matrix from xavier_uniform, LayerNorms at (1, 0), attention biases 0."""
    model = plugrad.nn.Transformer(16, 2, 1, 1, 32)
    for name, p in model.named_parameters():
        values = np_of(p)
        if p.dim() > 1:
            fan_out, fan_in = p.shape
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(values).max() <= bound and values.std() > 0.3 * bound, name
        elif "norm" in name:
            assert (values == (1.0 if name.endswith("weight") else 0.0)).all(), name
        elif "attn" in name:
            assert not values.any(), name


def test_generate_square_subsequent_mask():
    for sz, kw in ((1, {}), (4, {}), (3, {"dtype": "float64"})):
        tkw = {k: getattr(torch, v) for k, v in kw.items()}
        pkw = {k: getattr(plugrad, v) for k, v in kw.items()}
        expected = torch.nn.Transformer.generate_square_subsequent_mask(sz, **tkw)
        actual = plugrad.nn.Transformer.generate_square_subsequent_mask(sz, **pkw)
        assert str(actual.dtype) == str(expected.dtype)
        np.testing.assert_array_equal(np_of(actual), np_of(expected))
    on = plugrad.nn.Transformer.generate_square_subsequent_mask(2, device="cpu")
    assert on.device.type == "cpu"


def test_eval_encoder_zeroes_padding_like_torch_nested_path(device, fastpath):
    """In inference PyTorch's encoder runs only the unpadded positions (nested tensors):
    the padded ones come out as the final norm of zeros (not with the fast path off)."""
    r = np.random.default_rng(10)
    tmod, pmod = build("TransformerEncoder", 4, 2, 6, 0.0, device=device, with_norm=True, batch_first=True,
                       num_layers=2)
    tmod.eval()
    pmod.eval()
    x = r.standard_normal((3, 4, 4))
    pad = np.array([[False, False, True, True], [False, False, False, False], [False, True, True, True]])
    with torch.no_grad(), plugrad.no_grad():
        expected = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
        actual = pmod(plugrad.tensor(x, device=device), src_key_padding_mask=plugrad.tensor(pad, device=device))
    close(actual, expected)
    with torch.no_grad(), plugrad.no_grad():   # not left-aligned: the ordinary path in both
        expected = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad[:, ::-1].copy()))
        actual = pmod(plugrad.tensor(x, device=device),
                      src_key_padding_mask=plugrad.tensor(pad[:, ::-1].copy(), device=device))
    close(actual, expected)


def test_nested_tensor_warning_like_torch():
    for kw in (dict(norm_first=True), dict(batch_first=False), dict(batch_first=True, nhead=1)):
        kw = {"nhead": 2, **kw}
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, **kw), 1)
        with warnings.catch_warnings(record=True) as pw:
            warnings.simplefilter("always")
            enc = plugrad.nn.TransformerEncoder(plugrad.nn.TransformerEncoderLayer(4, **kw), 1)
        assert [str(w.message) for w in pw] == [str(w.message) for w in tw]
        assert enc.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plugrad.nn.TransformerEncoder(plugrad.nn.TransformerEncoderLayer(4, 2, batch_first=True), 1,
                                      enable_nested_tensor=False)


BAD = [
    ("batch mismatch", lambda L: (L.nn.Transformer(4, 2, 1, 1, 6), (L.randn(3, 2, 4), L.randn(3, 1, 4)))),
    ("batch mismatch, batch_first", lambda L: (L.nn.Transformer(4, 2, 1, 1, 6, batch_first=True),
                                               (L.randn(2, 3, 4), L.randn(1, 3, 4)))),
    ("d_model", lambda L: (L.nn.Transformer(4, 2, 1, 1, 6), (L.randn(3, 2, 5), L.randn(3, 2, 5)))),
    ("activation name", lambda L: (L.nn.TransformerEncoderLayer(4, 2, activation="tanh"), None)),
    ("nhead", lambda L: (L.nn.TransformerEncoderLayer(4, 3), None)),
    ("mask shape", lambda L: (L.nn.TransformerEncoderLayer(4, 2, 6), (L.randn(3, 2, 4), L.zeros(2, 2)))),
]


@pytest.mark.parametrize("why,make", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_like_torch(why, make):
    def call(lib):
        def go():
            mod, args = make(lib)
            if args is not None:
                mod(*args)
        return go
    with pytest.raises(Exception) as expected:
        call(torch)()
    with pytest.raises(type(expected.value)):
        call(plugrad)()


def test_training_dropout_is_random_and_eval_is_not(device):
    model = plugrad.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.5).to(device)
    x = plugrad.randn(3, 2, 4).to(device)
    plugrad.manual_seed(0)
    a = model(x)
    plugrad.manual_seed(1)
    assert not a.equal(model(x))
    model.eval()
    assert model(x).equal(model(x))


def close_with_nan(actual, expected):
    a, e = np_of(actual), np_of(expected)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
    np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(e), **TOL)


@pytest.fixture(params=[True, False], ids=["fastpath", "no-fastpath"])
def fastpath(request):
    """``backends.mha.set_fastpath_enabled`` to the same value in both libraries."""
    saved = torch.backends.mha.get_fastpath_enabled(), plugrad.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(request.param)
    plugrad.backends.mha.set_fastpath_enabled(request.param)
    yield request.param
    torch.backends.mha.set_fastpath_enabled(saved[0])
    plugrad.backends.mha.set_fastpath_enabled(saved[1])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "callable"])
@pytest.mark.parametrize("nhead", [1, 2])
def test_queries_that_attend_nothing_like_torch(device, batch_first, activation, nhead, fastpath):
    """A query whose keys are all masked: zeros out of attention in training and when
    gradients are wanted, NaN in the inference paths PyTorch runs through its fused
    kernels (eval, no grad, batch_first, an even number of heads...) unless
    ``backends.mha.set_fastpath_enabled(False)``."""
    tmod, pmod = build("TransformerEncoderLayer", 4, nhead, 6, 0.0, device=device, batch_first=batch_first,
                       activation=activation)
    r = np.random.default_rng(11)
    x = seq(r, batch_first, 3, 2, 4)
    pad = np.array([[False, False, True], [True, True, True]])
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[1] = True
    calls = [dict(src_key_padding_mask=pad), dict(src_mask=blocked), dict(src_mask=np.where(blocked, -np.inf, 0.0))]
    for training, grad in ((True, True), (False, True), (False, False)):
        tmod.train(training)
        pmod.train(training)
        for kw in calls:
            with torch.set_grad_enabled(grad), plugrad.set_grad_enabled(grad):
                expected = tmod(torch.tensor(x), **{k: torch.tensor(v) for k, v in kw.items()})
                actual = pmod(plugrad.tensor(x, device=device),
                              **{k: plugrad.tensor(v, device=device) for k, v in kw.items()})
            close_with_nan(actual, expected)
            tattn, pattn = tmod.self_attn, pmod.self_attn
            tx, px = torch.tensor(x), plugrad.tensor(x, device=device)
            for need_weights in (False, True):
                masks = {"key_padding_mask" if k.startswith("src_key") else "attn_mask": v for k, v in kw.items()}
                with torch.set_grad_enabled(grad), plugrad.set_grad_enabled(grad):
                    expected = tattn(tx, tx, tx, need_weights=need_weights,
                                     **{k: torch.tensor(v) for k, v in masks.items()})
                    actual = pattn(px, px, px, need_weights=need_weights,
                                   **{k: plugrad.tensor(v, device=device) for k, v in masks.items()})
                close_with_nan(actual[0], expected[0])
                assert (actual[1] is None) == (expected[1] is None)


def test_mha_fastpath_switch_like_torch():
    assert plugrad.backends.mha.get_fastpath_enabled() is torch.backends.mha.get_fastpath_enabled() is True
    plugrad.backends.mha.set_fastpath_enabled(False)
    try:
        assert plugrad.backends.mha.get_fastpath_enabled() is False
    finally:
        plugrad.backends.mha.set_fastpath_enabled(True)
