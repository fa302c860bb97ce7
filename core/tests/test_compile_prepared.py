"""``Backend.prepare``: a replay's constant kernel calls made once into something faster.

Every compiled result is compared, bit for bit, with the same code run eagerly on the
same device (a prepared replay must compute eager's bits). On ``opencl`` the calls
become preset launches, and runs of small launches one graph kernel; the tests check
that small training steps (reductions, broadcasts, elementwise chains) replay with
eager's bits, that small ones become one launch, that large ones stay launches, and
that ``prepare`` runs nothing by itself.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import plugrad as torch
from plugrad.backend import Backend


def _same(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a.cpu(), b.cpu())


def _step(device, dtype, xshape, wshape, dim, reduction):
    """A small training step: elementwise chain, broadcast parameters, a reduction,
    backward; returns the loss and the gradients (and resets them, as W1 does)."""
    g = torch.Generator().manual_seed(sum(xshape) + 7 * len(wshape))
    x = torch.randn(xshape, generator=g, dtype=dtype).to(device).requires_grad_()
    w1 = torch.randn(wshape, generator=g, dtype=dtype).to(device).requires_grad_()
    w2 = torch.tensor(3.0, dtype=dtype, device=device, requires_grad=True)
    b = torch.randn(wshape, generator=g, dtype=dtype).to(device)

    def step():
        y = ((x * w1 + b).tanh() * w2 - x / 3)
        r = y.sum(dim) if reduction == "sum" else y.amax(dim) if reduction == "amax" else y.mean(dim)
        loss = (r * r).mean()
        loss.backward()
        grads = (x.grad, w1.grad, w2.grad)
        x.grad = w1.grad = w2.grad = None
        return (loss,) + grads
    return step


shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).flatmap(
    lambda xs: st.tuples(st.just(tuple(xs)),
                         st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)).map(
                             lambda keep: tuple(n if k else 1 for n, k in zip(xs, keep))),
                         st.integers(0, len(xs) - 1)))


@settings(suppress_health_check=list(settings().suppress_health_check) + [HealthCheck.function_scoped_fixture])
@given(shapes=shapes, reduction=st.sampled_from(["sum", "mean", "amax"]))
def test_small_training_step_replays_eagers_bits(device, shapes, reduction):
    xshape, wshape, dim = shapes
    dtypes = [torch.float32] + ([torch.float64] if torch.float64 in torch.empty(0, device=device)._backend.dtypes
                                 else [])
    for dtype in dtypes:
        eager = _step(device, dtype, xshape, wshape, dim, reduction)
        compiled = torch.compile(_step(device, dtype, xshape, wshape, dim, reduction))
        for _ in range(3):
            expected, got = eager(), compiled()
            assert all(_same(e, c) for e, c in zip(expected, got)), (xshape, wshape, dim, reduction, dtype)
        assert compiled.stats.replays >= 1


def test_default_prepare_is_none_and_cpu_keeps_it():
    a = torch.ones(3)._a
    assert Backend.prepare(torch.ones(3)._backend, [("fill", (a, 1.0), {})]) is None
    assert type(torch.ones(3)._backend).prepare is Backend.prepare


# ---- opencl: preset launches and graph kernels ----------------------------------------------

def _opencl():
    if not torch.opencl.is_available():
        pytest.skip("no OpenCL device")
    return torch.empty(0, device="opencl")._backend


def _prepared_items(compiled):
    entry = compiled._entries[-1]
    return [v for k, v in entry.__globals__.items() if k.startswith("_prepared")]


def test_small_step_replays_as_one_graph_kernel():
    _opencl()
    step = _step("opencl", torch.float32, (5,), (), 0, "sum")
    compiled = torch.compile(step)
    for _ in range(3):
        compiled()
    prepared = _prepared_items(compiled)
    launches = [item for p in prepared for item in p.items]
    assert [k.function_name for k, _, _ in launches] == ["pg_graph"] * len(launches)
    assert len(launches) <= 3            # per-call allocations of the returned gradients split the run


def test_large_step_stays_preset_launches_with_eagers_bits():
    backend = _opencl()
    n = backend._graphs.max_items * backend.run * 4 + 3
    eager = _step("opencl", torch.float32, (n,), (1,), 0, "sum")
    compiled = torch.compile(_step("opencl", torch.float32, (n,), (1,), 0, "sum"))
    for _ in range(3):
        assert all(_same(e, c) for e, c in zip(eager(), compiled()))
    names = [k.function_name for p in _prepared_items(compiled) for k, _, _ in p.items if hasattr(k, "function_name")]
    assert any(name != "pg_graph" for name in names)


def test_prepare_runs_nothing_until_called_and_then_matches_the_calls():
    backend = _opencl()
    f32 = torch.float32
    x = torch.arange(24.0).reshape(4, 6).to("opencl")
    base = x.t()._a                                          # a strided view
    outs = [backend.empty((6,), f32) for _ in range(2)]
    tmp = [backend.empty((6, 4), f32) for _ in range(2)]
    for o in outs + tmp:
        backend.fill(o, -1.0)

    def calls(k):
        return [("binary", ("mul", base, 0.5, tmp[k]), {}),
                ("unary", ("exp", tmp[k], tmp[k]), {}),
                ("reduce", ("sum", tmp[k], (1,), backend.view(outs[k], (6, 1), (1, 1), 0)), {}),
                ("binary", ("add", outs[k], 2.0, outs[k]), {})]
    prepared = backend.prepare(calls(0))
    assert backend.to_bytes(outs[0]) == backend.to_bytes(outs[1])      # nothing ran yet
    for name, args, kwargs in calls(1):
        getattr(backend, name)(*args, **kwargs)
    prepared()
    assert backend.to_bytes(outs[0]) == backend.to_bytes(outs[1])
    assert backend.to_bytes(tmp[0]) == backend.to_bytes(tmp[1])
    assert [k.function_name for k, _, _ in prepared.items] == ["pg_graph"]


@pytest.mark.parametrize("op", ["amax", "sum"])
def test_temporaries_of_prepared_calls_stay_theirs(device, op):
    """A reduction over two axes that do not merge reduces one axis into a temporary
    first; the prepared replay owns that temporary, which must not go back to the pool
    while an array allocated at each replay (here ``out``, written before the prepared
    calls and read after them) could receive its memory."""
    p = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(3)).to(device)

    def f(x):
        out = x * 3
        m = getattr(p * 2, op)((0, 2))
        return out, m * 1
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(4)).to(device)
    compiled = torch.compile(f)
    for _ in range(4):
        expected, got = f(x), compiled(x)
        assert all(_same(e, c) for e, c in zip(expected, got))
    assert compiled.stats.replays >= 2
