"""Samplers are lazy (a RandomSampler of 10**10 draws costs nothing until iterated)
and draw from the right distributions; lengths, argument checks and the errors of
weighted sampling are PyTorch's. (Random orders come from plugrad's generator, so they
are compared in distribution, not value by value.)"""

from __future__ import annotations

import itertools
import tracemalloc
from collections import Counter

import pytest

import plugrad
from plugrad.utils.data import (BatchSampler, DataLoader, RandomSampler, SequentialSampler, SubsetRandomSampler,
                                TensorDataset, WeightedRandomSampler)

torch = pytest.importorskip("torch")


class Sized:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def test_huge_random_sampler_with_replacement_is_lazy():
    tracemalloc.start()
    try:
        sampler = RandomSampler(Sized(7), replacement=True, num_samples=10 ** 10)
        first = list(itertools.islice(iter(sampler), 1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(sampler) == 10 ** 10 == len(torch.utils.data.RandomSampler(Sized(7), True, 10 ** 10))
    assert len(first) == 1000 and set(first) <= set(range(7))
    assert peak < 5_000_000


def test_huge_batch_and_weighted_samplers_are_lazy():
    batches = BatchSampler(RandomSampler(Sized(5), replacement=True, num_samples=10 ** 12), 4, drop_last=True)
    assert len(batches) == 10 ** 12 // 4
    assert [len(b) for b in itertools.islice(iter(batches), 3)] == [4, 4, 4]
    weighted = WeightedRandomSampler([0.1, 0.9], num_samples=10 ** 11)
    assert len(weighted) == 10 ** 11 and set(itertools.islice(iter(weighted), 500)) <= {0, 1}


@pytest.mark.parametrize("num_samples", [None, 3, 32, 33, 70, 200])
def test_random_sampler_counts_and_permutations(num_samples):
    n = 10
    for replacement in (False, True):
        if num_samples is None and replacement:
            continue
        out = list(RandomSampler(Sized(n), replacement=replacement, num_samples=num_samples))
        expected = n if num_samples is None else num_samples
        assert len(out) == expected == len(torch.utils.data.RandomSampler(Sized(n), replacement, num_samples))
        assert set(out) <= set(range(n))
        if not replacement:
            for start in range(0, expected - expected % n, n):
                assert sorted(out[start:start + n]) == list(range(n))
            assert len(set(out[expected - expected % n:])) == expected % n


def test_random_sampler_is_uniform_and_reproducible():
    gen = plugrad.Generator().manual_seed(1)
    out = list(RandomSampler(Sized(4), replacement=True, num_samples=8000, generator=gen))
    counts = Counter(out)
    assert all(abs(counts[i] / 8000 - 0.25) < 0.03 for i in range(4))
    again = list(RandomSampler(Sized(4), replacement=True, num_samples=8000,
                               generator=plugrad.Generator().manual_seed(1)))
    assert out == again
    plugrad.manual_seed(5)
    a = list(RandomSampler(Sized(50)))
    plugrad.manual_seed(5)
    assert a == list(RandomSampler(Sized(50)))


@pytest.mark.parametrize("kwargs", [{"replacement": 1}, {"num_samples": 0}, {"num_samples": -2},
                                    {"num_samples": 2.5}])
def test_random_sampler_argument_errors_match_pytorch(kwargs):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.RandomSampler(Sized(3), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        RandomSampler(Sized(3), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_weighted_sampler_follows_the_weights():
    weights = [1.0, 0.0, 3.0, 6.0]
    out = list(WeightedRandomSampler(weights, 20000, generator=plugrad.Generator().manual_seed(0)))
    counts = Counter(out)
    assert counts[1] == 0
    for i, w in enumerate(weights):
        assert abs(counts[i] / 20000 - w / 10) < 0.02


def test_weighted_sampler_without_replacement():
    weights = [1.0, 0.0, 50.0, 1.0, 0.0]
    firsts = Counter()
    for seed in range(300):
        gen = plugrad.Generator().manual_seed(seed)
        out = list(WeightedRandomSampler(weights, 5, replacement=False, generator=gen))
        assert sorted(out) == list(range(5))
        assert set(out[3:]) == {1, 4}   # zero weights come last
        firsts[out[0]] += 1
    assert firsts[2] > 250
    assert list(WeightedRandomSampler(plugrad.tensor([2.0, 1.0]), 1, replacement=False))[0] in (0, 1)


@pytest.mark.parametrize("weights, n, replacement", [([1.0, -1.0], 2, True), ([0.0, 0.0], 2, True),
                                                     ([1.0, float("nan")], 1, True), ([1.0, float("inf")], 1, True),
                                                     ([1.0, 2.0], 3, False)])
def test_weighted_sampler_errors_match_pytorch(weights, n, replacement):
    with pytest.raises(RuntimeError) as theirs:
        list(torch.utils.data.WeightedRandomSampler(weights, n, replacement))
    with pytest.raises(RuntimeError) as ours:
        list(WeightedRandomSampler(weights, n, replacement))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], True), ([1.0, 2.0], 2, 1), ([[1.0, 2.0]], 2)])
def test_weighted_sampler_argument_errors_match_pytorch(args):
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.WeightedRandomSampler(*args)
    with pytest.raises(ValueError) as ours:
        WeightedRandomSampler(*args)
    assert str(ours.value) == str(theirs.value)


def test_subset_sequential_and_batch_samplers():
    indices = [3, 8, 1, 9]
    out = list(SubsetRandomSampler(indices))
    assert sorted(out) == sorted(indices) and len(SubsetRandomSampler(indices)) == 4
    assert list(SequentialSampler(Sized(4))) == [0, 1, 2, 3]
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(Sized(10)), 3, drop_last))
        theirs = list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(Sized(10)), 3, drop_last))
        assert ours == theirs
        assert len(BatchSampler(SequentialSampler(Sized(10)), 3, drop_last)) == len(theirs)


def test_dataloader_with_weighted_sampler():
    ds = TensorDataset(plugrad.arange(6.0))
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler([0, 0, 1, 0, 0, 1], 10))
    values = [v for (batch,) in loader for v in batch.tolist()]
    assert len(values) == 10 and set(values) <= {2.0, 5.0}
