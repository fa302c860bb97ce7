"""Datasets: the map-style ``Dataset`` protocol and its helpers (``TensorDataset``,
``Subset``, ``ConcatDataset``, ``random_split``), plus ``IterableDataset``."""

from __future__ import annotations

import bisect
import math
import warnings

from ...creation import randperm
from ...random import default_generator
from ...tensor import Tensor
from ._gather import gather_rows, gatherable, int_indices

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample ``i``; define ``__getitem__`` and
    usually ``__len__`` (needed by the samplers)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (a Dataset subclass says how to "
                                  f"fetch sample {index!r})")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: define ``__iter__``. With worker processes every worker
    iterates its own copy; use ``get_worker_info()`` to split the work."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets read one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: ``(x[i], y[i])``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].size(0)
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset holds tensors, got {type(t).__name__}")
            if t.dim() == 0 or t.size(0) != n:
                raise ValueError(f"Size mismatch between tensors: every tensor needs the same first dimension "
                                 f"({n}), got shapes {[list(x.shape) for x in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _collated_batch(self, indices):
        """``default_collate([self[i] for i in indices])`` built with one gather per
        tensor, or None where that could differ from the per-sample path (a subclass
        that fetches samples its own way, indices that are not ints in range, tensors
        that record autograd graphs): the DataLoader then takes that path."""
        if type(self).__getitem__ is not _TENSOR_ROWS or getattr(self, "__getitems__", None):
            return None
        tensors = self.tensors
        if not all(gatherable(t) for t in tensors):
            return None
        rows = int_indices(indices, tensors[0]._shape[0])
        if rows is None:
            return None
        return [gather_rows(t, rows) for t in tensors]


_TENSOR_ROWS = TensorDataset.__getitem__


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        inner = getattr(self.dataset, "__getitems__", None)
        if inner is not None:
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _collated_batch(self, indices):
        """The inner dataset's collated batch at the mapped indices (see
        ``TensorDataset._collated_batch``), or None where the per-sample path is needed."""
        inner = getattr(self.dataset, "_collated_batch", None)
        cls = type(self)
        if inner is None or cls.__getitem__ is not _SUBSET_ITEM or cls.__getitems__ is not _SUBSET_ITEMS \
                or "__getitems__" in vars(self) or type(self.indices) not in (list, range):
            return None
        rows = int_indices(indices, len(self.indices))
        if rows is None:
            return None
        own = self.indices
        return inner([own[i] for i in rows])


_SUBSET_ITEM, _SUBSET_ITEMS = Subset.__getitem__, Subset.__getitems__


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def _split_lengths(n: int, lengths) -> list:
    """Integer lengths from ``lengths`` (counts, or fractions summing to 1)."""
    lengths = list(lengths)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1 and any(isinstance(x, float) for x in lengths):
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):  # hand the remainder out round-robin
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              UserWarning, stacklevel=3)
        return counts
    for x in lengths:
        if isinstance(x, bool) or not isinstance(x, int) or x < 0:
            raise ValueError(f"random_split lengths must be non-negative ints or fractions summing to 1, got "
                             f"{lengths}")
    if total != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    return lengths


def random_split(dataset, lengths, generator=default_generator) -> list:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths
    (or fractions of its length); ``generator`` makes the split reproducible."""
    counts = _split_lengths(len(dataset), lengths)
    order = randperm(sum(counts), generator=generator).tolist()
    subsets, start = [], 0
    for c in counts:
        subsets.append(Subset(dataset, order[start:start + c]))
        start += c
    return subsets
