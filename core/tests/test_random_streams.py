"""PyTorch's CPU random streams, bit for bit: the same seed and calls give torch's tensors.

PyTorch (torch 2.13, CPU) is the oracle: every case runs the same expression in both
libraries after the same seed and compares the bits (zero tolerance), on every device
(a device gets the cpu device's numbers). Two of PyTorch's paths depend on the
processor; the tests ask torch which one it takes here and compare bitwise on the path
plugrad reproduces, else check the distribution (docs/randomness.md):

* float32 ``normal_`` of 16+ contiguous elements uses ATen's AVX2 Box-Muller when torch
  runs AVX2/AVX512 kernels (``torch.backends.cpu.get_cpu_capability()``);
* ``bernoulli_(p)`` with a float ``p`` (dropout's noise) and ``exponential_`` may draw
  from MKL's generator on an Intel CPU.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

import plugrad
from plugrad import _torchrng

SEEDS = [0, 1, 2 ** 40 + 7]
SIZES = [1, 15, 16, 17, 1000, 10 ** 6]


def _vendor() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":")[1].strip()
    except OSError:
        pass
    return ""


#: torch runs ATen's AVX2 normal_fill (the float32 Box-Muller plugrad reproduces)
AVX_NORMAL = torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
#: torch's bernoulli_(float p) may draw from MKL's stream (Intel CPUs with MKL)
MKL_PATHS = torch.backends.mkl.is_available() and _vendor() == "GenuineIntel"


def _sizes_for(device):
    """The pure-Python example device computes everything in Python: sizes up to 1000."""
    return SIZES if device != "pylist" else [s for s in SIZES if s <= 1000]


def assert_same_bits(p_tensor, t_tensor):
    got = p_tensor.to("cpu").numpy()
    want = t_tensor.numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype.kind == "f":
        view = {2: np.uint16, 4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
        bad = np.nonzero(got.view(view) != want.view(view))
    else:
        bad = np.nonzero(got != want)
    assert not bad[0].size, (f"{bad[0].size} of {want.size} elements differ, first at {bad[0][0]}: "
                             f"plugrad {got.flat[bad[0][0]]!r} torch {want.flat[bad[0][0]]!r}")


def _both(seed, fn, *args):
    """``fn(lib, *args)`` in each library after seeding its default generator."""
    plugrad.manual_seed(seed)
    torch.manual_seed(seed)
    return fn(plugrad, *args), fn(torch, *args)


# every case: (name, expression of (lib, n, dtype name, device), float dtypes or None)
def _dt(lib, name):
    return getattr(lib, name)


def _dev(lib, device):
    return {"device": device} if lib is plugrad else {}


FLOAT_CASES = {
    "rand": lambda L, n, d, dev: L.rand(n, dtype=_dt(L, d), **_dev(L, dev)),
    "randn": lambda L, n, d, dev: L.randn(n, dtype=_dt(L, d), **_dev(L, dev)),
    "normal_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).normal_(0.5, 2.0),
    "normal": lambda L, n, d, dev: L.normal(2.0, 3.0, size=(n,), dtype=_dt(L, d), **_dev(L, dev)),
    "uniform_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).uniform_(-0.57735, 0.57735),
    "exponential_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).exponential_(1.5),
    "bernoulli_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).bernoulli_(0.3),
    "random_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).random_(),
    "cauchy_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).cauchy_(),
    "log_normal_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).log_normal_(),
    "geometric_": lambda L, n, d, dev: L.empty(n, dtype=_dt(L, d), **_dev(L, dev)).geometric_(0.25),
    "rand_like": lambda L, n, d, dev: L.rand_like(L.zeros(n, dtype=_dt(L, d), **_dev(L, dev))),
    "randn_like": lambda L, n, d, dev: L.randn_like(L.zeros(n, dtype=_dt(L, d), **_dev(L, dev))),
    "normal_tensors": lambda L, n, d, dev: L.normal(L.arange(n, dtype=_dt(L, d), **_dev(L, dev)),
                                                    L.full((n,), 2.5, dtype=_dt(L, d), **_dev(L, dev))),
    "normal_tensor_mean": lambda L, n, d, dev: L.normal(L.arange(n, dtype=_dt(L, d), **_dev(L, dev)), 0.5),
    "normal_tensor_std": lambda L, n, d, dev: L.normal(-1.0, L.full((n,), 3.0, dtype=_dt(L, d), **_dev(L, dev))),
    "bernoulli": lambda L, n, d, dev: L.bernoulli(
        L.linspace(0, 1, n, dtype=_dt(L, d), **_dev(L, dev))),
}

INT_CASES = {
    "randint": lambda L, n, dev: L.randint(-5, 7, (n,), **_dev(L, dev)),
    "randint_wide": lambda L, n, dev: L.randint(-2 ** 40, 2 ** 40, (n,), **_dev(L, dev)),
    "randint_int32": lambda L, n, dev: L.randint(3, 1000, (n,), dtype=L.int32, **_dev(L, dev)),
    "randperm": lambda L, n, dev: L.randperm(n, **_dev(L, dev)),
    "random_int64": lambda L, n, dev: L.empty(n, dtype=L.int64, **_dev(L, dev)).random_(),
    "random_from_to": lambda L, n, dev: L.empty(n, dtype=L.int32, **_dev(L, dev)).random_(-100, 100),
    "random_full": lambda L, n, dev: L.empty(n, dtype=L.int64, **_dev(L, dev)).random_(-2 ** 63, None),
    "multinomial_replacement": lambda L, n, dev: L.multinomial(
        L.arange(1, 11, dtype=L.float32, **_dev(L, dev)), n, replacement=True),
}


def _reproducible(name, dtype, n):
    """False where torch's path here is not the one plugrad follows (see the module docstring)."""
    if name.startswith(("randn", "normal")) and dtype == "float32" and n >= 16:
        return AVX_NORMAL
    if name in ("bernoulli_", "exponential_"):
        return not MKL_PATHS
    return True


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FLOAT_CASES))
def test_float_streams_are_pytorchs(device, name, dtype, seed):
    fn = FLOAT_CASES[name]
    for n in _sizes_for(device):
        got, want = _both(seed, fn, n, dtype, device)
        if _reproducible(name, dtype, n):
            assert_same_bits(got, want)
        else:
            assert abs(float(got.to(plugrad.float64).mean()) - float(want.double().mean())) < 0.1
        # the generator moved exactly as torch's: the next draw agrees too
        assert_same_bits(plugrad.rand(3, dtype=plugrad.float64), torch.rand(3, dtype=torch.float64))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(INT_CASES))
def test_integer_streams_are_pytorchs(device, name, seed):
    fn = INT_CASES[name]
    for n in _sizes_for(device):
        got, want = _both(seed, fn, n, device)
        assert_same_bits(got, want)
        assert_same_bits(plugrad.rand(3, dtype=plugrad.float64), torch.rand(3, dtype=torch.float64))


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_multinomial_rows(device, seed, replacement):
    """2-d probabilities, one sample (PyTorch's Gumbel path even with replacement) and many."""
    weights = torch.rand(4, 50, generator=torch.Generator().manual_seed(seed)) + 0.01
    for samples in (1, 7, 50):
        got, want = _both(seed, lambda L, k: L.multinomial(
            plugrad.tensor(weights.tolist(), device=device) if L is plugrad else weights, k, replacement), samples)
        if replacement or not MKL_PATHS:
            assert_same_bits(got, want)


@pytest.mark.parametrize("seed", SEEDS)
def test_generator_argument_leaves_the_default_alone(device, seed):
    g, tg = plugrad.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    plugrad.manual_seed(5)
    torch.manual_seed(5)
    assert_same_bits(plugrad.randn(40, generator=g, device=device), torch.randn(40, generator=tg))
    assert_same_bits(plugrad.randperm(30, generator=g, device=device), torch.randperm(30, generator=tg))
    assert_same_bits(plugrad.empty(9, device=device).uniform_(-1, 2, generator=g),
                     torch.empty(9).uniform_(-1, 2, generator=tg))
    assert_same_bits(plugrad.rand(5), torch.rand(5))     # the default stream was untouched


def test_without_the_cpu_plugin_devices_draw_through_the_reference(device, monkeypatch):
    """With no cpu engine to borrow, a device without its own random_stream kernel gets
    the pure-Python reference's numbers: the same ones."""
    monkeypatch.setattr(plugrad.random, "_cpu_engine", lambda: None)
    for seed in SEEDS:
        got, want = _both(seed, lambda L: (
            L.randn(40, **_dev(L, device)), L.rand(17, dtype=L.float64, **_dev(L, device)),
            L.randperm(30, **_dev(L, device)), L.randint(0, 9, (20,), **_dev(L, device))))
        for p_t, t_t in zip(got, want):
            assert_same_bits(p_t, t_t)


def test_non_contiguous_targets_fill_in_memory_order(device):
    for seed in SEEDS:
        p = plugrad.zeros(6, 40, device=device).t()
        t = torch.zeros(6, 40).t()
        plugrad.manual_seed(seed)
        torch.manual_seed(seed)
        for method, args in (("normal_", (1.0, 2.0)), ("uniform_", (0.0, 3.0)), ("random_", (0, 50))):
            getattr(p, method)(*args)
            getattr(t, method)(*args)
            assert_same_bits(p, t)
        q = plugrad.zeros(10, 10, device=device)[::2, 1::3]
        tq = torch.zeros(10, 10)[::2, 1::3]
        q.normal_()
        tq.normal_()
        assert_same_bits(q, tq)


def test_cached_normal_sample_carries_between_calls():
    """PyTorch's scalar normal path caches the second sample of each pair in the generator."""
    plugrad.manual_seed(3)
    torch.manual_seed(3)
    for n, dtype in ((3, "float32"), (1, "float64"), (5, "float64"), (20, "float32"), (1, "float32")):
        assert_same_bits(plugrad.randn(n, dtype=getattr(plugrad, dtype)), torch.randn(n, dtype=getattr(torch, dtype)))


# ---- the generator's state ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS + [-1, 2 ** 64 - 1])
def test_state_bytes_are_pytorchs(seed):
    g, tg = plugrad.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    assert g.initial_seed() == tg.initial_seed()
    assert g.get_state().tolist() == tg.get_state().tolist()
    for draw in (lambda L, G: L.randn(3, generator=G), lambda L, G: L.rand(700, generator=G),
                 lambda L, G: L.randperm(5, generator=G)):
        draw(plugrad, g)
        draw(torch, tg)
        state = g.get_state()
        assert state.dtype is plugrad.uint8 and state.tolist() == tg.get_state().tolist()


def test_set_state_accepts_pytorchs_state_and_resumes_its_stream():
    tg = torch.Generator().manual_seed(11)
    torch.randn(5, generator=tg)
    g = plugrad.Generator().set_state(plugrad.tensor(tg.get_state().tolist(), dtype=plugrad.uint8))
    assert_same_bits(plugrad.randn(21, generator=g), torch.randn(21, generator=tg))
    saved = plugrad.get_rng_state()
    a = plugrad.rand(4)
    plugrad.set_rng_state(saved)
    assert_same_bits(plugrad.rand(4), torch.from_numpy(a.numpy()))


def test_set_state_errors():
    g, tg = plugrad.Generator(), torch.Generator()
    for bad in (torch.zeros(10, dtype=torch.uint8),):
        with pytest.raises(RuntimeError):
            tg.set_state(bad)
        with pytest.raises(RuntimeError):
            g.set_state(plugrad.zeros(10, dtype=plugrad.uint8))
    with pytest.raises(TypeError):
        g.set_state([1, 2, 3])


def test_seed_and_initial_seed():
    g = plugrad.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2 ** 64
    assert plugrad.manual_seed(9) is plugrad.default_generator and plugrad.initial_seed() == 9


def test_generator_pickles_and_clones_its_state():
    import pickle
    g = plugrad.Generator().manual_seed(8)
    plugrad.randn(3, generator=g)
    for copy in (lambda: pickle.loads(pickle.dumps(g)), g.clone_state):
        other = copy()
        assert other is not g and other.initial_seed() == 8
        assert other.get_state().tolist() == g.get_state().tolist()
        assert plugrad.randn(5, generator=other).tolist() == plugrad.randn(5, generator=g).tolist()


def test_fork_rng_restores_the_default_generator():
    plugrad.manual_seed(4)
    torch.manual_seed(4)
    with plugrad.random.fork_rng():
        plugrad.randn(100)
    with torch.random.fork_rng():
        torch.randn(100)
    assert_same_bits(plugrad.randn(10), torch.randn(10))
    with plugrad.random.fork_rng(enabled=False):
        plugrad.rand(1)
    torch.rand(1)
    assert_same_bits(plugrad.rand(2), torch.rand(2))


# ---- the engines -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind,name,args", [
    ("normal", "float32", (0.0, 1.0, True)), ("normal", "float64", (0.5, 2.0, True)),
    ("normal", "float32", (1.0, 3.0, False)), ("uniform", "float64", (-3.0, 7.5)),
    ("uniform", "float16", (0.0, 1.0)), ("uniform", "bfloat16", (-2.0, 2.0)), ("exponential", "float32", (2.0,)),
    ("randperm", "int64", ()), ("integers", "int64", (2 ** 50, -3)), ("random_int", "bool", ()),
    ("bernoulli_tensor", "float32", ([0.1 * k for k in range(10)] * 4, False)),
    ("multinomial", "int64", ([1.0, 2.0, 0.0, 4.0] * 2, 4, "float32")),
])
def test_numpy_engine_equals_the_reference(kind, name, args):
    """The cpu device's vectorised engine and the pure-Python reference give the same
    values and leave the same state."""
    backend = plugrad.plugins.registry.backend_for(plugrad.device("cpu"))
    dtype = getattr(plugrad, name)
    for seed in SEEDS:
        n = 40 if kind in ("bernoulli_tensor",) else 1000
        a, b = _torchrng.MTState(seed), _torchrng.MTState(seed)
        fast = bytes(backend.random_stream(kind, a, n, dtype, args))
        slow = bytes(plugrad.backend.Backend.random_stream(backend, kind, b, n, dtype, args))
        assert fast == slow
        assert [int(k) for k in a.key] == [int(k) for k in b.key] and a.pos == b.pos
        assert a.normal_double == b.normal_double


def _round_f32(fr: Fraction) -> float:
    """A fraction rounded to the nearest float32, ties to even (the reference of fmaf)."""
    lo = np.float32(float(fr))
    cands = [np.nextafter(lo, np.float32(-np.inf)), lo, np.nextafter(lo, np.float32(np.inf))]
    return float(min(cands, key=lambda v: (abs(Fraction(float(v)) - fr), int(v.view(np.uint32)) & 1)))


def test_fma_emulation_rounds_once():
    """``fma32`` is one rounding of the exact ``a*b + c``, also where the double sum of the
    exact product lands on a float32 half-way point (sums built to be near ties)."""
    rng = np.random.default_rng(0)
    for _ in range(3000):
        a = float(np.float32(rng.uniform(-4, 4)))
        b = float(np.float32(rng.uniform(-4, 4)))
        p = Fraction(a) * Fraction(b)
        c = float(np.float32(rng.uniform(-4, 4)))
        ulp = 2.0 ** (math.frexp(float(p) + c)[1] - 24) if float(p) + c else 2.0 ** -149
        near_tie = float(np.float32(round((float(p) + c) / ulp) * ulp + ulp / 2 - float(p)))
        for cc in (c, near_tie):
            assert _torchrng.fma32(a, b, cc) == _round_f32(p + Fraction(cc))
    assert _torchrng.fma64(0.1, 3.0, -0.3) == float(Fraction(0.1) * 3 - Fraction(0.3))
