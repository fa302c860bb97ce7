"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

With ``num_workers > 0`` each worker process builds whole batches; the main process
hands out batch indices round-robin, keeps ``prefetch_factor`` batches per worker
in flight, and yields the results in sampler order whatever order they arrive in.
"""

from __future__ import annotations

import queue as _queue
import warnings

from ...random import default_generator
from . import _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

get_worker_info = _worker.get_worker_info

#: how often (seconds) the main process checks that its workers are alive while waiting
_POLL = 0.5


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (``None``: single samples),
    in order or shuffled (``shuffle=True``, reproducible with ``generator=``), collated
    by ``collate_fn`` (``default_collate``), in ``num_workers`` worker processes."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", UserWarning, stacklevel=2)
        self.dataset = dataset
        self.num_workers, self.timeout, self.worker_init_fn = num_workers, timeout, worker_init_fn
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers, self.pin_memory, self.generator = persistent_workers, pin_memory, generator
        self.multiprocessing_context = multiprocessing_context
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and batch_sampler "
                                 "options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._pool = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def _fetcher(self):
        if self._iterable:
            return _worker.IterFetcher(self.collate_fn, self.batch_size, self.drop_last)
        return _worker.MapFetcher(self.collate_fn, self._auto_collation)

    def __iter__(self):
        # one draw per epoch for the workers' seeds, with or without workers, so that a
        # seeded generator gives the same shuffle order whatever num_workers is
        base_seed = (self.generator or default_generator).next_seed() & ((1 << 63) - 1)
        if self.num_workers == 0:
            fetch = self._fetcher()
            if self._iterable:
                return fetch(self.dataset)
            return (fetch(self.dataset, indices) for indices in self._index_sampler)
        if self.persistent_workers:
            if self._pool is None or not self._pool.alive:
                self._pool = _WorkerPool(self, base_seed)
            return self._pool.epoch(self)
        return _WorkerPool(self, base_seed).epoch(self, last=True)

    def __del__(self):
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.shutdown()


class _WorkerPool:
    """The worker processes of one DataLoader (for one epoch, or for all of them with
    ``persistent_workers``) and their queues."""

    def __init__(self, loader: DataLoader, base_seed: int):
        import multiprocessing  # here, not at import: loading in the main process never needs it

        ctx = loader.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else methods[0])
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.n = loader.num_workers
        self.timeout = loader.timeout
        self.result_queue = ctx.Queue()
        self.done = ctx.Event()
        self.index_queues, self.workers = [], []
        fetch = loader._fetcher()
        for i in range(self.n):
            q = ctx.Queue()
            w = ctx.Process(target=_worker.worker_loop, daemon=True,
                            args=(loader.dataset, q, self.result_queue, fetch, i, self.n, base_seed + i,
                                  loader.worker_init_fn, self.done))
            w.start()
            self.index_queues.append(q)
            self.workers.append(w)
        self.alive = True
        self.next_task = 0

    def epoch(self, loader: DataLoader, last: bool = False):
        """A generator over one epoch's batches, in order."""
        try:
            if loader._iterable:
                yield from self._iterable_epoch(loader)
            else:
                yield from self._map_epoch(loader)
        finally:
            if last:
                self.shutdown()

    def _map_epoch(self, loader):
        tasks = iter(loader._index_sampler)
        in_flight = {}   # task id -> worker
        ready = {}       # task id -> batch that arrived early
        order = []       # task ids in sampler order
        worker_cycle = 0
        limit = loader.prefetch_factor * self.n

        def send_next():
            nonlocal worker_cycle
            indices = next(tasks, None)
            if indices is None:
                return False
            tid = self.next_task
            self.next_task += 1
            w = worker_cycle % self.n
            worker_cycle += 1
            self.index_queues[w].put((tid, indices))
            in_flight[tid] = w
            order.append(tid)
            return True

        while len(in_flight) < limit and send_next():
            pass
        position = 0
        while position < len(order):
            tid = order[position]
            while tid not in ready:
                got, payload = self._receive()
                ready[got] = payload
                in_flight.pop(got, None)
            payload = ready.pop(tid)
            position += 1
            send_next()
            yield self._result(payload)

    def _iterable_epoch(self, loader):
        if self.next_task:  # a persistent pool: restart every worker's stream
            for q in self.index_queues:
                q.put((-1, _worker.RESET))
        active = list(range(self.n))
        pending = {}     # task id -> worker
        ready = {}
        order = []
        depth = max(1, loader.prefetch_factor)

        def ask(w):
            tid = self.next_task
            self.next_task += 1
            self.index_queues[w].put((tid, _worker.NEXT))
            pending[tid] = w
            order.append(tid)

        for _ in range(depth):
            for w in active:
                ask(w)
        position = 0
        while position < len(order):
            tid = order[position]
            position += 1
            while tid not in ready:
                got, payload = self._receive()
                ready[got] = payload
            payload = ready.pop(tid)
            w = pending.pop(tid)
            if isinstance(payload, str) and payload == _worker.END_OF_STREAM:
                if w in active:  # replies come in order: this worker's stream is over
                    active.remove(w)
                continue
            if w in active:
                ask(w)
            yield self._result(payload)

    def _receive(self):
        """The next ``(task id, payload)`` from any worker; errors if a worker died or the
        ``timeout`` passed."""
        waited = 0.0
        while True:
            step = _POLL if not self.timeout else min(_POLL, self.timeout - waited)
            try:
                return self.result_queue.get(timeout=max(step, 0.01))
            except _queue.Empty:
                waited += step
                for w in self.workers:
                    if not w.is_alive() and w.exitcode not in (0, None):
                        self.shutdown()
                        raise RuntimeError(f"DataLoader worker (pid {w.pid}) exited unexpectedly with exit code "
                                           f"{w.exitcode}") from None
                if self.timeout and waited >= self.timeout:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None

    def _result(self, payload):
        if isinstance(payload, _worker.WorkerError):
            self.shutdown()
            payload.reraise()
        return _worker.unpack(payload)

    def shutdown(self):
        """Stop the workers (idempotent)."""
        if not self.alive:
            return
        self.alive = False
        self.done.set()
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1)
        for q in self.index_queues + [self.result_queue]:
            q.cancel_join_thread()
            q.close()
