"""``plugrad.utils.data`` (``torch.utils.data``): datasets, samplers, collation and
the ``DataLoader``."""

from ._worker import get_worker_info
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .sampler import WeightedRandomSampler

__all__ = ["Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler", "DataLoader",
           "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info"]
