"""``nn.Buffer``, the uninitialized parameters and the lazy layers against PyTorch:
registration, state dicts, inference at the first forward (same shapes, the same
initialisation as the regular layer), class change, loading, copying, errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import plugrad
import plugrad.nn as nn
import pytest

from oracle_cases import raises_like, torch

pytestmark = pytest.mark.torch_oracle


def both(fn):
    """``fn(lib)`` in plugrad and in torch."""
    return fn(plugrad), fn(torch)


def test_buffer_registers_on_assignment_with_its_persistence():
    def build(lib):
        m = lib.nn.Module()
        m.b = lib.nn.Buffer(lib.ones(2))
        m.c = lib.nn.Buffer(lib.zeros(1), persistent=False)
        m.plain = lib.ones(2)
        return (list(m.state_dict()), [n for n, _ in m.named_buffers()], type(m.b).__name__,
                isinstance(m.b, lib.nn.Buffer), isinstance(lib.ones(1), lib.nn.Buffer), m.b.requires_grad)
    ours, theirs = both(build)
    assert ours == theirs


def test_buffer_reassignment_keeps_persistence_and_clashes_like_torch():
    def build(lib):
        m = lib.nn.Module()
        m.c = lib.nn.Buffer(lib.zeros(1), persistent=False)
        m.c = lib.ones(3)
        m.d = lib.ones(2)
        return m, list(m.state_dict()), [n for n, _ in m.named_buffers()]
    (m, *ours), (tm, *theirs) = both(build)
    assert ours == theirs
    raises_like(lambda: setattr(m, "d", nn.Buffer(plugrad.ones(1))), lambda: setattr(tm, "d", torch.nn.Buffer(
        torch.ones(1))))


def test_buffer_keeps_requires_grad_and_shares_storage():
    x = plugrad.ones(2, requires_grad=True)
    b = nn.Buffer(x)
    assert b.requires_grad and b.grad_fn is None and b.data_ptr() == x.data_ptr()
    assert nn.Buffer().shape == torch.nn.Buffer().shape


def test_uninitialized_parameter_and_buffer_like_torch():
    for name in ("UninitializedParameter", "UninitializedBuffer"):
        ours, theirs = getattr(nn.parameter, name)(), getattr(torch.nn.parameter, name)()
        assert repr(ours) == repr(theirs) and ours.requires_grad == theirs.requires_grad
        assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.size()) == tuple(theirs.size())
        raises_like(lambda o=ours: o.shape, lambda t=theirs: t.shape)
        ours.materialize((2, 3), dtype=plugrad.float64)
        theirs.materialize((2, 3), dtype=torch.float64)
        assert type(ours).__name__ == type(theirs).__name__ and tuple(ours.shape) == (2, 3)
        assert ours.dtype == plugrad.float64
    assert isinstance(nn.parameter.UninitializedBuffer(), nn.Buffer)
    assert isinstance(nn.parameter.UninitializedParameter(), nn.Parameter)


LAZY = [
    ("LazyLinear", (3,), (4, 5)), ("LazyLinear", (2, False), (2, 3, 6)),
    ("LazyConv1d", (4, 3), (2, 3, 8)), ("LazyConv2d", (4, 3), (2, 3, 6, 6)),
    ("LazyConv2d", (4, 3, 1, 1, 1, 2), (2, 6, 5, 5)), ("LazyConv2d", (4, 3), (3, 6, 6)),
    ("LazyConv3d", (2, 2), (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), (2, 3, 5)), ("LazyConvTranspose2d", (4, 3, 2, 1, 1), (2, 3, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), (4, 3)), ("LazyBatchNorm2d", (1e-3, 0.2), (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)), ("LazyBatchNorm1d", (1e-5, 0.1, False), (4, 3, 2)),
    ("LazyInstanceNorm1d", (), (2, 3, 5)), ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (1e-5, 0.1, True, False), (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("name,args,shape", LAZY, ids=[f"{c[0]}{c[1]}" for c in LAZY])
def test_lazy_layer_becomes_the_regular_one_like_torch(name, args, shape, device):
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(type(v).__name__ == type(theirs.state_dict()[k]).__name__ for k, v in ours.state_dict().items())
    ours.to(device)
    y = ours(plugrad.tensor(x, dtype=plugrad.float32, device=device))
    t = theirs(torch.tensor(x, dtype=torch.float32))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert repr(ours) == repr(theirs) and not hasattr(ours, "_initialize_hook")
    assert tuple(y.shape) == tuple(t.shape)
    for (k, v), (tk, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == tk and tuple(v.shape) == tuple(tv.shape) and str(v.dtype) == str(tv.dtype)
        assert v.device.type == device
    # the same initialisation as the regular layer: with the parameters copied, the same output
    ours.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(plugrad.tensor(x, dtype=plugrad.float32, device=device)).detach().cpu().numpy(),
                               theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_lazy_linear_initialises_like_linear():
    plugrad.manual_seed(7)
    lazy = nn.LazyLinear(200)
    lazy(plugrad.ones(1, 50))
    bound = 1 / np.sqrt(50)
    w, b = lazy.weight.detach().numpy(), lazy.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound and np.abs(b).max() <= bound
    assert lazy.weight.requires_grad and type(lazy.weight) is nn.Parameter


def test_lazy_modules_in_a_sequential_train():
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    y = net(plugrad.randn(5, 3))
    opt = plugrad.optim.SGD(net.parameters(), lr=0.1)
    y.sum().backward()
    opt.step()
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear"]
    assert net[0].weight.grad.shape == (8, 3)


def test_lazy_load_state_dict_materializes_then_converts_like_torch():
    def run(lib):
        src = lib.nn.Linear(5, 3)
        m = lib.nn.LazyLinear(3)
        keys = m.load_state_dict(src.state_dict())
        before = (type(m).__name__, type(m.weight).__name__, m.in_features, tuple(m.weight.shape), repr(keys))
        y = m(lib.ones(2, 5))
        return before, (type(m).__name__, m.in_features), np.array(y.tolist()), np.array(src(lib.ones(2, 5)).tolist())
    ours, theirs = both(run)
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], ours[3])


def test_lazy_errors_like_torch():
    raises_like(lambda: nn.Linear(3, 2).load_state_dict(nn.LazyLinear(2).state_dict()),
                lambda: torch.nn.Linear(3, 2).load_state_dict(torch.nn.LazyLinear(2).state_dict()))
    raises_like(lambda: nn.LazyConv2d(4, 3)(plugrad.ones(3, 3)), lambda: torch.nn.LazyConv2d(4, 3)(torch.ones(3, 3)))
    raises_like(lambda: nn.LazyConv2d(4, 3, groups=2)(plugrad.ones(1, 3, 5, 5)),
                lambda: torch.nn.LazyConv2d(4, 3, groups=2)(torch.ones(1, 3, 5, 5)))


def test_lazy_modules_copy_and_cast_while_uninitialized():
    def run(lib):
        m = lib.nn.LazyLinear(2).double()
        c = copy.deepcopy(m)
        kinds = (type(c).__name__, type(c.weight).__name__)
        c(lib.ones(3, 4, dtype=lib.float64))
        bn = lib.nn.LazyBatchNorm1d().double()
        bn_kinds = type(bn.running_mean).__name__, type(bn.weight).__name__
        bn(lib.ones(3, 4, dtype=lib.float64))
        return (kinds, str(c.weight.dtype), type(m.weight).__name__, bn_kinds, str(bn.running_mean.dtype),
                str(bn.num_batches_tracked.dtype))
    ours, theirs = both(run)
    assert ours == theirs


# ---- AdaptiveLogSoftmaxWithLoss ----------------------------------------------------------

def _asm_pair(head_bias=True, cutoffs=(4, 10, 15), div_value=2.0, n_classes=20, in_features=16):
    """The module in both libraries with the same (torch's) parameters, in float64."""
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("head_bias,cutoffs,div_value", [(True, (4, 10, 15), 2.0), (False, (5,), 4.0),
                                                         (False, (2, 3), 1.0)])
def test_adaptive_log_softmax_matches_torch(head_bias, cutoffs, div_value, device):
    ours, theirs = _asm_pair(head_bias, cutoffs, div_value)
    assert repr(ours) == repr(theirs)
    ours.to(device)
    rng = np.random.default_rng(1)
    x, target = rng.standard_normal((9, 16)), rng.integers(0, 20, 9)
    xo = plugrad.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    out, loss = ours(xo, plugrad.tensor(target, device=device))
    tout, tloss = theirs(xt, torch.tensor(target))
    assert type(out.grad_fn).__name__ == type(tout.grad_fn).__name__
    assert type(loss.grad_fn).__name__ == type(tloss.grad_fn).__name__
    np.testing.assert_allclose(out.detach().cpu().numpy(), tout.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(xo.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert (p.grad is None) == (tp.grad is None), name
        if p.grad is None:
            continue
        np.testing.assert_allclose(p.grad.cpu().numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    lp, tlp = ours.log_prob(xo), theirs.log_prob(xt)
    assert type(lp.grad_fn).__name__ == type(tlp.grad_fn).__name__
    np.testing.assert_allclose(lp.detach().cpu().numpy(), tlp.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.exp(lp.detach().cpu().numpy()).sum(1), 1.0)
    o1, _ = ours(xo[3], plugrad.tensor(target[3], device=device))
    t1, _ = theirs(xt[3], torch.tensor(target[3]))
    assert o1.shape == t1.shape and abs(o1.item() - t1.item()) < 1e-10


def test_adaptive_log_softmax_predict_matches_torch():
    ours, theirs = _asm_pair()
    rng = np.random.default_rng(2)
    with torch.no_grad():  # skew the head so that rows fall in every branch of predict
        theirs.head.bias.copy_(torch.tensor(rng.normal(0, 3, 7)))
    ours.head.bias.data = plugrad.tensor(theirs.head.bias.detach().numpy())
    for rows in (rng.standard_normal((40, 16)) * 3, np.zeros((3, 16))):
        assert ours.predict(plugrad.tensor(rows)).tolist() == theirs.predict(torch.tensor(rows)).tolist()


@pytest.mark.parametrize("args", [(16, 20, []), (16, 20, [5, 3]), (16, 20, [0, 5]), (16, 20, [5, 20]),
                                  (16, 20, [5, 5]), (16, 20, [2.5])])
def test_adaptive_log_softmax_bad_cutoffs_like_torch(args):
    raises_like(lambda: nn.AdaptiveLogSoftmaxWithLoss(*args), lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(*args))


@pytest.mark.parametrize("xs,target", [((4, 16), [1, 2, 3]), ((2, 2, 16), [1, 2]), ((2, 16), 1), ((16,), [[1]]),
                                       ((2, 16), [1, 25])])
def test_adaptive_log_softmax_bad_inputs_like_torch(xs, target):
    ours, theirs = _asm_pair()
    x = np.ones(xs)
    raises_like(lambda: ours(plugrad.tensor(x), plugrad.tensor(target)),
                lambda: theirs(torch.tensor(x), torch.tensor(target)))


# ---- DataParallel -----------------------------------------------------------------------

def test_data_parallel_wraps_the_module_like_torch_without_gpus(device):
    def build(lib):
        lib.manual_seed(0)
        inner = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        return inner, lib.nn.DataParallel(inner, device_ids=[0, 1], output_device=0)
    (inner, dp), (tinner, tdp) = both(build)
    assert repr(dp) == repr(tdp) and dp.device_ids == tdp.device_ids == []
    assert dp.module is inner and list(dp.state_dict()) == list(tdp.state_dict())
    assert [n for n, _ in dp.named_parameters()] == [n for n, _ in tdp.named_parameters()]
    dp.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in tdp.state_dict().items()})
    dp.to(device)
    x = np.random.default_rng(3).standard_normal((5, 3))
    y = dp(plugrad.tensor(x, dtype=plugrad.float32, device=device))
    ty = tdp(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert inner[1].num_batches_tracked.item() == 1
    inner.load_state_dict({k[len("module."):]: v for k, v in dp.state_dict().items()})



# ---- SyncBatchNorm ------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kwargs", [((4, 3), {}), ((2, 3, 5), {"momentum": None}), ((2, 3, 2, 2, 2), {}),
                                          ((3, 3, 4), {"affine": False, "track_running_stats": False})])
def test_sync_batch_norm_normalises_the_local_batch_like_torch(shape, kwargs, device):
    theirs = torch.nn.SyncBatchNorm(3, **kwargs).double()
    ours = nn.SyncBatchNorm(3, **kwargs).double().to(device)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(4).standard_normal(shape)
    for _ in range(2):
        xo, xt = plugrad.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
        y, ty = ours(xo), theirs(xt)
        assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__
        np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-9, atol=1e-12)
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        np.testing.assert_allclose(xo.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-9)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].cpu().numpy(), v.numpy(), rtol=1e-9)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(plugrad.tensor(x, device=device)).detach().cpu().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(3,), (2, 0, 3)])
def test_sync_batch_norm_errors_like_torch(shape):
    raises_like(lambda: nn.SyncBatchNorm(3)(plugrad.ones(*shape)),
                lambda: torch.nn.SyncBatchNorm(3)(torch.ones(*shape)))


def test_convert_sync_batchnorm_like_torch():
    def build(lib):
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3, momentum=0.3),
                                lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False).eval()),
                                lib.nn.InstanceNorm2d(3))
        old = net[1]
        out = lib.nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group="group")
        return out, old
    (ours, old), (theirs, _) = both(build)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    assert ours[1].weight is old.weight and ours[1].running_mean is old.running_mean
    assert ours[1].process_group == "group" and not ours[2][0].training and ours[2][0].weight is None
    assert type(nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2))).__name__ == "SyncBatchNorm"


# ---- Container and CrossMapLRN2d ----------------------------------------------------

def _warned(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [(type(w.message), str(w.message), w.filename) for w in caught]


def test_container_warns_and_registers_children_like_torch():
    (ours, ow), (theirs, tw) = _warned(lambda: nn.Container(a=nn.Linear(2, 1), b=nn.ReLU())), \
        _warned(lambda: torch.nn.Container(a=torch.nn.Linear(2, 1), b=torch.nn.ReLU()))
    assert ow == tw and ow[0][2] == __file__
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())

    def subclass(lib):
        class Block(lib.nn.Container):
            pass
        return Block
    (ours_cls, ow), (theirs_cls, tw) = _warned(lambda: subclass(plugrad)), _warned(lambda: subclass(torch))
    assert [w[:2] for w in ow] == [w[:2] for w in tw]
    assert _warned(ours_cls)[1] == _warned(theirs_cls)[1] == []


@pytest.mark.parametrize("size,channels", [(2, 1), (2, 4), (3, 3), (3, 6), (4, 5), (5, 2), (5, 7)])
def test_cross_map_lrn2d_matches_torch(size, channels, device):
    ours, theirs = nn.CrossMapLRN2d(size, 0.3, 0.6, 2), torch.nn.CrossMapLRN2d(size, 0.3, 0.6, 2)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(size * 10 + channels).standard_normal((2, channels, 3, 2))
    xo, xt = plugrad.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "CrossMapLRN2dBackward"
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.linspace(0.5, 1.5, x.size).reshape(x.shape)
    (y * plugrad.tensor(w, device=device)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xo.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_map_lrn2d_rejects_non_4d_like_torch():
    raises_like(lambda: nn.CrossMapLRN2d(3)(plugrad.ones(2, 3, 4)), lambda: torch.nn.CrossMapLRN2d(3)(torch.ones(2, 3,
                                                                                                                  4)))


# ---- ParameterDict ------------------------------------------------------------------------

def _parameter_dict_story(lib):
    """The same sequence of dict operations in either library; everything observable."""
    seen = []
    d = lib.nn.ParameterDict({"b": lib.ones(2), "a": lib.nn.Parameter(lib.zeros(2, 3)), "n": 3})
    seen += [repr(d), list(d.keys()), list(d.state_dict()), len(list(d.parameters())), type(d["b"]).__name__]
    d["c"] = lib.ones(1)
    d.update([("e", lib.ones(4)), ("f", lib.zeros(1))])
    d.update(__import__("collections").OrderedDict([("z", lib.ones(1)), ("y", lib.ones(1))]))
    seen += [list(d), list(reversed(d)), "c" in d, "q" in d, d.get("q", 7)]
    seen += [tuple(d.pop("e").shape), d.popitem()[0], list(d)]
    seen += [tuple(d.setdefault("g", lib.ones(5)).shape), list(d.fromkeys(["u", "v"]).keys())]
    other = lib.nn.ParameterDict({"m": lib.ones(2)})
    seen += [list(d | other), list(other | d)]
    other |= d
    seen += [list(other), [type(v).__name__ for v in d.values()], [k for k, _ in d.items()]]
    copied = d.copy()
    seen += [copied["a"] is d["a"]]
    del d["a"]
    seen += [list(d), list(d.state_dict())]
    d.clear()
    seen += [len(d), list(d.state_dict())]
    return seen


def test_parameter_dict_behaves_like_torch():
    ours, theirs = _parameter_dict_story(plugrad), _parameter_dict_story(torch)
    assert ours == theirs


@pytest.mark.parametrize("action", ["call", "int_key", "not_iterable", "bad_pair", "short_pair", "missing"])
def test_parameter_dict_errors_like_torch(action):
    def act(lib):
        d = lib.nn.ParameterDict({"a": lib.ones(1)})
        return {"call": lambda: d(lib.ones(1)), "int_key": lambda: d[0], "not_iterable": lambda: d.update(3),
                "bad_pair": lambda: d.update([3]), "short_pair": lambda: d.update([("a",)]),
                "missing": lambda: d["zz"]}[action]
    raises_like(act(plugrad), act(torch))


def test_parameter_dict_trains_and_loads():
    d = nn.ParameterDict({"w": plugrad.ones(3)})
    (d["w"] * 2).sum().backward()
    assert d["w"].grad.tolist() == [2.0, 2.0, 2.0]
    d.load_state_dict({"w": plugrad.zeros(3)})
    assert d["w"].tolist() == [0.0, 0.0, 0.0]
