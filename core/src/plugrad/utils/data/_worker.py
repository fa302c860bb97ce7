"""The worker-process side of a multi-process ``DataLoader``.

A worker receives ``(task, indices)`` (or ``(task, NEXT)`` for the next batch of an
iterable dataset), builds the batch, and sends ``(task, payload)`` back. Tensors
travel as raw bytes plus layout (``pack``/``unpack``), not as nested Python lists.
A worker that fails sends the formatted traceback, which the main process raises.
"""

from __future__ import annotations

import queue as _queue
import random
import traceback
from collections import namedtuple

from ...dtypes import dtype_from_name
from ...plugins.registry import backend_for
from ...random import manual_seed
from ...tensor import Tensor, make
from .collate import default_collate

__all__ = ["WorkerInfo", "get_worker_info", "worker_loop", "pack", "unpack", "WorkerError", "MapFetcher", "IterFetcher"]

#: What ``get_worker_info()`` returns inside a worker (None in the main process).
WorkerInfo = namedtuple("WorkerInfo", ["id", "num_workers", "seed", "dataset"])

_info = None


def get_worker_info():
    """``WorkerInfo(id, num_workers, seed, dataset)`` in a DataLoader worker, else None."""
    return _info


class WorkerError:
    """A worker's exception, carried to the main process as text."""

    def __init__(self, exc: BaseException, worker_id: int):
        self.exc_type = type(exc)
        self.message = (f"Caught {type(exc).__name__} in DataLoader worker process {worker_id}.\nOriginal "
                        + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))

    def reraise(self):
        try:
            err = self.exc_type(self.message)
        except Exception:  # an exception type whose constructor needs other arguments
            err = RuntimeError(self.message)
        raise err


#: task and reply markers
NEXT, RESET, END_OF_STREAM = "next", "reset", "end-of-stream"


_Packed = namedtuple("_Packed", ["data", "shape", "dtype", "device", "requires_grad"])


def pack(obj):
    """``obj`` with every tensor (inside tuples, lists and dicts) replaced by its bytes."""
    if isinstance(obj, Tensor):
        t = obj.detach()
        return _Packed(t._backend.to_bytes(t._a), t._shape, t._dtype.name, str(t.device), obj.requires_grad)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(pack(x) for x in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(pack(x) for x in obj)
    if isinstance(obj, dict):
        packed = [(k, pack(v)) for k, v in obj.items()]
        try:
            return type(obj)(packed)
        except TypeError:
            return dict(packed)
    return obj


def unpack(obj):
    """The inverse of ``pack``."""
    if isinstance(obj, _Packed):
        backend, dt = backend_for(obj.device), dtype_from_name(obj.dtype)
        t = make(backend, backend.from_bytes(obj.data, obj.shape, dt), obj.shape, dt)
        return t.requires_grad_(True) if obj.requires_grad else t
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(unpack(x) for x in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(unpack(x) for x in obj)
    if isinstance(obj, dict):
        unpacked = [(k, unpack(v)) for k, v in obj.items()]
        try:
            return type(obj)(unpacked)
        except TypeError:
            return dict(unpacked)
    return obj


class MapFetcher:
    """Builds the batch of a map-style dataset from a list of indices (or, without
    automatic batching, converts the single sample at an index).

    With ``default_collate``, a dataset that can build the collated batch itself
    (``_collated_batch(indices)``: a ``TensorDataset`` gathers each tensor's rows at
    once) skips the per-sample fetches; it answers None when its batch could differ
    from theirs, and the samples are fetched one by one as PyTorch does."""

    def __init__(self, collate_fn, auto_collation: bool):
        self.collate_fn, self.auto_collation = collate_fn, auto_collation
        self.gathers = auto_collation and collate_fn is default_collate

    def __call__(self, dataset, indices):
        if not self.auto_collation:
            return self.collate_fn(dataset[indices])
        if self.gathers:
            gather = getattr(dataset, "_collated_batch", None)
            batch = gather(indices) if gather is not None else None
            if batch is not None:
                return batch
        many = getattr(dataset, "__getitems__", None)   # a false value means none, as in PyTorch
        samples = many(indices) if many else [dataset[i] for i in indices]
        return self.collate_fn(samples)


class IterFetcher:
    """Turns an iterable dataset's stream into a stream of batches."""

    def __init__(self, collate_fn, batch_size, drop_last: bool):
        self.collate_fn, self.batch_size, self.drop_last = collate_fn, batch_size, drop_last

    def __call__(self, dataset):
        if self.batch_size is None:
            for sample in dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)


def worker_loop(dataset, index_queue, result_queue, fetch, worker_id, num_workers, seed, init_fn, done_event):
    """Run in a worker process until the main process sends None.

    Tasks are ``(task_id, indices)`` for map-style datasets, ``(task_id, NEXT)`` for the
    next batch of an iterable dataset and ``(task_id, RESET)`` to restart its stream."""
    global _info
    random.seed(seed)
    manual_seed(seed)
    _info = WorkerInfo(worker_id, num_workers, seed, dataset)
    stream = None
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as exc:  # reported on every task
            init_error = WorkerError(exc, worker_id)
    while not done_event.is_set():
        try:
            task = index_queue.get(timeout=0.1)
        except _queue.Empty:
            continue
        if task is None:
            break
        task_id, what = task
        if isinstance(what, str) and what == RESET:
            stream = None
            continue
        if init_error is not None:
            result_queue.put((task_id, init_error))
            continue
        try:
            if isinstance(what, str) and what == NEXT:
                if stream is None:
                    stream = fetch(dataset)
                try:
                    batch = next(stream)
                except StopIteration:
                    result_queue.put((task_id, END_OF_STREAM))
                    continue
            else:
                batch = fetch(dataset, what)
            result_queue.put((task_id, pack(batch)))
        except Exception as exc:
            result_queue.put((task_id, WorkerError(exc, worker_id)))
    # shutting down: batches the main process no longer wants must not keep this
    # process alive while they wait to be written into the pipe
    result_queue.cancel_join_thread()
