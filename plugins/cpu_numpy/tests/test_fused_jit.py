"""The cpu device's compiled fused programs (``plugrad_cpu.fused_jit``, the ``jit`` extra):
every program it takes gives the unfused NumPy kernels' bits, and everything else goes
back to the NumPy steps. The reference is ``Backend.fused_elementwise``'s default loop,
which runs the device's own unfused kernels one by one."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plugrad
from plugrad.extend import Backend
from plugrad_conformance.checks.fused import _nans_alike
from plugrad_cpu import backend as cpu_backend

fused_jit = pytest.importorskip("plugrad_cpu.fused_jit", reason="the jit extra (Numba) is not installed")

BACKEND = plugrad.empty(1)._backend
_SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 1e-30, 1e-45, 3e38, -3e38, 1e300, 7.0]
_ARITH = ["add", "sub", "mul", "div"]
_COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
_N = 257


def _array(rng, dtype, n=_N):
    v = rng.standard_normal(n) * 3
    v[rng.integers(0, n, n // 3)] = rng.choice(_SPECIAL, n // 3)
    with np.errstate(over="ignore"):
        return v.astype(dtype)


@st.composite
def _programs(draw):
    """A random program over float arrays, scalars and bool masks of the steps the module
    compiles, its inputs, the registers written to memory, and whether the last of them
    goes into input 0's array (in place)."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    pd = plugrad.float32 if dtype == np.float32 else plugrad.float64
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    n_arrays = draw(st.integers(1, 3))
    inputs = [_array(rng, dtype) for _ in range(n_arrays)]
    for i in range(1, n_arrays):                     # some one-element operands: a 0-d tensor, an expand
        shape = draw(st.sampled_from([None, (), (1,), "expand"]))
        if shape == "expand":
            inputs[i] = np.broadcast_to(inputs[i][:1], (_N,))
        elif shape is not None:
            inputs[i] = inputs[i][:1].reshape(shape)
    scalar, exponent = n_arrays, n_arrays + 1
    inputs.append(draw(st.sampled_from([0.5, -2.0, 1e-6, 3, -7, True, 0.0, np.nan, 1e30])))
    inputs.append(draw(st.sampled_from([2, 3, -1, -2, 2.0, -2.0])))
    values = list(range(n_arrays))                   # registers holding float arrays
    masks, program = [], []
    for _ in range(draw(st.integers(1, 6))):
        r = len(inputs) + len(program)
        kind = draw(st.sampled_from(["arith", "arith", "compare", "where", "unary", "pow", "fill", "cast"]))
        a = draw(st.sampled_from(values))
        b = draw(st.sampled_from(values + [scalar]))
        if draw(st.booleans()):
            a, b = b, a                              # a scalar on either side
        if kind == "arith":
            program.append(("binary", draw(st.sampled_from(_ARITH)), (a, b), pd))
        elif kind == "compare":
            program.append(("binary", draw(st.sampled_from(_COMPARE)), (a, b), plugrad.bool))
            masks.append(r)
            continue
        elif kind == "where" and masks:
            program.append(("where", None, (draw(st.sampled_from(masks)), a, b), pd))
        elif kind == "unary":
            program.append(("unary", draw(st.sampled_from(["abs", "sqrt"])), (b if a == scalar else a,), pd))
        elif kind == "pow":
            program.append(("binary", "pow", (draw(st.sampled_from(values)), exponent), pd))
        elif kind == "cast":
            other = plugrad.float64 if pd is plugrad.float32 else plugrad.float32
            program.append(("copy", None, (draw(st.sampled_from(values)),), other))
            program.append(("copy", None, (r,), pd))       # and back: a round trip through the other width
            r += 1
        else:
            program.append(("copy", None, (scalar,), pd))    # a fill with the scalar
        values.append(r)
    last = len(inputs) + len(program) - 1
    written = sorted({last} | set(draw(st.lists(st.sampled_from(range(len(inputs), last + 1)), max_size=3))))
    return tuple(program), inputs, written, draw(st.booleans())


def _run(program, inputs, written, in_place, fused):
    """The outs (as bytes, every NaN made one NaN: the contract leaves open which of two
    NaNs of different bits an operation gives) of ``program``, run compiled (``fused``)
    or as the default loop. With ``in_place``, the last float register written goes into
    input 0's array."""
    inputs = [a.copy() if isinstance(a, np.ndarray) and a.flags.writeable else a for a in inputs]
    n_in = len(inputs)
    outs = []
    for reg in written:
        d = program[reg - n_in][3]
        if in_place and reg == written[-1] and d is not plugrad.bool and inputs[0].dtype.name == d.name \
                and inputs[0].size == _N:
            outs.append((reg, inputs[0]))
        else:
            outs.append((reg, np.empty(_N, np.dtype(d.name))))
    with np.errstate(all="ignore"):
        if fused:
            assert fused_jit.run(program, inputs, outs), program
        else:
            Backend.fused_elementwise(BACKEND, program, inputs, outs)
    return [_nans_alike(out.tobytes(), out.dtype.name) for _, out in outs]


@settings(max_examples=40, deadline=None)   # each new program shape compiles (~0.3 s)
@given(_programs())
def test_compiled_programs_give_the_unfused_bits(sample):
    program, inputs, written, in_place = sample
    assert _run(program, inputs, written, in_place, True) == _run(program, inputs, written, in_place, False)


def test_an_update_chain_like_sgd_writes_parameter_and_zeroed_gradient():
    """grad += g; p -= lr * grad; grad.fill_(0): the form an SGD step with zeroing takes."""
    rng = np.random.default_rng(0)
    p, grad, g = (_array(rng, np.float32, 10_000) for _ in range(3))
    f = plugrad.float32
    program = (("binary", "add", (0, 1), f), ("binary", "mul", (5, 2), f), ("binary", "sub", (3, 6), f),
               ("copy", None, (4,), f))
    want_p, want_grad, got_p, got_grad = p.copy(), grad.copy(), p.copy(), grad.copy()
    with np.errstate(all="ignore"):
        Backend.fused_elementwise(BACKEND, program, [want_grad, g, 1e-3, want_p, 0.0],
                                  [(8, want_grad), (7, want_p)])
        assert fused_jit.run(program, [got_grad, g, 1e-3, got_p, 0.0], [(8, got_grad), (7, got_p)])
    assert got_p.tobytes() == want_p.tobytes() and got_grad.tobytes() == want_grad.tobytes()
    assert not got_grad.any()


@pytest.mark.parametrize("program, inputs", [
    ((("unary", "exp", (0,), plugrad.float32),), [np.ones(8, np.float32)]),         # not IEEE-exact in NumPy
    ((("unary", "neg", (0,), plugrad.float32),), [np.ones(8, np.float32)]),         # NaN sign: see the module
    ((("binary", "add", (0, 1), plugrad.float16),), [np.ones(8, np.float16), 1.0]),
    ((("binary", "add", (0, 1), plugrad.int64),), [np.ones(8, np.int64), 1]),
    ((("binary", "maximum", (0, 1), plugrad.float32),), [np.ones(8, np.float32), 0.0]),
    ((("binary", "pow", (0, 1), plugrad.float32),), [np.ones(8, np.float32), 0.5]),
    ((("binary", "add", (0, 1), plugrad.float32),), [np.ones(8, np.float32), np.ones(8, np.float64)]),
])
def test_other_programs_are_left_to_numpy(program, inputs):
    assert not fused_jit.run(program, inputs, [(len(inputs), np.empty(8, np.dtype(program[0][3].name)))])


@pytest.mark.parametrize("scalar", [2 ** 24 + 1, -(2 ** 30), 1e39, -1e300])
def test_scalars_numpy_converts_otherwise_go_back_to_numpy(scalar):
    """An int past 2**24 or a float past float32's range, used as a float32 operand: the
    compiled loop declines this call (the backend then runs the NumPy steps, same bits)."""
    x = np.arange(8, dtype=np.float32)
    program = (("binary", "mul", (0, 1), plugrad.float32),)
    assert fused_jit.run(program, [x, 3 if isinstance(scalar, int) else 3.0], [(2, np.empty(8, np.float32))])
    assert not fused_jit.run(program, [x, scalar], [(2, np.empty(8, np.float32))])
    got, want = np.empty(8, np.float32), np.empty(8, np.float32)
    with np.errstate(all="ignore"):
        BACKEND.fused_elementwise(program, [x, scalar], [(2, got)])
        Backend.fused_elementwise(BACKEND, program, [x, scalar], [(2, want)])
    assert got.tobytes() == want.tobytes()


def test_each_pow_exponent_gets_its_loop():
    x = np.linspace(-3, 3, 8, dtype=np.float32)
    program = (("binary", "pow", (0, 1), plugrad.float32),)
    out = np.empty(8, np.float32)
    assert fused_jit.run(program, [x, 3.0], [(2, out)])
    assert out.tobytes() == ((x * x) * x).tobytes()
    assert fused_jit.run(program, [x, 2.0], [(2, out)])      # the same program, another exponent: its own loop
    assert out.tobytes() == (x * x).tobytes()


def test_the_device_fuses_small_programs_it_compiles():
    """Below two blocks the device fuses a program it compiles from JIT_FUSION_MIN_STEPS
    steps, or from JIT_FUSION_MIN_BYTES; not a program with a step it does not compile."""
    assert cpu_backend.JIT_FUSION
    f, small, big = plugrad.float32, 64, cpu_backend.JIT_FUSION_MIN_BYTES
    steps = (("binary", "add", (0, 1), f),) + tuple(("binary", "mul", (2 + k, 1), f)
                                                    for k in range(cpu_backend.JIT_FUSION_MIN_STEPS))
    enough, one_short = steps[:cpu_backend.JIT_FUSION_MIN_STEPS], steps[:cpu_backend.JIT_FUSION_MIN_STEPS - 1]
    with_exp = (("unary", "exp", (0,), f),) + enough
    assert not BACKEND.fusion_pays(one_short, small) and BACKEND.fusion_pays(one_short, big)
    assert BACKEND.fusion_pays(enough, small)
    assert not BACKEND.fusion_pays(with_exp, big) and BACKEND.fusion_pays(with_exp, 2 * cpu_backend.FUSED_BLOCK_BYTES)


def test_the_environment_switch_turns_compiled_fusion_off():
    code = ("from plugrad_cpu import backend as b; import plugrad; program = (('binary', 'add', (0, 1), "
            "plugrad.float32),) * 4; print(b.JIT_FUSION, b.NumpyBackend().fusion_pays(program, 64))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PLUGRAD_CPU_JIT": "0", "PATH": ""})
    assert out.stdout.split() == ["False", "False"]       # a small program is not worth fusing then


def test_a_whole_storage_view_is_the_storage_array():
    """A view with the storage's own layout is the base array itself (as for a fresh
    tensor): a parameter made by from_numpy is then one buffer to a compiled replay, and
    its in-place update joins the fused program that computes it."""
    arr = np.linspace(-1, 1, 2048, dtype=np.float32).reshape(32, 64)
    w = plugrad.from_numpy(arr)
    assert w._a is w._storage.base and np.shares_memory(w._a, arr)
    assert w.view(32, 64)._a is w._storage.base
    assert w.t()._a is not w._storage.base and w[1:]._a is not w._storage.base
    w.requires_grad_()
    x = plugrad.from_numpy(np.linspace(0, 2, 16 * 32, dtype=np.float32).reshape(16, 32))

    def step():
        loss = x.mm(w).pow(2).sum()
        loss.backward()
        with plugrad.no_grad():
            w.sub_(w.grad * 1e-3)
            w.grad.zero_()
        return loss
    g = plugrad.compile(step)
    losses = [g() for _ in range(4)]
    steady = g.replay_sources[-1]
    assert "fused_elementwise" in steady and "'sub'" not in steady, steady
    eager_w = plugrad.from_numpy(np.linspace(-1, 1, 2048, dtype=np.float32).reshape(32, 64)).requires_grad_()
    for loss in losses:
        eager_loss = x.mm(eager_w).pow(2).sum()
        eager_loss.backward()
        with plugrad.no_grad():
            eager_w.sub_(eager_w.grad * 1e-3)
            eager_w.grad.zero_()
        assert plugrad.equal(loss, eager_loss)
    assert plugrad.equal(w, eager_w) and plugrad.equal(w.grad, eager_w.grad)
