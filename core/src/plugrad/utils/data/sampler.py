"""Samplers: the order in which a ``DataLoader`` visits a dataset's indices.

Every sampler is lazy: it draws indices as they are consumed (random draws with
replacement in chunks of 32, as PyTorch does), so ``RandomSampler(ds,
replacement=True, num_samples=10**10)`` costs nothing until iterated and little
memory while it is. The random orders are PyTorch's: the same calls to the same
generators (``randperm``, ``randint``, ``multinomial``), so a seeded loader visits the
dataset in PyTorch's order.
"""

from __future__ import annotations

import math
from itertools import islice

from ...creation import as_tensor, randint, randperm
from ...ops.sampling import multinomial
from ...dtypes import float64
from ...random import Generator, default_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]

_CHUNK = 32   # indices drawn per random call when sampling with replacement (PyTorch's chunk)
_WEIGHTED_CHUNK = 1 << 16   # samples per multinomial call of a lazy WeightedRandomSampler


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
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=gen).tolist()
        # PyTorch draws this last permutation even when no index of it is used
        yield from randperm(n, generator=gen).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
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
        """PyTorch's ``multinomial(weights, num_samples, replacement)``; with replacement
        drawn lazily in chunks: each sample is one uniform draw in order, so the chunks
        give the very stream of one call (none of size 1, which PyTorch draws otherwise)."""
        self._checked_weights()
        left = self.num_samples
        if not self.replacement or left == 1:
            yield from multinomial(self.weights, left, self.replacement, generator=self.generator).tolist()
            return
        while left:
            take = left if left < 2 * _WEIGHTED_CHUNK else _WEIGHTED_CHUNK
            yield from multinomial(self.weights, take, True, generator=self.generator).tolist()
            left -= take

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
        indices = iter(self.sampler)
        while True:
            batch = list(islice(indices, self.batch_size))   # draws lazily, as the loop PyTorch runs
            if len(batch) < self.batch_size:
                if batch and not self.drop_last:
                    yield batch
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
