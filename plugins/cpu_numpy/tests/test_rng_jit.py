"""The cpu device's two normal-fill engines give the reference's bits, and PyTorch's.

``plugrad_cpu.rng`` fills normals of 16+ contiguous elements with NumPy, or compiled
(``plugrad_cpu.rng_jit``, the ``jit`` extra: Numba) from ``rng.JIT_MIN`` elements on.
Every test here runs with each engine forced (``JIT_MIN`` = 16 or None) and compares
bit for bit with the pure-Python reference ``plugrad._torchrng`` and with torch.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from copy import deepcopy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plugrad
from plugrad import _torchrng
from plugrad_cpu import rng

SEEDS = [0, 1, 2 ** 40 + 7]
SIZES = [1, 15, 16, 17, 1000, 10 ** 6]
MEAN_STD = [(0.0, 1.0), (0.5, 2.0), (-3.25, 0.1)]
#: words whose uniforms hit the edges: u = 0 (radius 0, the sign of a zero), u near 1,
#: and angles on the octant boundaries of sincos_ps
EDGE_WORDS = [0, 0xFFFFFF, 0x800000, 0x400000, 0xC00000, 0x200000, 0x600000, 0xA00000, 0xE00000, 1, 0xFFFFFE,
              0xFFFFFFFF, 0x1000000]


@pytest.fixture(params=["jit", "numpy"])
def engine(request, monkeypatch):
    """Forces one engine for every fill of 16+ elements."""
    if request.param == "jit":
        pytest.importorskip("numba")
        monkeypatch.setattr(rng, "JIT_MIN", 16)
    else:
        monkeypatch.setattr(rng, "JIT_MIN", None)
    return request.param


@contextmanager
def _jit_min(value):
    """``rng.JIT_MIN`` set to ``value`` for the block (for hypothesis, which runs a test's
    body many times and cannot use a function-scoped fixture)."""
    saved, rng.JIT_MIN = rng.JIT_MIN, value
    try:
        yield
    finally:
        rng.JIT_MIN = saved


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view({4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def _same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, what
    bad = np.nonzero(_bits(got) != _bits(want))[0]
    assert not bad.size, f"{what}: {bad.size} of {want.size} differ, first at {bad[0]}: {got[bad[0]]!r} " \
                         f"!= {want[bad[0]]!r}"


def _fill(words: np.ndarray, double: bool, mean: float, std: float) -> np.ndarray:
    """The engine in force on ``words`` (a multiple of 16 values' worth)."""
    out = np.empty(words.size // (2 if double else 1), np.float64 if double else np.float32)
    m, s = (mean, std) if double else (np.float32(mean), np.float32(std))
    rng._filler(max(out.size, 16), double)(words, m, s, out)
    return out


def _reference_fill(words: np.ndarray, double: bool, mean: float, std: float) -> np.ndarray:
    w = [int(x) for x in words]
    if double:
        u = [(((w[2 * i] << 32) | w[2 * i + 1]) & ((1 << 53) - 1)) * 2.0 ** -53 for i in range(len(w) // 2)]
        return np.array(_torchrng._normal_fill_double(u, mean, std), np.float64)
    m32, s32 = float(np.float32(mean)), float(np.float32(std))
    return np.array(_torchrng._normal_fill_avx2([(x & 0xFFFFFF) * 2.0 ** -24 for x in w], m32, s32), np.float32)


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("mean,std", MEAN_STD)
def test_fills_equal_the_reference_on_edge_uniforms(engine, double, mean, std):
    base = np.random.default_rng(4).integers(0, 2 ** 32, 64, dtype=np.uint32)
    words = np.concatenate([np.array((EDGE_WORDS * 5)[:64], np.uint32), base])
    if double:      # u from the pairs: zero, tiny, the top and the octant boundaries
        hi = np.array([0, 0, 0x1FFFFF, 0x100000, 0x80000, 0x180000, 0x40000, 0xC0000] * 8, np.uint32)
        lo = np.array([0, 1, 0xFFFFFFFF, 0, 0, 0, 0, 0] * 8, np.uint32)
        words = np.concatenate([np.stack([hi, lo], 1).ravel(), words])
    _same(_fill(words, double, mean, std), _reference_fill(words, double, mean, std), f"{engine} fill")


@settings(max_examples=25, deadline=None)
@given(words=st.lists(st.integers(0, 2 ** 32 - 1), min_size=32, max_size=32 * 8).map(
    lambda w: np.array(w[:len(w) // 32 * 32], np.uint32)),
    mean=st.floats(-1e3, 1e3), std=st.floats(0, 1e3), double=st.booleans())
def test_fills_equal_the_reference_on_any_words(words, mean, std, double):
    want = _reference_fill(words, double, mean, std)
    for jit_min in ((16, None) if rng._jit_engine() is not None else (None,)):
        with _jit_min(jit_min):
            _same(_fill(words, double, mean, std), want, f"JIT_MIN={jit_min}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_streams_equal_the_reference_and_leave_its_state(engine, seed, dtype):
    """Through ``random_stream``: the values and the generator state afterwards."""
    for n in SIZES[:-1]:
        for mean, std in MEAN_STD:
            state = _torchrng.MTState(seed)
            _torchrng.words(state, seed % 7)          # start off a twist boundary
            mine = deepcopy(state)
            want = np.array(_torchrng.stream("normal", state, n, dtype, (mean, std, True)), dtype)
            got = rng.random_stream("normal", mine, n, dtype, (mean, std, True))
            _same(got, want, f"{engine} n={n} mean={mean} std={std}")
            assert list(mine.key) == list(state.key) and mine.pos == state.pos


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_engines_agree_on_large_streams(seed, dtype):
    pytest.importorskip("numba")
    results = []
    for jit_min in (16, None):
        with _jit_min(jit_min):
            results.append(rng.random_stream("normal", _torchrng.MTState(seed), 10 ** 6 + 9, dtype, (0.5, 2.0, True)))
    _same(results[0], results[1], "compiled vs NumPy")


@pytest.mark.torch_oracle
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_randn_and_normal_are_torchs(engine, seed, dtype):
    torch = pytest.importorskip("torch")
    if dtype == "float32" and torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("torch's float32 normal_ follows the C library here, not avx_mathfun (docs/randomness.md)")
    for n in SIZES:
        for mean, std in MEAN_STD:
            plugrad.manual_seed(seed)
            torch.manual_seed(seed)
            got = plugrad.empty(n, dtype=getattr(plugrad, dtype)).normal_(mean, std).numpy()
            want = torch.empty(n, dtype=getattr(torch, dtype)).normal_(mean, std).numpy()
            _same(got, want, f"{engine} normal_({mean}, {std}) n={n}")
        plugrad.manual_seed(seed)
        torch.manual_seed(seed)
        _same(plugrad.randn(n, dtype=getattr(plugrad, dtype)).numpy(),
              torch.randn(n, dtype=getattr(torch, dtype)).numpy(), f"{engine} randn n={n}")


def test_threads_drawing_at_once_get_their_own_streams(engine):
    n, seeds = 200_003, list(range(6))
    want = [plugrad.randn(n, generator=plugrad.Generator().manual_seed(s)).numpy() for s in seeds]
    got = [None] * len(seeds)

    def draw(i):
        got[i] = plugrad.randn(n, generator=plugrad.Generator().manual_seed(seeds[i])).numpy()
    threads = [threading.Thread(target=draw, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        _same(g, w, f"{engine} in a thread")


def test_jit_kernels_fuse_with_llvm_fma_and_no_fast_math():
    """Compiled afresh (cached code cannot be inspected): every fused multiply-add of
    the reference is a call of ``llvm.fma`` (log_ps has 11, sincos_ps 9; the fills one
    per output at least), and no instruction carries a fast-math flag."""
    numba = pytest.importorskip("numba")
    from plugrad_cpu import rng_jit

    f32 = numba.float32
    compiled = [(rng_jit._log_ps, (f32,), "f32", 11), (rng_jit._sincos_ps, (f32,), "f32", 9),
                (rng_jit.fill16_float, (numba.uint32[::1], f32, f32, numba.float32[::1]), "f32", 2),
                (rng_jit.fill16_double, (numba.uint32[::1], numba.float64, numba.float64, numba.float64[::1]),
                 "f64", 2)]
    for fn, sig, width, fmas in compiled:
        fresh = numba.njit(sig, cache=False)(fn.py_func)
        ir = "\n".join(fresh.inspect_llvm().values())
        assert len(re.findall(rf"call \w+ @llvm\.fma\.{width}\(", ir)) >= fmas, fn.__name__
        flags = re.findall(r"= (?:fadd|fsub|fmul|fdiv|call)\s+((?:fast|contract|reassoc|nnan|ninf|nsz|arcp|afn)\b)",
                           ir)
        assert not flags, f"{fn.__name__}: fast-math flags {set(flags)}"


def test_environment_turns_the_jit_off():
    code = "from plugrad_cpu import rng; print(rng.JIT_MIN)"
    for value, want in (("0", "None"), ("off", "None"), ("1", str(1 << 16))):
        env = dict(os.environ, PLUGRAD_CPU_JIT=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == want
