"""The cpu device's cache of large buffers: reuse only when nothing can see the memory."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import plugrad
from plugrad_cpu.backend import NumpyBackend
from plugrad_cpu.buffers import MIN_BYTES, BufferCache, limit_from_environment

LARGE = MIN_BYTES // 4 * 2          # float32 elements: twice the threshold


def address(array) -> int:
    return array.__array_interface__["data"][0]


def test_a_dead_tensor_s_buffer_is_reused():
    t = plugrad.empty(LARGE)
    first = address(t.numpy())
    del t
    u = plugrad.zeros(LARGE)
    assert address(u.numpy()) == first
    assert not u.numpy().any()


@pytest.mark.parametrize("shape", [(LARGE,), (2, LARGE // 2)])
def test_memory_still_visible_through_a_numpy_view_is_never_reused(shape):
    t = plugrad.arange(LARGE, dtype=plugrad.float32).reshape(shape) * 1   # an array the backend allocated
    seen = t.numpy().reshape(-1)[5:]
    del t
    gc.collect()
    fresh = [plugrad.full(shape, -1.0) for _ in range(3)]
    assert not any(np.shares_memory(seen, f.numpy()) for f in fresh)
    np.testing.assert_array_equal(seen[:3], [5.0, 6.0, 7.0])


def test_memory_still_visible_through_a_tensor_view_is_never_reused():
    t = plugrad.arange(LARGE, dtype=plugrad.float32) * 1
    view = t[LARGE // 2:]
    del t
    plugrad.full((LARGE,), -1.0)
    assert view[0].item() == LARGE // 2


def test_small_arrays_bypass_the_cache():
    backend = plugrad.zeros(1)._backend
    before = backend.buffers.idle_bytes
    for _ in range(10):
        plugrad.zeros(16)
    assert backend.buffers.idle_bytes == before


def test_a_zero_limit_turns_the_cache_off(monkeypatch):
    monkeypatch.setenv("PLUGRAD_CPU_CACHE_MB", "0")
    backend = NumpyBackend()
    array = backend.empty((LARGE,), plugrad.float32)
    assert array.base is None          # straight from NumPy, no cached buffer under it
    del array
    assert backend.buffers.idle_bytes == 0


def test_the_cache_never_holds_more_than_its_limit():
    cache = BufferCache(limit=3 * MIN_BYTES)
    arrays = [cache.array(2 * MIN_BYTES, (MIN_BYTES // 2,), np.dtype(np.float32)) for _ in range(3)]
    del arrays
    assert cache.idle_bytes == 2 * MIN_BYTES      # one buffer fits; the other two went back to the allocator
    cache.clear()
    assert cache.idle_bytes == 0


def test_each_array_gets_its_own_buffer_while_alive():
    cache = BufferCache(limit=16 * MIN_BYTES)
    a = cache.array(MIN_BYTES, (MIN_BYTES,), np.dtype(np.uint8))
    b = cache.array(MIN_BYTES, (MIN_BYTES // 8,), np.dtype(np.float64))
    assert not np.shares_memory(a, b)
    assert b.shape == (MIN_BYTES // 8,) and b.dtype == np.float64 and b.flags.c_contiguous


@pytest.mark.parametrize("text, expected", [("1024", 1024 * 2**20), ("0", 0), (" 0.5 ", 2**19)])
def test_the_limit_comes_from_the_environment(monkeypatch, text, expected):
    monkeypatch.setenv("PLUGRAD_CPU_CACHE_MB", text)
    assert limit_from_environment() == expected


@pytest.mark.parametrize("text", ["lots", "-1"])
def test_a_bad_limit_is_refused_with_the_variable_named(monkeypatch, text):
    monkeypatch.setenv("PLUGRAD_CPU_CACHE_MB", text)
    with pytest.raises(ValueError, match="PLUGRAD_CPU_CACHE_MB"):
        limit_from_environment()
