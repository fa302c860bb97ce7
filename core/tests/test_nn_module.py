"""nn.Module and the layers: registration, traversal, modes, hooks, devices and dtypes,
state dicts (strict checking, nothing half-loaded), containers, reprs, layer errors,
and every layer against the same layer in PyTorch with the same weights."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import plugrad
import plugrad.nn as nn
from nn_support import assert_close, assert_same_grads, copy_state

torch = pytest.importorskip("torch")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 2 * 2, 3))
        self.register_buffer("steps", plugrad.zeros((), dtype=plugrad.int64))
        self.register_buffer("scratch", plugrad.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.pool(self.bn(self.conv(x)).relu()))


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2)
        self.head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 2 * 2, 3))
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.pool(self.bn(self.conv(x)).relu()))


# ---- registration and traversal -----------------------------------------------------------------

def test_registration_and_traversal_match_torch():
    net, tnet = Net(), TorchNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert len(list(net.parameters(recurse=False))) == 0
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 3
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(plugrad.ones(2))
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = plugrad.ones(2)
    m.w = None
    assert "w" in m._parameters and m.w is None
    m.child = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="child module"):
        m.child = 3
    m.register_buffer("b", plugrad.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        m.b = [1]
    with pytest.raises(KeyError):
        m.register_buffer("a.b", plugrad.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.plain = 1
        m.register_parameter("plain", None)
    del m.child
    assert "child" not in m._modules
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = m.missing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(plugrad.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_parameter_basics():
    p = nn.Parameter(plugrad.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, plugrad.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert not nn.Parameter(plugrad.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is plugrad.Tensor
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q is not p and plugrad.equal(q, p)


def test_modes_zero_grad_apply_requires_grad():
    net = Net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")
    net(plugrad.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and "Conv2d" in seen
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(plugrad.ones(3, 2))
    assert calls == [(3, 2)]
    assert plugrad.allclose(out, lin.bias.detach().expand(3, 2) + 1)
    h1.remove()
    h2.remove()
    assert plugrad.allclose(lin(plugrad.zeros(1, 2)), lin.bias.detach().unsqueeze(0))
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("second"))
    lin.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
    lin.register_forward_pre_hook(lambda m, a, kw: (a, kw), with_kwargs=True)
    lin(plugrad.ones(1, 2))
    assert order == ["first", "second"]


# ---- devices and dtypes --------------------------------------------------------------------

def test_to_double_keeps_parameter_objects_and_int_buffers():
    net = Net()
    params = list(net.parameters())
    opt = plugrad.optim.SGD(net.parameters(), lr=0.1)
    net.double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == plugrad.float64 for p in net.parameters())
    assert net.steps.dtype == plugrad.int64 and net.bn.num_batches_tracked.dtype == plugrad.int64
    net(plugrad.randn(2, 1, 4, 4, dtype=plugrad.float64)).sum().backward()
    opt.step()  # the optimizer still holds the same (converted) parameters
    net.float()
    assert all(p.dtype == plugrad.float32 for p in net.parameters())
    assert net.to("cpu") is net and net.cpu() is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(plugrad.int64)


def test_to_device_fixture(device):
    net = Net().to(device)
    assert all(p.device.type == device for p in net.parameters())
    assert net(plugrad.randn(2, 1, 4, 4, device=device)).device.type == device


# ---- state dicts -------------------------------------------------------------------------------

def test_state_dict_round_trip_and_outputs_match_torch():
    tnet, net = TorchNet(), Net()
    copy_state(tnet, net)
    x = np.random.default_rng(0).standard_normal((3, 1, 4, 4)).astype(np.float32)
    tnet.train(), net.train()
    to, po = tnet(torch.tensor(x)), net(plugrad.tensor(x))
    assert_close(po, to, rtol=1e-5, atol=1e-6)
    to.sum().backward()
    po.sum().backward()
    assert_same_grads(tnet, net, rtol=1e-4, atol=1e-5)
    for name in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        assert_close(net.state_dict()[name], tnet.state_dict()[name], rtol=1e-5)
    tnet.eval(), net.eval()
    assert_close(net(plugrad.tensor(x)), tnet(torch.tensor(x)), rtol=1e-5, atol=1e-6)


def test_state_dict_shares_storage_unless_copied():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].zero_()
    assert not lin.weight.detach().any()
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert list(lin.state_dict(prefix="model.")) == ["model.weight", "model.bias"]


def _params_snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_load_state_dict_errors_list_every_problem_and_load_nothing():
    net = Net()
    before = _params_snapshot(net)
    good = {k: plugrad.ones_like(v) for k, v in Net().state_dict().items()}
    bad = dict(good)
    del bad["conv.bias"]
    bad["extra.weight"] = plugrad.ones(1)
    bad["head.1.weight"] = plugrad.ones(5, 5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "conv.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for head.1.weight" in msg and "torch.Size([5, 5])" in msg
    after = net.state_dict()
    assert all(plugrad.equal(before[k], after[k]) for k in before), "a failed load changed the model"
    with pytest.raises(RuntimeError, match="size mismatch"):  # even when not strict
        net.load_state_dict({"head.1.weight": plugrad.ones(5, 5)}, strict=False)
    assert all(plugrad.equal(before[k], net.state_dict()[k]) for k in before)
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_not_strict_reports_keys():
    net = Net()
    result = net.load_state_dict({"conv.weight": plugrad.zeros(4, 1, 3, 3), "nope": plugrad.ones(1)}, strict=False)
    assert "conv.bias" in result.missing_keys and result.unexpected_keys == ["nope"]
    assert not net.conv.weight.detach().any()
    assert repr(Net().load_state_dict(Net().state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_matches_torch_error_class_for_torch_style_mistakes():
    tnet, net = TorchNet(), Net()
    sd_t = {k: v for k, v in tnet.state_dict().items() if k != "conv.bias"}
    sd_p = {k: v for k, v in net.state_dict().items() if k != "conv.bias"}
    with pytest.raises(RuntimeError):
        tnet.load_state_dict(sd_t)
    with pytest.raises(RuntimeError):
        net.load_state_dict(sd_p)


def test_load_state_dict_assign_replaces_tensors():
    lin = nn.Linear(2, 2)
    w = plugrad.ones(2, 2)
    lin.load_state_dict({"weight": w, "bias": plugrad.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and plugrad.equal(lin.weight, w)


def test_deepcopy_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    with plugrad.no_grad():
        twin.conv.weight.fill_(0)
    assert net.conv.weight.detach().any()
    assert isinstance(twin.conv.weight, nn.Parameter)


# ---- containers -------------------------------------------------------------------------------

def test_sequential_indexing_slicing_and_editing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq.insert(1, nn.Tanh())
    assert isinstance(seq[1], nn.Tanh)
    with pytest.raises(IndexError):
        seq[10]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert isinstance(named.fc, nn.Linear) and list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq(plugrad.randn(4, 2)).shape == (4, 1)


def test_module_list_and_dict_and_parameter_list():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    assert len(ml) == 5 and len(list(ml.parameters())) == 6
    assert isinstance(ml[1:3], nn.ModuleList)
    del ml[0]
    assert len(ml) == 4 and list(ml._modules) == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert isinstance(md.pop("a"), nn.Linear) and len(list(md.parameters())) == 0
    pl = nn.ParameterList([plugrad.ones(2), nn.Parameter(plugrad.zeros(1))])
    assert len(list(pl.parameters())) == 2 and isinstance(pl[0], nn.Parameter)


def test_reprs_match_torch():
    pairs = [
        (nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10)),
         torch.nn.Sequential(torch.nn.Linear(1000, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))),
        (Net(), TorchNet()),
        (nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=1, bias=False),
         torch.nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=1, bias=False)),
        (nn.Conv2d(4, 4, 3, padding="same", groups=2), torch.nn.Conv2d(4, 4, 3, padding="same", groups=2)),
        (nn.ConvTranspose2d(4, 2, 3, 2, 1, 1), torch.nn.ConvTranspose2d(4, 2, 3, 2, 1, 1)),
        (nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()]),
         torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()])),
        (nn.Dropout(0.3), torch.nn.Dropout(0.3)),
        (nn.BatchNorm1d(5, momentum=None), torch.nn.BatchNorm1d(5, momentum=None)),
        (nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)),
        (nn.AvgPool2d(3, 2), torch.nn.AvgPool2d(3, 2)), (nn.LayerNorm((4, 5)), torch.nn.LayerNorm((4, 5))),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)), (nn.Flatten(), torch.nn.Flatten()),
        (nn.AdaptiveAvgPool2d((2, 2)), torch.nn.AdaptiveAvgPool2d((2, 2))), (nn.Identity(), torch.nn.Identity()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs).replace("TorchNet(", "Net(")


# ---- layers against torch ---------------------------------------------------------------------

LAYERS = [
    ("Linear", (5, 3), lambda m: m.Linear(3, 4)),
    ("Linear no bias", (2, 6, 3), lambda m: m.Linear(3, 2, bias=False)),
    ("Conv2d", (2, 3, 7, 6), lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1)),
    ("Conv2d groups", (2, 4, 6, 6), lambda m: m.Conv2d(4, 6, (3, 2), dilation=(1, 2), groups=2)),
    ("Conv2d reflect", (1, 2, 5, 5), lambda m: m.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")),
    ("Conv1d", (2, 3, 9), lambda m: m.Conv1d(3, 2, 3, stride=2, padding=1)),
    ("ConvTranspose2d", (2, 4, 3, 3), lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                                  groups=2)),
    ("BatchNorm1d", (6, 4), lambda m: m.BatchNorm1d(4)),
    ("BatchNorm2d", (3, 2, 4, 4), lambda m: m.BatchNorm2d(2, momentum=0.5)),
    ("BatchNorm2d cumulative", (3, 2, 4, 4), lambda m: m.BatchNorm2d(2, momentum=None)),
    ("LayerNorm", (3, 4, 5), lambda m: m.LayerNorm(5)),
    ("MaxPool2d", (2, 2, 6, 6), lambda m: m.MaxPool2d(3, 2, padding=1, ceil_mode=True)),
    ("AvgPool2d", (2, 2, 6, 6), lambda m: m.AvgPool2d(2)),
    ("AdaptiveAvgPool2d", (2, 2, 7, 5), lambda m: m.AdaptiveAvgPool2d(3)),
    ("Flatten", (2, 3, 4), lambda m: m.Flatten()),
    ("Unflatten", (2, 12), lambda m: m.Unflatten(1, (3, 4))),
    ("Tanh", (3, 3), lambda m: m.Tanh()), ("Sigmoid", (3, 3), lambda m: m.Sigmoid()),
    ("LogSoftmax", (3, 3), lambda m: m.LogSoftmax(dim=1)), ("ELU", (3, 3), lambda m: m.ELU()),
    ("Softplus", (3, 3), lambda m: m.Softplus()), ("SiLU", (3, 3), lambda m: m.SiLU()),
    ("Hardtanh", (3, 3), lambda m: m.Hardtanh()), ("ReLU6", (3, 3), lambda m: m.ReLU6()),
]


@pytest.mark.torch_oracle
@pytest.mark.parametrize("name, shape, build", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, shape, build):
    tm, pm = build(torch.nn), build(nn)
    if list(tm.state_dict()):
        copy_state(tm, pm)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    tx, px = torch.tensor(x, requires_grad=True), plugrad.tensor(x, requires_grad=True)
    for _ in range(2):  # twice: running statistics must move the same way
        to, po = tm(tx), pm(px)
    assert_close(po, to, rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(4).standard_normal(tuple(to.shape)).astype(np.float32)
    to.backward(torch.tensor(g))
    po.backward(plugrad.tensor(g))
    assert_close(px.grad, tx.grad, rtol=1e-4, atol=1e-5)
    assert_same_grads(tm, pm, rtol=1e-4, atol=1e-4)
    for tv, pv in zip(tm.state_dict().values(), pm.state_dict().values()):
        assert_close(pv, tv, rtol=1e-5, atol=1e-6)
    tm.eval(), pm.eval()
    assert_close(pm(px), tm(tx), rtol=1e-5, atol=1e-5)


@pytest.mark.torch_oracle
def test_embedding_layer_matches_torch():
    tm, pm = torch.nn.Embedding(7, 3, padding_idx=1), nn.Embedding(7, 3, padding_idx=1)
    copy_state(tm, pm)
    idx = [[1, 2, 6], [0, 1, 1]]
    to, po = tm(torch.tensor(idx)), pm(plugrad.tensor(idx))
    assert_close(po, to)
    to.sum().backward()
    po.sum().backward()
    assert_same_grads(tm, pm)
    assert not pm.weight.detach()[1].any()  # the padding row starts at zero
    pre = nn.Embedding.from_pretrained(plugrad.ones(4, 2))
    assert not pre.weight.requires_grad


def test_conv_transpose2d_output_size_argument():
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    assert up(plugrad.randn(1, 3, 4, 4)).shape == (1, 2, 7, 7)
    assert up(plugrad.randn(1, 3, 4, 4), output_size=(8, 8)).shape == (1, 2, 8, 8)


def test_dropout_layer_modes():
    drop = nn.Dropout(0.5)
    x = plugrad.ones(100, 100)
    assert (drop(x) == 0).any()
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(2)


# ---- layer input errors --------------------------------------------------------------------------

def test_layer_input_errors_name_the_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3, out_features=2, bias=True\).*\[\*, 3\].*\[4, 5\]"):
        nn.Linear(3, 2)(plugrad.randn(4, 5))
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8.*\[N, 3, H, W\].*\[2, 1, 5, 5\]"):
        nn.Conv2d(3, 8, 3)(plugrad.randn(2, 1, 5, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(plugrad.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(3\).*\[2, 4, 5, 5\]"):
        nn.BatchNorm2d(3)(plugrad.randn(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"MaxPool2d.*\[5\]"):
        nn.MaxPool2d(2)(plugrad.randn(5))
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(plugrad.ones(1))


def test_layer_errors_have_torch_classes():
    for build, shape in ((lambda m: m.Linear(3, 2), (4, 5)), (lambda m: m.Conv2d(3, 8, 3), (2, 1, 5, 5)),
                         (lambda m: m.BatchNorm2d(3), (2, 3)), (lambda m: m.BatchNorm1d(3), (2, 4))):
        with pytest.raises(Exception) as expected:
            build(torch.nn)(torch.randn(*shape))
        with pytest.raises(type(expected.value)):
            build(nn)(plugrad.randn(*shape))


# ---- nn.utils ----------------------------------------------------------------------------------

@pytest.mark.torch_oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    tm, pm = torch.nn.Linear(4, 3), nn.Linear(4, 3)
    copy_state(tm, pm)
    x = np.random.default_rng(5).standard_normal((6, 4)).astype(np.float32)
    tm(torch.tensor(x)).pow(2).sum().backward()
    pm(plugrad.tensor(x)).pow(2).sum().backward()
    t_total = torch.nn.utils.clip_grad_norm_(tm.parameters(), max_norm, norm_type)
    p_total = nn.utils.clip_grad_norm_(pm.parameters(), max_norm, norm_type)
    assert_close(p_total, t_total, rtol=1e-5)
    assert_same_grads(tm, pm, rtol=1e-5)


def test_clip_grad_value_and_parameter_vectors():
    lin = nn.Linear(3, 2)
    lin(plugrad.randn(5, 3) * 10).sum().backward()
    nn.utils.clip_grad_value_(lin.parameters(), 0.1)
    assert all(float(p.grad.abs().max()) <= 0.1 + 1e-7 for p in lin.parameters())  # 0.1 in float32
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(plugrad.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.raises(RuntimeError, match="8 elements"):
        nn.utils.vector_to_parameters(plugrad.ones(3), lin.parameters())
    with pytest.raises(RuntimeError, match="non-finite"):
        lin.weight.grad.fill_(float("nan"))
        nn.utils.clip_grad_norm_(lin.parameters(), 1.0, error_if_nonfinite=True)
