"""Sorting, searching, counting, running extremes and element moves against PyTorch.

Each case runs in plugrad (on every installed device) and in PyTorch (the oracle, on the
CPU) and must give the same values, indices and dtypes, the same ``grad_fn`` name and the
same gradients under a non-uniform upstream gradient (for the cases marked ``second``,
also the same second derivatives). Inputs have ties, which fix the reported indices of
PyTorch's stable sort, and NaNs; hypothesis then varies shapes and values for the sorts.
Bad arguments must raise PyTorch's exception class.
"""

from __future__ import annotations

import numpy as np
import plugrad
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

RNG = np.random.default_rng(17)
NAN = np.nan
#: ties (equal values along both dims), and a row with NaNs
TIES = np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [0.5, 0.5, -1.0, 4.0, 0.5], [NAN, 0.0, 5.0, -1.0, NAN]])
#: distinct values: every gradient is well defined
DISTINCT = RNG.permutation(np.arange(-7, 8, dtype=np.float64) * 0.37).reshape(3, 5)
INTS = np.array([[4, 1, 4, 2, 1, 1], [0, 3, 3, 3, 7, 0]])


def lanes3d():
    return RNG.standard_normal((2, 3, 4))


# (id, call(L, *tensors), arrays, inputs that require grad (indices), second order?)
CASES = [
    ("sort", lambda L, x: L.sort(x), [TIES], (), False),
    ("sort dim 0 descending", lambda L, x: L.sort(x, 0, True), [TIES], (), False),
    ("sort stable descending", lambda L, x: x.sort(dim=1, descending=True, stable=True), [TIES], (), False),
    ("sort stable None", lambda L, x: L.sort(x, stable=None), [DISTINCT], (0,), False),
    ("sort grad", lambda L, x: L.sort(x, 1), [DISTINCT], (0,), True),
    ("sort stable grad", lambda L, x: L.sort(x, dim=0, stable=True), [DISTINCT], (0,), True),
    ("sort ints", lambda L, x: L.sort(x, descending=True), [INTS], (), False),
    ("sort 0-d", lambda L, x: L.sort(x.sum()), [DISTINCT], (0,), False),
    ("argsort", lambda L, x: L.argsort(x, 1, True), [TIES], (), False),
    ("argsort stable", lambda L, x: x.argsort(dim=0, stable=True), [TIES], (), False),
    ("msort", lambda L, x: L.msort(x), [DISTINCT], (0,), True),
    ("topk", lambda L, x: L.topk(x, 3), [DISTINCT], (), False),
    ("topk smallest dim 0", lambda L, x: x.topk(2, 0, largest=False), [DISTINCT], (), False),
    ("topk ties values", lambda L, x: L.topk(x, 3).values, [TIES], (), False),
    ("topk grad", lambda L, x: L.topk(x, 2, 1), [DISTINCT], (0,), True),
    ("topk k=0", lambda L, x: L.topk(x, 0), [DISTINCT], (0,), False),
    ("kthvalue", lambda L, x: L.kthvalue(x, 2), [TIES[:2]], (), False),
    ("kthvalue keepdim grad", lambda L, x: L.kthvalue(x, 3, 1, True), [DISTINCT], (0,), True),
    ("kthvalue dim 0", lambda L, x: x.kthvalue(1, 0), [DISTINCT], (0,), False),
    ("median", lambda L, x: L.median(x), [TIES[:2]], (0,), False),
    ("median with NaN", lambda L, x: L.median(x), [TIES], (0,), False),
    ("median dim", lambda L, x: L.median(x, 1), [TIES], (), False),
    ("median dim grad", lambda L, x: x.median(0, keepdim=True), [DISTINCT], (0,), True),
    ("median even count", lambda L, x: L.median(x), [DISTINCT[:, :4]], (0,), True),
    ("median ints", lambda L, x: L.median(x, 1), [INTS], (), False),
    ("nanmedian", lambda L, x: L.nanmedian(x), [TIES], (0,), False),
    ("nanmedian dim", lambda L, x: L.nanmedian(x, 1), [TIES], (0,), False),
    ("nanmedian all NaN", lambda L, x: L.nanmedian(x, 0), [np.array([[NAN, 1.0], [NAN, NAN]])], (), False),
    ("mode", lambda L, x: L.mode(x), [TIES[:2]], (), False),
    ("mode ints dim 0", lambda L, x: L.mode(x, 0), [INTS], (), False),
    ("mode grad", lambda L, x: x.mode(1, keepdim=True), [DISTINCT], (0,), True),
    ("quantile", lambda L, x: L.quantile(x, 0.3), [DISTINCT], (0,), True),
    ("quantile dim q tensor", lambda L, x, q: L.quantile(x, q, dim=1, keepdim=True),
     [DISTINCT, np.array([0.0, 0.2, 0.5, 1.0])], (0,), False),
    ("quantile NaN", lambda L, x: L.quantile(x, 0.5, 1), [TIES], (), False),
    ("nanquantile", lambda L, x: L.nanquantile(x, 0.4, 1), [TIES], (0,), False),
    *[(f"quantile {m}", lambda L, x, m=m: x.quantile(0.35, 0, interpolation=m), [DISTINCT], (0,), False)
      for m in ("linear", "lower", "higher", "midpoint", "nearest")],
    ("quantile nearest half", lambda L, x: L.quantile(x, 0.5, interpolation="nearest"),
     [np.array([1.0, 2.0, 3.0, 4.0])], (), False),
    ("unique", lambda L, x: L.unique(x), [TIES[:2]], (), False),
    ("unique inverse counts", lambda L, x: L.unique(x, return_inverse=True, return_counts=True), [INTS], (), False),
    ("unique dim", lambda L, x: x.unique(dim=1, return_inverse=True, return_counts=True),
     [np.array([[1, 2, 1, 0], [3, 0, 3, 1]])], (), False),
    ("unique NaN", lambda L, x: L.unique(x), [np.array([NAN, 1.0, NAN, 1.0])], (), False),
    ("unique empty dim", lambda L, x: L.unique(x, dim=0, return_inverse=True, return_counts=True),
     [np.zeros((0, 3))], (), False),
    ("unique_consecutive", lambda L, x: L.unique_consecutive(x, return_inverse=True, return_counts=True),
     [np.array([1, 1, 2, 2, 3, 1, 1, 2])], (), False),
    ("unique_consecutive dim", lambda L, x: L.unique_consecutive(x, return_counts=True, dim=0),
     [np.array([[1, 2], [1, 2], [3, 4], [1, 2]])], (), False),
    ("searchsorted", lambda L, s, v: L.searchsorted(s, v), [np.array([1.0, 2, 2, 3]), TIES], (), False),
    ("searchsorted right int32", lambda L, s, v: L.searchsorted(s, v, right=True, out_int32=True),
     [np.array([1.0, 2, 2, 3]), TIES], (), False),
    ("searchsorted side sorter", lambda L, s, v, o: L.searchsorted(s, v, side="right", sorter=o),
     [np.array([3.0, 1, 2, 2]), np.array([2.0, 0.5, 3]), np.array([1, 2, 3, 0])], (), False),
    ("searchsorted batched", lambda L, s, v: L.searchsorted(s, v),
     [np.sort(RNG.integers(0, 5, (2, 4)), 1), RNG.integers(-1, 6, (2, 3))], (), False),
    ("searchsorted scalar", lambda L, s: L.searchsorted(s, 2), [np.array([1, 2, 2, 3])], (), False),
    ("bucketize", lambda L, x, b: L.bucketize(x, b), [TIES, np.array([0.0, 1, 3])], (), False),
    ("bucketize right", lambda L, x, b: L.bucketize(x, b, right=True), [INTS, np.array([1, 3, 4])], (), False),
    ("bincount", lambda L, x: L.bincount(x), [np.array([0, 3, 3, 1, 7])], (), False),
    ("bincount weights minlength", lambda L, x, w: x.bincount(w, minlength=10),
     [np.array([0, 3, 3, 1]), np.array([0.5, 1.0, 2.0, -1.0], np.float32)], (), False),
    ("bincount empty", lambda L, x: L.bincount(x, minlength=3), [np.zeros(0, np.int64)], (), False),
    ("histc", lambda L, x: L.histc(x, 5), [DISTINCT], (), False),
    ("histc range", lambda L, x: x.histc(4, -1, 1), [TIES], (), False),
    ("histc constant", lambda L, x: L.histc(x, 4), [np.array([1.0, 1.0])], (), False),
    ("cummax", lambda L, x: L.cummax(x, 1), [TIES], (), False),
    ("cummin dim 0", lambda L, x: x.cummin(0), [TIES], (), False),
    ("cummax ints", lambda L, x: L.cummax(x, 1), [INTS], (), False),
    ("cummax grad", lambda L, x: L.cummax(x, 1), [DISTINCT], (0,), True),
    ("cummin grad", lambda L, x: L.cummin(x, 0), [DISTINCT], (0,), True),
    ("logcumsumexp", lambda L, x: L.logcumsumexp(x, 1), [DISTINCT], (0,), True),
    ("logcumsumexp wide range", lambda L, x: x.logcumsumexp(0),
     [np.array([-1000.0, 0.0, -np.inf, 700.0, -np.inf, 3.0])], (), False),
    ("roll", lambda L, x: L.roll(x, 2), [lanes3d()], (0,), True),
    ("roll dims", lambda L, x: x.roll((1, -5), (0, 2)), [lanes3d()], (0,), True),
    ("rot90", lambda L, x: L.rot90(x), [lanes3d()], (0,), True),
    ("rot90 k dims", lambda L, x: L.rot90(x, -3, (2, 0)), [lanes3d()], (0,), True),
    ("rot90 twice", lambda L, x: x.rot90(2, [1, 2]), [lanes3d()], (0,), False),
    ("fliplr", lambda L, x: L.fliplr(x), [lanes3d()], (0,), False),
    ("flipud", lambda L, x: x.flipud(), [lanes3d()], (0,), False),
]


def _tensor(lib, array, device, requires_grad):
    if lib is torch:
        return torch.tensor(array, requires_grad=requires_grad)
    return plugrad.tensor(array, device=device, requires_grad=requires_grad)


def _numpy(t):
    return np.asarray(t.tolist() if t.dim() else t.item())


def _leaves(result):
    return list(result) if isinstance(result, tuple) else [result]


def _run(lib, device, call, arrays, grad_inputs, second):
    tensors = [_tensor(lib, a, device, i in grad_inputs) for i, a in enumerate(arrays)]
    leaves = _leaves(call(lib, *tensors))
    outcome = {"values": [(_numpy(t), str(t.dtype).split(".")[-1]) for t in leaves],
               "grad_fn": [type(t.grad_fn).__name__ if t.grad_fn is not None else None for t in leaves]}
    inputs = [tensors[i] for i in grad_inputs]
    floats = [t for t in leaves if t.requires_grad]
    if inputs and floats:
        ups = [lib.tensor(np.arange(1, t.numel() + 1, dtype=np.float64).reshape(tuple(t.shape)) / 7 - 0.4,
                          dtype=t.dtype, requires_grad=second, **({} if lib is torch else {"device": device}))
               for t in floats]
        grads = lib.autograd.grad(floats, inputs, ups, create_graph=second, allow_unused=True)
        outcome["grads"] = [None if g is None else _numpy(g) for g in grads]
        if second:
            total = sum((g * g * g).sum() for g in grads if g is not None)
            seconds = lib.autograd.grad(total, inputs + ups, allow_unused=True)
            outcome["seconds"] = [None if s is None else _numpy(s) for s in seconds]
    return outcome


def _assert_same(got, want):
    assert got["grad_fn"] == want["grad_fn"]
    assert len(got["values"]) == len(want["values"])
    for (g, gd), (w, wd) in zip(got["values"], want["values"]):
        assert gd == wd
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5, atol=1e-6)
    for key in ("grads", "seconds"):
        assert (key in got) == (key in want)
        for g, w in zip(got.get(key, ()), want.get(key, ())):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(case, device):
    _, call, arrays, grad_inputs, second = case
    want = _run(torch, None, call, arrays, grad_inputs, second)
    got = _run(plugrad, device, call, arrays, grad_inputs, second)
    _assert_same(got, want)


def test_results_are_pytorchs_named_tuples():
    x = plugrad.tensor(TIES)
    for name, r in (("sort", x.sort()), ("topk", x.topk(2)), ("kthvalue", x.kthvalue(1)),
                    ("median", x.median(0)), ("nanmedian", x.nanmedian(1)), ("mode", x.mode()),
                    ("cummax", x.cummax(0)), ("cummin", x.cummin(1))):
        values, indices = r
        assert r.values is values and r.indices is indices
        assert repr(r).startswith(f"torch.return_types.{name}(\nvalues=")


def test_out_forms_write_into_the_given_tensors():
    x = plugrad.tensor(TIES)
    values, indices = plugrad.empty(0), plugrad.empty(0, dtype=plugrad.int64)
    r = plugrad.sort(x, 1, out=(values, indices))
    assert r.values is values and r.indices is indices
    assert indices.tolist() == torch.sort(torch.tensor(TIES), 1).indices.tolist()
    out = plugrad.empty(0)
    assert plugrad.quantile(plugrad.tensor(DISTINCT), 0.25, out=out) is out
    assert out.item() == pytest.approx(torch.quantile(torch.tensor(DISTINCT), 0.25).item())


# ---- bad arguments: PyTorch's exception class ----------------------------------------------------

BAD = [
    ("topk k too large", lambda L, x: L.topk(x, 6)),
    ("topk bad dim", lambda L, x: L.topk(x, 1, 2)),
    ("sort bad dim", lambda L, x: L.sort(x, 3)),
    ("sort descending not bool", lambda L, x: L.sort(x, 0, 1)),
    ("kthvalue k=0", lambda L, x: L.kthvalue(x, 0)),
    ("kthvalue k too large", lambda L, x: L.kthvalue(x, 6)),
    ("median empty dim", lambda L, x: L.median(x[:, :0], 1)),
    ("topk bool", lambda L, x: L.topk(x > 0, 1)),
    ("kthvalue bool", lambda L, x: L.kthvalue(x > 0, 1)),
    ("median bool", lambda L, x: L.median(x > 0)),
    ("nanmedian bool dim", lambda L, x: L.nanmedian(x > 0, 0)),
    ("mode empty dim", lambda L, x: L.mode(x[:, :0], 1)),
    ("quantile q above 1", lambda L, x: L.quantile(x, 1.5)),
    ("quantile q tensor above 1", lambda L, x: L.quantile(x, L.tensor([0.5, 1.5], dtype=x.dtype))),
    ("quantile q other dtype", lambda L, x: L.quantile(x, L.tensor([0.5], dtype=L.float32))),
    ("quantile interpolation", lambda L, x: L.quantile(x, 0.5, interpolation="cubic")),
    ("quantile ints", lambda L, x: L.quantile(x.long(), 0.5)),
    ("quantile empty", lambda L, x: L.quantile(x[:0], 0.5, dim=1)),
    ("nanquantile empty", lambda L, x: L.nanquantile(x[:, :0], 0.5)),
    ("unique unselected empty dim", lambda L, x: L.unique(x[:0], dim=1)),
    ("unique two empty dims", lambda L, x: L.unique(x[:0, :0], dim=0)),
    ("unique_consecutive 0-d dim", lambda L, x: L.unique_consecutive(x[0, 0], dim=0)),
    ("searchsorted side", lambda L, x: L.searchsorted(x[0], x, side="middle")),
    ("searchsorted opposite", lambda L, x: L.searchsorted(x[0], x, side="left", right=True)),
    ("searchsorted shapes", lambda L, x: L.searchsorted(x, x[:2])),
    ("searchsorted scalar 2-d", lambda L, x: L.searchsorted(x, 1.0)),
    ("bucketize 2-d boundaries", lambda L, x: L.bucketize(x, x)),
    ("bincount negative", lambda L, x: L.bincount(L.tensor([1, -1]))),
    ("bincount float", lambda L, x: L.bincount(x[0])),
    ("bincount 2-d", lambda L, x: L.bincount(x.long())),
    ("bincount minlength", lambda L, x: L.bincount(L.tensor([1]), minlength=-1)),
    ("bincount weights length", lambda L, x: L.bincount(L.tensor([1, 2]), x[0])),
    ("histc bins", lambda L, x: L.histc(x, 0)),
    ("histc min above max", lambda L, x: L.histc(x, 4, 2, 1)),
    ("histc ints", lambda L, x: L.histc(x.long())),
    ("logcumsumexp ints", lambda L, x: L.logcumsumexp(x.long(), 0)),
    ("cummax bad dim", lambda L, x: L.cummax(x, 2)),
    ("roll misaligned", lambda L, x: L.roll(x, (1, 2), (0,))),
    ("roll no shifts", lambda L, x: L.roll(x, (), ())),
    ("roll float shift", lambda L, x: L.roll(x, 1.5)),
    ("rot90 one dim", lambda L, x: L.rot90(x, 1, (0,))),
    ("rot90 same dims", lambda L, x: L.rot90(x, 1, (1, 1))),
    ("rot90 1-d", lambda L, x: L.rot90(x[0])),
    ("fliplr 1-d", lambda L, x: L.fliplr(x[0])),
    ("flipud 0-d", lambda L, x: L.flipud(x[0, 0])),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_arguments_raise_pytorchs_exception(case):
    _, call = case
    with pytest.raises(Exception) as want:
        call(torch, torch.tensor(DISTINCT))
    with pytest.raises(Exception) as got:
        call(plugrad, plugrad.tensor(DISTINCT))
    assert type(got.value) is type(want.value) or isinstance(got.value, type(want.value)), (got.value, want.value)


# ---- varied shapes and values -------------------------------------------------------------------------

_arrays = st.integers(0, 3).flatmap(
    lambda ndim: st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)).flatmap(
    lambda shape: st.lists(st.sampled_from([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, NAN]),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))).map(
        lambda v, shape=shape: np.array(v, dtype=np.float32).reshape(shape)))


@given(_arrays, st.integers(-3, 2), st.booleans(), st.booleans())
def test_sort_argsort_and_topk_match_pytorch_on_any_shape(x, dim, descending, largest):
    t, p = torch.tensor(x), plugrad.tensor(x)
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        with pytest.raises(IndexError):
            plugrad.sort(p, dim)
        return
    want, got = torch.sort(t, dim, descending), plugrad.sort(p, dim, descending)
    np.testing.assert_array_equal(_numpy(got.values), _numpy(want.values))
    assert got.indices.tolist() == want.indices.tolist()
    assert plugrad.argsort(p, dim, descending).tolist() == torch.argsort(t, dim, descending).tolist()
    n = x.shape[dim] if x.ndim else 1
    for k in range(n + 1):
        tk, pk = torch.topk(t, k, dim, largest), plugrad.topk(p, k, dim, largest)
        np.testing.assert_array_equal(_numpy(pk.values), _numpy(tk.values))
        # among equal values PyTorch's partial sort picks any of them; plugrad the first ones
        np.testing.assert_array_equal(_numpy(p.gather(dim, pk.indices) if x.ndim else p), _numpy(pk.values))


@given(_arrays, st.integers(0, 2))
def test_median_kthvalue_and_cummax_match_pytorch_on_any_shape(x, dim):
    dim = min(dim, max(x.ndim - 1, 0))
    t, p = torch.tensor(x), plugrad.tensor(x)
    np.testing.assert_array_equal(_numpy(plugrad.median(p)), _numpy(torch.median(t)))
    np.testing.assert_array_equal(_numpy(plugrad.nanmedian(p)), _numpy(torch.nanmedian(t)))
    for fn in ("median", "nanmedian", "cummax", "cummin"):
        want, got = getattr(torch, fn)(t, dim), getattr(plugrad, fn)(p, dim)
        np.testing.assert_array_equal(_numpy(got.values), _numpy(want.values))
        if fn.startswith("cum"):
            assert got.indices.tolist() == want.indices.tolist(), fn
        elif x.ndim:   # among equal medians PyTorch's selection picks any: the index must hold the value
            np.testing.assert_array_equal(_numpy(p.gather(dim, got.indices.unsqueeze(dim)).squeeze(dim)),
                                          _numpy(got.values))
    want, got = torch.kthvalue(t, 1, dim), plugrad.kthvalue(p, 1, dim)
    np.testing.assert_array_equal(_numpy(got.values), _numpy(want.values))


@given(st.lists(st.integers(-3, 3), min_size=0, max_size=12), st.booleans(), st.booleans())
def test_unique_matches_pytorch(values, inverse, counts):
    x = np.array(values, dtype=np.int64)
    want = torch.unique(torch.tensor(x), return_inverse=inverse, return_counts=counts)
    got = plugrad.unique(plugrad.tensor(x), return_inverse=inverse, return_counts=counts)
    for g, w in zip(_leaves(got), _leaves(want)):
        assert g.tolist() == w.tolist()


def test_default_sort_kernel_matches_the_cpu_override():
    """The host sort every device inherits and NumPy's on cpu agree, stability and NaN included."""
    from plugrad.backend import Backend
    x = plugrad.tensor(np.concatenate([TIES, TIES[::-1]], 1).astype(np.float32)).t()
    backend = x._backend
    for descending in (False, True):
        for axis in (0, 1):
            outs = []
            for sort in (backend.sort, lambda *a: Backend.sort(backend, *a)):
                values = plugrad.empty(tuple(x.shape))
                indices = plugrad.empty(tuple(x.shape), dtype=plugrad.int64)
                sort(x._a, x._shape, x._dtype, axis, descending, True, values._a, indices._a)
                outs.append((_numpy(values), indices.tolist()))
            np.testing.assert_array_equal(outs[0][0], outs[1][0])
            assert outs[0][1] == outs[1][1]


# ---- argument types, dims of a 0-d input ----------------------------------------------------------------

FLAG_CALLS = [
    ("sort descending", lambda L, x, v: L.sort(x, 0, v)),
    ("sort stable", lambda L, x, v: L.sort(x, stable=v)),
    ("argsort descending", lambda L, x, v: L.argsort(x, 0, v)),
    ("topk largest", lambda L, x, v: L.topk(x, 1, 0, v)),
    ("topk sorted", lambda L, x, v: L.topk(x, 1, 0, True, v)),
    ("kthvalue keepdim", lambda L, x, v: L.kthvalue(x, 1, 0, v)),
    ("median keepdim", lambda L, x, v: L.median(x, 0, v)),
    ("mode keepdim", lambda L, x, v: L.mode(x, 0, v)),
    ("quantile keepdim", lambda L, x, v: L.quantile(x, 0.5, 0, v)),
    ("unique return_counts", lambda L, x, v: L.unique(x, return_counts=v)),
    ("searchsorted right", lambda L, x, v: L.searchsorted(x[0], x, right=v)),
    ("multinomial replacement", lambda L, x, v: L.multinomial(x.abs() + 1, 1, v)),
]


@pytest.mark.parametrize("value", [1, None, "yes"])
@pytest.mark.parametrize("case", FLAG_CALLS, ids=[c[0] for c in FLAG_CALLS])
def test_flags_must_be_bools(case, value):
    _, call = case
    try:
        call(torch, torch.tensor(DISTINCT), value)
    except TypeError:
        with pytest.raises(TypeError):
            call(plugrad, plugrad.tensor(DISTINCT), value)
    else:   # PyTorch takes None for sort's stable
        call(plugrad, plugrad.tensor(DISTINCT), value)


ZERO_D = [("sort", lambda L, x, d: L.sort(x, d)), ("argsort", lambda L, x, d: L.argsort(x, d)),
          ("topk", lambda L, x, d: L.topk(x, 1, d)), ("kthvalue", lambda L, x, d: L.kthvalue(x, 1, d)),
          ("median", lambda L, x, d: L.median(x, d)), ("mode", lambda L, x, d: L.mode(x, d)),
          ("cummax", lambda L, x, d: L.cummax(x, d)), ("logcumsumexp", lambda L, x, d: L.logcumsumexp(x, d)),
          ("roll", lambda L, x, d: L.roll(x, 1, d)), ("quantile", lambda L, x, d: L.quantile(x, 0.5, d))]


@pytest.mark.parametrize("dim", [0, -1, 1, -2])
@pytest.mark.parametrize("case", ZERO_D, ids=[c[0] for c in ZERO_D])
def test_dims_of_a_zero_d_input(case, dim, device):
    _, call = case
    try:
        want = _leaves(call(torch, torch.tensor(2.5), dim))
    except Exception as exc:   # the class is what is compared
        with pytest.raises(type(exc)):
            call(plugrad, plugrad.tensor(2.5, device=device), dim)
        return
    got = _leaves(call(plugrad, plugrad.tensor(2.5, device=device), dim))
    assert [(tuple(g.shape), g.tolist()) for g in got] == [(tuple(w.shape), w.tolist()) for w in want]
