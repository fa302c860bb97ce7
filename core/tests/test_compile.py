"""plugrad.compile: the API (torch.compile's), replay semantics and graph breaks.

Every compiled result is compared with the same code run eagerly, bit for bit
(``torch.equal``): a replay calls the same kernels in the same order. Where the API
itself is PyTorch's (argument errors, ``OptimizedModule``), torch is the oracle.
"""

from __future__ import annotations

import pytest
import torch as real_torch
from hypothesis import HealthCheck, given, settings, strategies as st

import plugrad as torch
from plugrad import nn
from plugrad.compiler import CompiledFunction, OptimizedModule, Unsupported, explain

#: reading torch.compile's signature imports PyTorch's dynamo, which warns about its own jit
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def _same(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a.cpu(), b.cpu())


# ---- API -----------------------------------------------------------------------------------

def test_decorator_forms_and_signature(device):
    x = torch.arange(6.0, device=device)

    @torch.compile
    def f(t):
        return t * 2 + 1

    @torch.compile()
    def g(t):
        return t * 2 + 1

    @torch.compile(fullgraph=True, dynamic=False, mode="reduce-overhead")
    def h(t):
        return t * 2 + 1
    for fn in (f, g, h):
        assert isinstance(fn, CompiledFunction)
        assert _same(fn(x), x * 2 + 1) and _same(fn(x), x * 2 + 1)
        assert fn.stats.recordings == 1 and fn.stats.replays == 1
    assert f.__name__ == "f"


@pytest.mark.parametrize("kwargs", [dict(mode="bogus"), dict(mode="default", options={}), dict(backend="nonexistent")])
def test_argument_errors_match_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        real_torch.compile(lambda x: x, **kwargs)
    with pytest.raises(Exception) as ours:
        torch.compile(lambda x: x, **kwargs)
    assert isinstance(ours.value, RuntimeError) and isinstance(theirs.value, RuntimeError)
    assert type(ours.value).__name__ == type(theirs.value).__name__


def test_disable_returns_the_function_itself():
    def f(x):
        return x
    assert torch.compile(f, disable=True) is f


def test_compiled_module_mirrors_torch(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(device)
    cm = torch.compile(model)
    theirs = real_torch.compile(real_torch.nn.Sequential(real_torch.nn.Linear(3, 4), real_torch.nn.ReLU(),
                                                         real_torch.nn.Linear(4, 2)))
    assert type(cm).__name__ == type(theirs).__name__ == "OptimizedModule"
    assert isinstance(cm, OptimizedModule) and isinstance(cm, nn.Module)
    assert cm._orig_mod is model
    assert list(cm.state_dict()) == list(theirs.state_dict())
    assert [id(p) for p in cm.parameters()] == [id(p) for p in model.parameters()]
    x = torch.randn(5, 3, device=device)
    with torch.no_grad():
        want = model(x)
        assert _same(cm(x), want) and _same(cm(x), want)
    assert cm.stats.replays == 1
    model.note = "kept"
    assert cm.note == "kept"   # an attribute it lacks comes from the wrapped module, as in PyTorch


# ---- replay semantics ------------------------------------------------------------------------

def _train_pair(device, seed=0):
    torch.manual_seed(seed)
    w = torch.randn(4, 3, device=device, requires_grad=True)
    b = torch.randn(3, device=device, requires_grad=True)
    return w, b


def _loss_step(device):
    w, b = _train_pair(device)

    def step(x):
        loss = ((x @ w + b).tanh() ** 2).mean()
        loss.backward()
        grads = (w.grad, b.grad)
        w.grad = b.grad = None
        return loss, grads
    return step


def _accumulating_step(device):
    w, b = _train_pair(device)
    x = torch.ones(2, 4, device=device)

    def step():
        (x @ w + b).sum().backward()
    return step, w, b


def test_forward_backward_bit_equal_and_fresh_results(device):
    results = {}
    for compiled in (False, True):
        step = _loss_step(device)
        f = torch.compile(step) if compiled else step
        outs = []
        for i in range(4):
            torch.manual_seed(100 + i)
            outs.append(f(torch.randn(6, 4, device=device)))
        results[compiled] = outs
        if compiled:
            assert f.stats.replays == 3
    for (l0, g0), (l1, g1) in zip(results[False], results[True]):
        assert _same(l0, l1) and all(_same(a, c) for a, c in zip(g0, g1))
    # each call hands out new tensors: an earlier result is never overwritten
    losses = [r[0] for r in results[True]]
    assert len({id(t) for t in losses}) == 4
    assert all(_same(a[0], c) for a, c in zip(results[False], losses))
    assert results[True][0][0].grad_fn.name() == results[False][0][0].grad_fn.name() == "MeanBackward0"


def test_gradients_accumulate_into_the_same_tensors(device):
    grads = {}
    for compiled in (False, True):
        step, w, b = _accumulating_step(device)
        f = torch.compile(step) if compiled else step
        f()
        first = w.grad
        f()
        f()
        assert w.grad is first   # accumulated in place, as eager's engine does
        grads[compiled] = (w.grad, b.grad)
    assert all(_same(a, c) for a, c in zip(grads[False], grads[True]))


def test_new_data_same_shapes_replays_and_a_new_shape_records_again(device):
    f = torch.compile(lambda a, c: (a * c).sum(dim=0) - a.amax(dim=0))
    for n in (3, 3, 5, 5, 3):
        a, c = torch.randn(n, 2, device=device), torch.randn(n, 2, device=device)
        assert _same(f(a, c), (a * c).sum(dim=0) - a.amax(dim=0))
    assert f.stats.recordings == 2 and f.stats.replays == 3


def test_python_scalars_are_guarded(device):
    f = torch.compile(lambda a, s: a * s + s)
    a = torch.arange(4.0, device=device)
    for s in (2.0, 3.0, 2.0, 3.5):
        assert _same(f(a, s), a * s + s)
    assert f.stats.recordings == 3


def test_grad_mode_and_requires_grad_are_guarded(device):
    w = torch.ones(3, device=device, requires_grad=True)
    f = torch.compile(lambda x: (x * w).sum())
    x = torch.arange(3.0, device=device)
    with torch.no_grad():
        r = f(x)
        assert not r.requires_grad and _same(f(x), (x * w).sum())
    assert f.stats.recordings == 1
    x2 = x.clone().requires_grad_()
    with torch.no_grad():
        assert _same(f(x2), (x2 * w).sum())
    assert f.stats.recordings == 2


def test_in_place_on_an_argument_bumps_its_version(device):
    f = torch.compile(lambda a: a.mul_(2).add_(1))
    a, b = torch.arange(4.0, device=device), torch.arange(4.0, device=device)
    for _ in range(3):
        r = f(a)
        b.mul_(2).add_(1)
        assert r is a and _same(a, b) and a._version == b._version


def test_module_buffers_and_train_eval_guard(device):
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).to(device) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    cm = torch.compile(models[1])
    for i in range(4):
        torch.manual_seed(i)
        x = torch.randn(8, 3, device=device)
        with torch.no_grad():
            assert _same(models[0](x), cm(x))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert _same(getattr(models[0][1], name), getattr(models[1][1], name))
    models[0].eval()
    cm.eval()
    with torch.no_grad():
        assert _same(models[0](x), cm(x))
    assert cm.stats.recordings == 2


# ---- graph breaks ------------------------------------------------------------------------------

def test_item_breaks_the_graph_fullgraph_names_the_line(device):
    def f(x):
        s = x.sum().item()   # the host read
        return x * s
    x = torch.arange(3.0, device=device)
    with pytest.raises(Unsupported, match=r"s = x\.sum\(\)\.item\(\)"):
        torch.compile(f, fullgraph=True)(x)
    g = torch.compile(f)
    for k in (1.0, 2.0, 3.0):
        assert _same(g(x * k), f(x * k))
    assert g.stats.replays == 0 and g.stats.eager_calls == 2
    report = explain(g)(x)
    assert report.graph_break_count == 1 and "device memory" in report.break_reasons[0][0]


def test_data_dependent_control_flow_follows_eager(device):
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x - 1
    g = torch.compile(f)
    for sign in (1.0, -1.0, 1.0, -1.0):
        x = torch.full((3,), sign, device=device)
        assert _same(g(x), f(x))
    assert "bool()" in g.stats.break_reasons[0][0]


def test_random_numbers_break_the_graph(device):
    drop = nn.Dropout(0.5)
    f = torch.compile(lambda x: drop(x))
    x = torch.ones(50, device=device)
    for seed in (0, 1, 0):
        torch.manual_seed(seed)
        got = f(x)
        torch.manual_seed(seed)
        assert _same(got, drop(x))
    assert f.stats.replays == 0


def test_live_graph_output_runs_eagerly_and_backward_works(device):
    w = torch.ones(3, device=device, requires_grad=True)
    f = torch.compile(lambda x: (x * w).sum())
    for _ in range(2):
        f(torch.arange(3.0, device=device)).backward()
    assert _same(w.grad, torch.arange(3.0, device=device) * 2)
    assert f.stats.replays == 0 and "graph is still alive" in f.stats.break_reasons[0][0]


def test_backward_twice_after_replay_raises_like_eager(device):
    w = torch.ones(3, device=device, requires_grad=True)

    def step(x):
        loss = (x * w).pow(2).sum()
        loss.backward()
        return loss
    f = torch.compile(step)
    for _ in range(3):   # the first two record (w.grad None, then a tensor), the third replays
        loss = f(torch.ones(3, device=device))
    assert f.stats.replays == 1 and loss.requires_grad and loss.grad_fn.name() == "SumBackward0"
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


# ---- properties ------------------------------------------------------------------------------

@given(st.lists(st.floats(-3, 3, width=32), min_size=1, max_size=8), st.floats(0.1, 2.0))
def test_elementwise_chains_match_eager(values, s):
    x = torch.tensor(values)

    def f(t):
        return ((t * s).exp() - t / (1 + t.abs())).clamp(-2, 2).sum()
    g = torch.compile(f)
    assert _same(g(x), f(x)) and _same(g(x), f(x))


def test_fused_grouping_is_bit_equal_to_unfused(device, monkeypatch):
    """With ``fuses_elementwise`` set, chains run through ``fused_elementwise`` (here the
    device's own, or the loop of the Backend default): the results must not change."""
    x = torch.randn(64, device=device)
    w = torch.randn(64, device=device, requires_grad=True)

    def f(t):
        y = ((t * w).sigmoid() * 3 - t).tanh()
        loss = (y * y).sum()
        loss.backward()
        g = w.grad
        w.grad = None
        return loss, g
    want = [f(x) for _ in range(2)]
    monkeypatch.setattr(type(x._backend), "fuses_elementwise", True)
    monkeypatch.setattr(type(x._backend), "fusion_pays", lambda *a: True)   # group even these small chains
    g = torch.compile(f)
    got = [g(x) for _ in range(2)]
    assert "fused_elementwise" in g.replay_sources[0]
    for (a, b), (c, d) in zip(want, got):
        assert _same(a, c) and _same(b, d)


def test_a_group_never_moves_past_a_step_that_touches_its_buffers(device, monkeypatch):
    """Steps passed over keep their order with every later step touching what they
    touched: the in-place write into ``t`` (another shape) comes between two steps of
    the chain that read ``t``, and a reduction reads the chain's first value."""
    x = torch.linspace(-2, 2, 12, device=device)
    t = torch.ones(12, device=device)
    other = torch.zeros(3, device=device)

    def f():
        a = x * 2.0
        other.add_(1.0)                 # another shape: passed over
        b = a + t                       # reads t before the write below
        t.mul_(3.0)                     # writes t in place: joins or not, the order holds
        s = a.sum()                     # a reduction of a: passed over
        c = b * t + s
        return a, b, c
    want = [f() for _ in range(3)]
    monkeypatch.setattr(type(x._backend), "fuses_elementwise", True)
    monkeypatch.setattr(type(x._backend), "fusion_pays", lambda *a: True)
    t.fill_(1.0)
    other.zero_()
    g = torch.compile(f)
    got = [g() for _ in range(3)]
    for w, r in zip(want, got):
        assert all(_same(p, q) for p, q in zip(w, r))
    assert _same(t, torch.full((12,), 27.0, device=device)) and _same(other, torch.full((3,), 3.0, device=device))


def test_rebinding_a_tensors_data_runs_eagerly(device):
    w = torch.zeros(3, device=device)

    def f(x):
        w.data = x * 2   # new memory for a tensor the function did not create
        return w
    g = torch.compile(f)
    for k in (1.0, 2.0):
        x = torch.full((3,), k, device=device)
        assert g(x) is w and _same(w, x * 2)
    assert g.stats.replays == 0 and "new memory" in g.stats.break_reasons[0][0]


def test_late_break_with_fullgraph_raises():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(Unsupported, match="graph is still alive"):
        torch.compile(lambda x: x * w, fullgraph=True)(torch.ones(3))


def test_too_many_recordings_fall_back_to_eager():
    f = torch.compile(lambda x, n: x * n)
    x = torch.ones(2)
    for n in range(12):
        assert _same(f(x, float(n)), x * float(n))
    assert f.stats.recordings == 8 and f.stats.eager_calls == 4
    assert "cache_size_limit" in f.stats.break_reasons[0][0]


def test_explain_reports_graphs_and_sources():
    def f(x):
        return (x + 1).exp()
    report = explain(f)(torch.ones(3))
    assert report.graph_count == 1 and report.graph_break_count == 0
    # the two kernels, as two calls or (on a device that fuses) one fused program
    assert ("_unary" in report.sources[0] or "fused" in report.sources[0]) and "Graph Count: 1" in repr(report)


def test_compiled_module_training_outside_falls_back_and_trains_like_eager(device):
    """A compiled module whose output's backward runs outside the compiled call cannot be
    replayed (no autograd graph is built by a replay): it runs eagerly, with eager's results."""
    torch.manual_seed(0)
    a = nn.Linear(4, 2).to(device)
    b = nn.Linear(4, 2).to(device)
    b.load_state_dict(a.state_dict())
    cb = torch.compile(b)
    x = torch.randn(3, 4, device=device)
    for _ in range(2):
        a(x).sum().backward()
        cb(x).sum().backward()
    assert _same(a.weight.grad, b.weight.grad) and cb.stats.replays == 0


_CHAIN_OPS = {
    "add": lambda a, b: a + b, "mul_scalar": lambda a, b: a * 1.5, "sub": lambda a, b: a - b,
    "tanh": lambda a, b: a.tanh(), "where": lambda a, b: torch.where(a > b, a, b), "exp_neg": lambda a, b: (-a).exp(),
    "inplace_add": lambda a, b: a.add_(b), "inplace_mul": lambda a, b: a.mul_(0.5),
    "to_double_and_back": lambda a, b: a.double().float(), "broadcast": lambda a, b: a + b[:1],
}


@given(st.lists(st.tuples(st.sampled_from(sorted(_CHAIN_OPS)), st.integers(0, 3), st.integers(0, 3)),
                min_size=1, max_size=10))
def test_fused_chains_with_in_place_writes_match_eager(program):
    """Random chains of elementwise ops (some in place on earlier values) grouped into
    ``fused_elementwise`` programs give eager's bits."""
    def f(x, y):
        values = [x.clone(), y.clone(), x * y, y - 1.0]
        for name, i, j in program:
            values[i] = _CHAIN_OPS[name](values[i], values[j])
        return values
    x, y = torch.linspace(-2, 2, 8), torch.linspace(1, -3, 8)
    backend = type(x._backend)
    own = backend.__dict__.get("fuses_elementwise")
    backend.fuses_elementwise = True
    try:
        g = torch.compile(f)
        got = [g(x, y) for _ in range(2)]
    finally:
        if own is None:
            del backend.fuses_elementwise
        else:
            backend.fuses_elementwise = own
    want = f(x, y)
    for run in got:
        assert all(_same(a, b) for a, b in zip(run, want))


#: steps on persistent state (long ``a``, ``b``; short ``c``, ``d``) and the input ``x``:
#: elementwise ops of two shapes, in place and not, fills, a reduction feeding the other
#: shape and a product, so that fused groups pass over steps and take fills
_STATE_OPS = [
    lambda s, x: s["a"].add_(x), lambda s, x: s["a"].mul_(1.5), lambda s, x: s["b"].copy_(s["a"] * 0.5 - x),
    lambda s, x: s["b"].sub_(s["a"] * s["b"]), lambda s, x: s["a"].zero_(), lambda s, x: s["b"].fill_(-2.0),
    lambda s, x: s["c"].fill_(0.25), lambda s, x: s["c"].add_(s["d"] * 2.0), lambda s, x: s["d"].mul_(s["c"]),
    lambda s, x: s["d"].add_(s["a"].sum()), lambda s, x: s["c"].copy_(s["a"][:4] + s["d"]),
    lambda s, x: s["a"].add_(s["b"].tanh()), lambda s, x: s["b"].copy_(torch.where(s["a"] > 0, s["a"], x)),
    lambda s, x: s["d"].copy_(s["c"].reshape(2, 2).mm(s["d"].reshape(2, 2)).reshape(4)),
]


# the device fixture only names a device: nothing in it is shared between examples
@settings(max_examples=30, deadline=None,
          suppress_health_check=list(settings().suppress_health_check) + [HealthCheck.function_scoped_fixture])
@given(program=st.lists(st.integers(0, len(_STATE_OPS) - 1), min_size=2, max_size=12))
def test_fused_groups_moved_past_other_steps_match_eager(device, program):
    """Random steps on state of two shapes, with fusion forced on: groups pass over the
    steps they cannot take and take fills, and every state and result stays eager's."""
    def fresh():
        return {"a": torch.linspace(-2, 2, 16, device=device), "b": torch.linspace(1, -3, 16, device=device),
                "c": torch.linspace(0.5, 1, 4, device=device), "d": torch.linspace(-1, 1, 4, device=device)}

    def run(state):
        a, b, c, d = state["a"], state["b"], state["c"], state["d"]

        def f(x):
            s = {"a": a, "b": b, "c": c, "d": d}    # read from the closure's cells: tracked
            for k in program:
                _STATE_OPS[k](s, x)
            return a * 2.0 + b
        return f
    x = torch.linspace(-1, 3, 16, device=device)
    eager_state, compiled_state = fresh(), fresh()
    backend = type(x._backend)
    saved = {k: backend.__dict__.get(k) for k in ("fuses_elementwise", "fusion_pays")}
    backend.fuses_elementwise, backend.fusion_pays = True, lambda *a: True
    try:
        g = torch.compile(run(compiled_state))
        got = [g(x) for _ in range(3)]
    finally:
        for k, v in saved.items():
            if v is None:
                delattr(backend, k)
            else:
                setattr(backend, k, v)
    assert g.stats.replays == 2, g.stats
    f = run(eager_state)
    for result in got:
        assert _same(result, f(x))
    for k in "abcd":
        assert _same(compiled_state[k], eager_state[k]), k


def test_an_error_propagates_like_eager_and_leaves_plain_numbers():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
        return x.reshape(7)   # fails after the step, as eager does
    f = torch.compile(step)
    with pytest.raises(RuntimeError) as ours:
        f(torch.ones(2, 3))
    with pytest.raises(RuntimeError) as eager:
        step(torch.ones(2, 3))
    assert str(ours.value) == str(eager.value)
    assert type(opt.param_groups[0]["lr"]) is float and f.stats.replays == 0


def test_state_reached_through_default_arguments(device):
    torch.manual_seed(0)
    w = torch.randn(3, device=device, requires_grad=True)

    def step(x, w=w):
        (x * w).sum().backward()
        g = w.grad
        w.grad = None
        return g
    f = torch.compile(step)
    for k in (1.0, 2.0, 3.0):
        x = torch.full((3,), k, device=device)
        assert _same(f(x), x) and w.grad is None
    assert f.stats.replays == 2


def test_reset_forgets_recordings_and_breaks():
    from plugrad import compiler
    f = torch.compile(lambda x: x + 1)
    g = torch.compile(lambda x: x * x.sum().item())
    x = torch.ones(2)
    f(x), f(x), g(x)
    assert f.stats.replays == 1 and g.stats.break_reasons
    compiler.reset()
    assert f.stats.recordings == 0 and not g.stats.break_reasons
    assert _same(f(x), x + 1) and f.stats.recordings == 1
    assert "inductor" in compiler.list_backends() and "inductor" in real_torch.compiler.list_backends()


def test_an_argument_aliasing_tracked_state_runs_eagerly():
    w = torch.ones(3)

    def f(x):
        w.add_(1)
        return x * 2   # x is w itself at the first call: it reads the updated values
    g = torch.compile(f)
    assert _same(g(w), torch.full((3,), 4.0))
    other = torch.ones(3)
    assert _same(g(other), torch.full((3,), 2.0)) and _same(w, torch.full((3,), 3.0))
    assert "shares memory" in g.stats.break_reasons[0][0]


def test_planned_buffers_share_memory_when_lifetimes_do_not_overlap(device):
    def f(x):
        y = x
        for _ in range(20):
            y = (y * 1.01).tanh()
        return y.sum()
    g = torch.compile(f)
    x = torch.randn(16, device=device)
    assert _same(g(x), f(x)) and _same(g(x), f(x))
    arrays = {id(v) for v in g._entries[0].__globals__.values() if type(v) is type(x._a)}
    assert len(arrays) <= 4   # 40 intermediate results of 16 elements live in a few buffers


def test_a_buffer_dying_inside_a_fused_chain_keeps_its_memory_from_the_chain_out(device):
    """A temporary read (transposed) by a chain's first step and dead after it must not
    lend its memory to the chain's out: a fused program reads its inputs while it writes
    its outs (found by --compile on opencl: eigh's symmetrizing backward)."""
    def f(a, b):
        t = a + b                     # a temporary, read once more through its transpose
        return ((t - t.mT) * 0.5).sum(-1)   # sub, mul: one fused program on a fusing device,
                                           # whose out is planned (not returned), like t

    a = torch.randn(2, 24, 24, device=device)
    b = torch.randn(2, 24, 24, device=device)
    compiled = torch.compile(f)
    eager = f(a, b)
    compiled(a, b)
    assert _same(compiled(a, b), eager) and compiled.stats.replays == 1
