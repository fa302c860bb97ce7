"""utils.data: datasets, samplers, collation, the DataLoader (batching, shuffling with a
seeded generator, worker processes with ordered results and error propagation, empty
datasets) and random_split."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import plugrad
from plugrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                                SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                                get_worker_info, random_split)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return plugrad.tensor([float(i), float(i * i)]), i


class Failing(Squares):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is broken")
        return super().__getitem__(i)


class WhoAmI(Squares):
    def __getitem__(self, i):
        info = get_worker_info()
        return i, -1 if info is None else info.id


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def _ids(loader):
    return [int(i) for _, idx in loader for i in idx]


# ---- datasets ---------------------------------------------------------------------------------

def test_tensor_dataset():
    x, y = plugrad.randn(5, 3), plugrad.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert plugrad.equal(xi, x[2]) and yi.item() == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, plugrad.arange(4))


def test_subset_and_concat():
    ds = Squares(5)
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1] == 4
    cat = ConcatDataset([ds, Squares(3)])
    assert len(cat) == 8 and cat[6][1] == 1 and cat[-1][1] == 2
    assert len(ds + Squares(2)) == 7


# ---- collation --------------------------------------------------------------------------------

def test_default_collate_structures():
    Point = namedtuple("Point", "x y")
    batch = [{"a": plugrad.ones(2), "b": 1, "c": 0.5, "s": "x", "p": Point(1, plugrad.zeros(1)), "l": [1, 2.0]}
             for _ in range(3)]
    out = default_collate(batch)
    assert out["a"].shape == (3, 2)
    assert out["b"].dtype == plugrad.int64 and out["b"].tolist() == [1, 1, 1]
    assert out["c"].dtype == plugrad.float64
    assert out["s"] == ["x", "x", "x"]
    assert isinstance(out["p"], Point) and out["p"].y.shape == (3, 1)
    assert isinstance(out["l"], list) and out["l"][1].dtype == plugrad.float64
    pairs = default_collate([(plugrad.ones(2), 1), (plugrad.zeros(2), 0)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 2)
    arrays = default_collate([np.ones((2, 2), dtype=np.float32), np.zeros((2, 2), dtype=np.float32)])
    assert arrays.shape == (2, 2, 2) and arrays.dtype == plugrad.float32
    scalars = default_collate([np.float64(1.5), np.float64(2)])
    assert scalars.dtype == plugrad.float64


@pytest.mark.torch_oracle
def test_default_collate_dtypes_match_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    for batch in ([1, 2], [1.0, 2.5], [True, False], [np.int32(1), np.int32(2)]):
        assert str(default_collate(batch).dtype) == str(torch_collate(batch).dtype)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found"):
        default_collate([object(), object()])


# ---- samplers --------------------------------------------------------------------------------

def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert sorted(RandomSampler(range(6))) == list(range(6))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=20))
    assert len(draws) == 20 and set(draws) <= {0, 1, 2}
    assert len(list(RandomSampler(range(3), num_samples=7))) == 7
    assert sorted(SubsetRandomSampler([10, 20, 30])) == [10, 20, 30]
    bs = BatchSampler(range(7), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(7), 0, False)


# ---- the loader ---------------------------------------------------------------------------------

def test_batches_len_and_drop_last():
    loader = DataLoader(Squares(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[0][0].tolist()[1] == [1.0, 1.0] and batches[2][1].tolist() == [8, 9]
    dropped = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    single = list(DataLoader(Squares(3), batch_size=None))
    assert single[1][1] == 1 and single[1][0].shape == (2,)


def test_shuffle_is_reproducible_with_a_seeded_generator():
    def order(seed):
        return _ids(DataLoader(Squares(20), batch_size=3, shuffle=True,
                               generator=plugrad.Generator().manual_seed(seed)))
    a, b, c = order(1), order(1), order(2)
    assert a == b and a != c and sorted(a) == list(range(20))
    loader = DataLoader(Squares(20), batch_size=5, shuffle=True, generator=plugrad.Generator().manual_seed(1))
    assert _ids(loader) != _ids(loader)  # a new permutation every epoch


def test_shuffle_follows_manual_seed_without_a_generator():
    plugrad.manual_seed(42)
    a = _ids(DataLoader(Squares(15), batch_size=4, shuffle=True))
    plugrad.manual_seed(42)
    b = _ids(DataLoader(Squares(15), batch_size=4, shuffle=True))
    assert a == b


def test_empty_dataset():
    loader = DataLoader(Squares(0), batch_size=4)
    assert len(loader) == 0 and list(loader) == []
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        DataLoader(Squares(0), batch_size=4, shuffle=True)


def test_argument_errors():
    ds = Squares(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(range(4), 2, False))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError):
        DataLoader(Stream(3), shuffle=True)


def test_custom_batch_sampler_and_collate_fn():
    loader = DataLoader(Squares(6), batch_sampler=[[5, 1], [0]], collate_fn=lambda b: [s[1] for s in b])
    assert list(loader) == [[5, 1], [0]]


def test_iterable_dataset_in_process():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]


# ---- worker processes ----------------------------------------------------------------------------

def test_workers_give_the_same_batches_in_order():
    kwargs = dict(batch_size=3, shuffle=True)
    serial = DataLoader(Squares(23), generator=plugrad.Generator().manual_seed(7), **kwargs)
    parallel = DataLoader(Squares(23), generator=plugrad.Generator().manual_seed(7), num_workers=2, **kwargs)
    got_serial, got_parallel = list(serial), list(parallel)
    assert len(got_parallel) == len(got_serial) == 8
    for (xs, ids), (xp, idp) in zip(got_serial, got_parallel):
        assert plugrad.equal(xs, xp) and plugrad.equal(ids, idp)


def test_workers_really_run_elsewhere_and_init_fn_runs():
    loader = DataLoader(WhoAmI(8), batch_size=2, num_workers=2, worker_init_fn=lambda wid: None)
    ids, workers = [], set()
    for idx, wid in loader:
        ids += idx.tolist()
        workers.update(wid.tolist())
    assert ids == list(range(8)) and workers == {0, 1}
    assert get_worker_info() is None


def test_worker_errors_are_raised_with_the_original_type():
    loader = DataLoader(Failing(10), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match="sample 5 is broken") as info:
        list(loader)
    assert "DataLoader worker process" in str(info.value)


def test_iterable_dataset_with_workers_and_persistent_workers():
    loader = DataLoader(Stream(10), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):  # the same workers serve both epochs
        values = sorted(v for b in loader for v in b.tolist())
        assert values == list(range(10))
    loader._pool.shutdown()


# ---- random_split ---------------------------------------------------------------------------------

def test_random_split_lengths_and_fractions():
    parts = random_split(range(10), [3, 7], generator=plugrad.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = random_split(range(10), [3, 7], generator=plugrad.Generator().manual_seed(0))
    assert list(again[0]) == list(parts[0])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


@pytest.mark.torch_oracle
@pytest.mark.parametrize("n, fractions", [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (100, [0.8, 0.1, 0.1])])
def test_random_split_fraction_lengths_match_torch(n, fractions):
    torch = pytest.importorskip("torch")
    ours = [len(p) for p in random_split(range(n), fractions)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs
