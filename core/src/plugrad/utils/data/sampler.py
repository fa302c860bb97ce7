"""Samplers: the order in which a ``DataLoader`` visits a dataset's indices.

Every sampler is lazy: it draws indices as they are consumed (random draws with
replacement in chunks of 32, as PyTorch does), so ``RandomSampler(ds,
replacement=True, num_samples=10**10)`` costs nothing until iterated and little
memory while it is. The random orders come from plugrad's generators, so they differ
from PyTorch's (its generator is not part of the contract), while the distributions,
lengths and errors are PyTorch's.
"""

from __future__ import annotations

import bisect
import math
import random as _pyrandom

from ...creation import as_tensor, randint
from ...dtypes import float64
from ...random import Generator, default_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]

_CHUNK = 32   # indices drawn per random call when sampling with replacement (PyTorch's chunk)


class Sampler:
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _fresh_generator(generator):
    """The sampler's stream for one epoch: ``generator`` itself, or a new one seeded from
    the default generator (so ``manual_seed`` fixes the order)."""
    if generator is not None:
        return generator
    return Generator().manual_seed(default_generator.next_seed())


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch (or ``num_samples`` draws with
    replacement)."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        n = self.num_samples
        if not isinstance(n, int) or n <= 0:   # True passes, as in PyTorch
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={n}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        gen = _fresh_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // _CHUNK):
                yield from randint(0, n, (_CHUNK,), generator=gen).tolist()
            rest = self.num_samples % _CHUNK
            if rest:
                yield from randint(0, n, (rest,), generator=gen).tolist()
            return
        left = self.num_samples
        while left > 0:
            perm = gen.shuffle(n)
            yield from perm[:left]
            left -= n

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        gen = _fresh_generator(self.generator)
        for i in gen.shuffle(len(self.indices)):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (with replacement by default; without, each index at most once)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = as_tensor(weights, dtype=float64)
        if weights.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def _checked_weights(self) -> list:
        w = self.weights.tolist()
        if any(math.isnan(x) or math.isinf(x) for x in w):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if any(x < 0 for x in w):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not sum(w) > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement and self.num_samples > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        return w

    def __iter__(self):
        weights = self._checked_weights()
        rng = _pyrandom.Random(_fresh_generator(self.generator).next_seed())
        if self.replacement:
            cumulative, total = [], 0.0
            for x in weights:
                total += x
                cumulative.append(total)
            last = max(i for i, x in enumerate(weights) if x > 0)
            for _ in range(self.num_samples):
                yield min(bisect.bisect_right(cumulative, rng.random() * total), last)
            return
        # without replacement: the num_samples largest keys log(u) / w (Efraimidis-Spirakis);
        # zero weights come last, in random order, as in PyTorch
        keys = [(math.log(1.0 - rng.random()) / x if x > 0 else -math.inf, rng.random(), i)
                for i, x in enumerate(weights)]
        keys.sort(reverse=True)
        for _, _, i in keys[:self.num_samples]:
            yield i

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
