"""A DataLoader over a TensorDataset (or a Subset of one) with ``default_collate`` gathers
each batch with one kernel per tensor instead of indexing every sample and stacking:
the batches must be the ones PyTorch's DataLoader gives (same seed, same batches, same
dtypes and shapes), the ones plugrad's per-sample path gives (same values, layout and a
fresh storage), and every case that path serves differently (a custom ``collate_fn``, a
dataset's own ``__getitems__`` or ``__getitem__``, tensors that require grad, indices
that are not ints in range) must still take it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import plugrad
from plugrad.plugins import device_types
from plugrad.utils import data as pdata
from torch.utils import data as tdata

DEVICES = [d for d in device_types() if getattr(plugrad, d).is_available()]


def _arrays(n=23, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 3, 2)).astype(np.float32), rng.integers(0, 10, n).astype(np.int64),
            rng.integers(0, 2, n).astype(bool))


def _both(fn):
    """``fn(lib)`` for plugrad and torch, tensors made from the same arrays."""
    return fn(plugrad, pdata), fn(torch, tdata)


def _same_batch(p, t):
    if isinstance(t, torch.Tensor):
        assert type(p) is plugrad.Tensor
        assert str(p.dtype) == str(t.dtype) and tuple(p.shape) == tuple(t.shape)
        np.testing.assert_array_equal(p.detach().cpu().numpy(), t.detach().numpy())
        assert p.requires_grad == t.requires_grad
        assert (type(p.grad_fn).__name__ if p.grad_fn else None) == (type(t.grad_fn).__name__ if t.grad_fn else None)
        return
    assert type(p) is type(t)
    if isinstance(t, (list, tuple)):
        assert len(p) == len(t)
        for a, b in zip(p, t):
            _same_batch(a, b)
        return
    assert p == t


def _same_epochs(pl, tl, epochs=2):
    for _ in range(epochs):
        pb, tb = list(pl), list(tl)
        assert len(pb) == len(tb)
        for a, b in zip(pb, tb):
            _same_batch(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (23, False), (30, False), (1, False)])
def test_shuffled_batches_equal_torch(device, batch_size, drop_last):
    arrays = _arrays()

    def loader(lib, data):
        ds = data.TensorDataset(*(lib.from_numpy(a) for a in arrays))
        if lib is plugrad:
            ds = data.TensorDataset(*(t.to(device) for t in ds.tensors))
        return data.DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=drop_last,
                               generator=lib.Generator().manual_seed(3))
    _same_epochs(*_both(loader))


@pytest.mark.parametrize("device", DEVICES)
def test_gathered_batch_is_what_the_per_sample_path_gives(device):
    x = plugrad.arange(60.0, device=device).reshape(10, 3, 2)
    views = [x, x.transpose(1, 2), x[2:, 1], x[::2], x.permute(2, 0, 1)[1], x[:, :, 0].t().contiguous().t(),
             x[:1].expand(10, 3, 2), x[:, :1].expand(10, 4, 2)]
    for t in views:
        ds = pdata.TensorDataset(t, plugrad.arange(t.shape[0], device=device))
        indices = [t.shape[0] - 1, 0, -1, 2, 2, -t.shape[0]]
        batch = pdata.DataLoader(ds, batch_sampler=[indices])
        (xb, ib), = list(batch)
        want = pdata.default_collate([ds[i] for i in indices])
        for got, exp in zip((xb, ib), want):
            assert got.dtype == exp.dtype and got.shape == exp.shape and got.device == exp.device
            assert got.stride() == exp.stride() and got.is_contiguous()
            assert got.tolist() == exp.tolist()
        before = t.tolist()
        xb.add_(1)   # a fresh storage: the dataset's tensor is untouched
        assert t.tolist() == before


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.integers(-7, 6), min_size=1, max_size=12),
       shape=st.lists(st.integers(0, 3), max_size=3),
       dtype=st.sampled_from(["float32", "float64", "int64", "int32", "uint8", "bool", "float16"]))
def test_any_row_shape_and_dtype_equals_torch(rows, shape, dtype):
    n = 7
    a = np.random.default_rng(len(rows)).standard_normal([n, *shape]) * 5
    a = a.astype(dtype)

    def loader(lib, data):
        return data.DataLoader(data.TensorDataset(lib.from_numpy(a.copy())), batch_sampler=[rows])
    _same_epochs(*_both(loader), epochs=1)


def test_custom_collate_fn_receives_the_samples():
    arrays = _arrays()
    seen = {}

    def collate(lib):
        def fn(samples):
            seen.setdefault(lib.__name__, []).append(samples)
            return samples
        return fn

    def loader(lib, data):
        return data.DataLoader(data.TensorDataset(*(lib.from_numpy(a) for a in arrays)), batch_size=5,
                               collate_fn=collate(lib))
    _same_epochs(*_both(loader), epochs=1)
    for p, t in zip(seen["plugrad"], seen["torch"]):
        assert type(p) is type(t) is list
        assert all(type(s) is tuple for s in p)
        _same_batch(p, t)


def test_default_collate_passed_explicitly_equals_torch():
    arrays = _arrays()

    def loader(lib, data):
        return data.DataLoader(data.TensorDataset(*(lib.from_numpy(a) for a in arrays)), batch_size=6,
                               shuffle=True, collate_fn=data.default_collate,
                               generator=lib.Generator().manual_seed(1))
    _same_epochs(*_both(loader))


def _getitems_subclass(data):
    class Doubled(data.TensorDataset):
        """Its own ``__getitems__``: the DataLoader must call it with the batch's indices."""

        def __getitems__(self, indices):
            return [tuple(t[i] * 2 for t in self.tensors) + (i,) for i in indices]
    return Doubled


def _getitem_subclass(data):
    class Shifted(data.TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] + 1 for t in self.tensors)
    return Shifted


@pytest.mark.parametrize("make_class", [_getitems_subclass, _getitem_subclass])
def test_a_subclass_fetching_its_own_way_is_used(make_class):
    arrays = _arrays()[:2]

    def loader(lib, data):
        return data.DataLoader(make_class(data)(*(lib.from_numpy(a) for a in arrays)), batch_size=4, shuffle=True,
                               generator=lib.Generator().manual_seed(2))
    _same_epochs(*_both(loader))


def test_getitems_set_on_the_instance_is_used():
    arrays = _arrays()[:1]

    def loader(lib, data):
        ds = data.TensorDataset(*(lib.from_numpy(a) for a in arrays))
        ds.__getitems__ = lambda indices: [(i,) for i in indices]
        return data.DataLoader(ds, batch_size=5)
    _same_epochs(*_both(loader), epochs=1)


@pytest.mark.parametrize("value", [None, False])
@pytest.mark.parametrize("collate", ["default", "samples"])
def test_a_false_getitems_means_none(value, collate):
    arrays = _arrays()[:2]

    def loader(lib, data):
        cls = type("NoBatchFetch", (data.TensorDataset,), {"__getitems__": value})
        return data.DataLoader(cls(*(lib.from_numpy(a) for a in arrays)), batch_size=5, shuffle=True,
                               collate_fn=None if collate == "default" else list,
                               generator=lib.Generator().manual_seed(9))
    _same_epochs(*_both(loader), epochs=1)


def test_tensors_requiring_grad_give_torch_graph():
    arrays = _arrays()[:2]

    def loader(lib, data):
        x = lib.from_numpy(arrays[0]).requires_grad_()
        return data.DataLoader(data.TensorDataset(x, lib.from_numpy(arrays[1])), batch_size=4)
    (p, t) = _both(loader)
    _same_epochs(p, t, epochs=1)
    with plugrad.no_grad(), torch.no_grad():
        _same_epochs(p, t, epochs=1)


@pytest.mark.parametrize("indices", [[0, 23], [-24], [1, 2.0], [True, 1], [np.int64(3), 1]])
def test_indices_outside_the_gather_take_the_per_sample_path(indices):
    arrays = _arrays()[:2]

    def run(lib, data):
        loader = data.DataLoader(data.TensorDataset(*(lib.from_numpy(a) for a in arrays)), batch_sampler=[indices])
        try:
            return list(loader)
        except Exception as exc:  # noqa: BLE001 (the class is what is compared)
            return type(exc)
    p, t = _both(run)
    if isinstance(t, type):
        assert p is t
    else:
        _same_batch(p, t)


def test_empty_batch_raises_as_in_torch():
    arrays = _arrays()[:1]
    errors = []
    for lib, data in ((plugrad, pdata), (torch, tdata)):
        with pytest.raises(Exception) as info:
            list(data.DataLoader(data.TensorDataset(lib.from_numpy(arrays[0])), batch_sampler=[[]]))
        errors.append(info.type)
    assert errors[0] is errors[1]


@pytest.mark.parametrize("device", DEVICES)
def test_random_split_subsets_equal_torch(device):
    arrays = _arrays(40)

    def loaders(lib, data):
        ds = data.TensorDataset(*(lib.from_numpy(a) for a in arrays))
        if lib is plugrad:
            ds = data.TensorDataset(*(t.to(device) for t in ds.tensors))
        train, test = data.random_split(ds, [0.75, 0.25], generator=lib.Generator().manual_seed(4))
        nested = data.Subset(train, range(5, 25))
        return [data.DataLoader(train, batch_size=8, shuffle=True, generator=lib.Generator().manual_seed(5)),
                data.DataLoader(test, batch_size=3), data.DataLoader(nested, batch_size=7, shuffle=True,
                                                                      generator=lib.Generator().manual_seed(6))]
    for p, t in zip(*_both(loaders)):
        _same_epochs(p, t)


@pytest.mark.parametrize("index_kind", ["tensor", "numpy", "negative"])
def test_subset_with_other_indices_equals_torch(index_kind):
    arrays = _arrays()
    base = [3, 0, 7, 7, 12, 22]

    def loader(lib, data):
        ds = data.TensorDataset(*(lib.from_numpy(a) for a in arrays))
        idx = {"tensor": lib.tensor(base), "numpy": np.array(base), "negative": [-1, -23, 4, -2]}[index_kind]
        return data.DataLoader(data.Subset(ds, idx), batch_sampler=[[0, 1, -1], [2, 3]])
    _same_epochs(*_both(loader), epochs=1)


def test_subset_index_out_of_range_raises_as_in_torch():
    arrays = _arrays()[:1]
    errors = []
    for lib, data in ((plugrad, pdata), (torch, tdata)):
        ds = data.Subset(data.TensorDataset(lib.from_numpy(arrays[0])), [1, 2, 3])
        with pytest.raises(Exception) as info:
            list(data.DataLoader(ds, batch_sampler=[[0, 3]]))
        errors.append(info.type)
    assert errors[0] is errors[1] is IndexError


def test_worker_processes_give_the_same_batches():
    arrays = _arrays(50)

    def loader(lib, data, workers):
        return data.DataLoader(data.TensorDataset(*(lib.from_numpy(a) for a in arrays)), batch_size=8, shuffle=True,
                               num_workers=workers, generator=lib.Generator().manual_seed(7))
    _same_epochs(loader(plugrad, pdata, 2), loader(torch, tdata, 0), epochs=1)



@pytest.mark.parametrize("device", [d for d in DEVICES if d != "cpu"])   # the samplers draw int64 on cpu
def test_a_device_without_int64_takes_the_per_sample_path(monkeypatch, device):
    """The gather's positions are int64; indexing one sample needs none."""
    a = _arrays()[0]
    backend = plugrad.from_numpy(a).to(device)._backend
    monkeypatch.setattr(backend, "dtypes", frozenset(d for d in backend.dtypes if d is not plugrad.int64))

    def loader(lib, data):
        t = lib.from_numpy(a)
        return data.DataLoader(data.TensorDataset(t.to(device) if lib is plugrad else t), batch_size=5,
                               shuffle=True, generator=lib.Generator().manual_seed(8))
    _same_epochs(*_both(loader), epochs=1)
