"""``plugrad.compile``: record a call once, replay it while its guards hold.

The first call of a compiled function runs eagerly under the recorder; when it hit no
graph break, the recording becomes an *entry*: a generated function that checks the
guards and replays. Later calls try the entries (newest last); when none matches, the
call is recorded again, up to :data:`CACHE_SIZE_LIMIT` entries (``torch._dynamo``'s
recompile limit), after which the function runs eagerly. A function whose recording
hit a graph break runs eagerly from then on; :func:`explain` and ``.stats`` say why.
"""

from __future__ import annotations

import functools
import types
import weakref

from ..layout import contiguous_strides
from ..nn.modules.module import Module
from ..plugins import registry
from ..random import get_rng_state
from ..tensor import Tensor
from .errors import InvalidBackend, Unsupported
from .planner import MISS, Plan, Unplannable, build_entry
from .recorder import Recorder
from .symbolic import SymFloat, SymInt
from .tracking import MISSING, deplain, discover, has_symbols, install_symbols

__all__ = ["compile", "CompiledFunction", "OptimizedModule", "explain", "ExplainOutput", "CACHE_SIZE_LIMIT",
           "is_compiling", "list_backends", "reset"]

#: recordings kept per compiled function before it gives up and runs eagerly
CACHE_SIZE_LIMIT = 8
_MODES = (None, "default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs", "plugrad")


_ALL = weakref.WeakSet()   # every CompiledFunction, for reset()


class _Recording:
    """Whether a recording runs now (a compiled function called inside one runs eagerly:
    the outer recording captures it)."""
    active = False


def is_compiling() -> bool:
    """True while ``plugrad.compile`` records a call (``torch.compiler.is_compiling``)."""
    return _Recording.active


class Stats:
    """What a compiled function did: ``recordings``, ``replays``, ``eager_calls`` and
    ``break_reasons`` (``(reason, where)`` pairs: why it runs eagerly)."""

    def __init__(self):
        self.recordings = 0
        self.replays = 0
        self.eager_calls = 0
        self.break_reasons = []

    def __repr__(self) -> str:
        return (f"Stats(recordings={self.recordings}, replays={self.replays}, eager_calls={self.eager_calls}, "
                f"break_reasons={self.break_reasons!r})")


class CompiledFunction:
    """A function compiled by :func:`compile`: call it like the function."""

    def __init__(self, fn, *, fullgraph: bool = False, module=None):
        self._fn = fn
        self._module = module
        self._fullgraph = fullgraph
        self._entries = []
        self._eager_reason = None
        self.stats = Stats()
        functools.update_wrapper(self, fn)
        _ALL.add(self)

    def reset(self) -> None:
        """Forget the recordings and any graph break: the next call records again."""
        self._entries = []
        self._eager_reason = None
        self.stats = Stats()

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if self._eager_reason is not None or _Recording.active:
            self.stats.eager_calls += 1
            return self._fn(*args, **kwargs)
        for entry in self._entries:
            result = entry(args, kwargs)
            if result is not MISS:
                self.stats.replays += 1
                return result
        if len(self._entries) >= CACHE_SIZE_LIMIT:
            self._stay_eager(f"the guards failed {CACHE_SIZE_LIMIT} times (cache_size_limit): an argument's shape or "
                             f"a Python value it reads changes at every call", "<recompiles>")
            self.stats.eager_calls += 1
            return self._fn(*args, **kwargs)
        return self._record(args, kwargs)

    def _stay_eager(self, reason: str, where: str) -> None:
        self._eager_reason = reason
        self.stats.break_reasons.append((reason, where))

    # ---- recording ------------------------------------------------------------------------
    def _record(self, args, kwargs):
        self.stats.recordings += 1
        spec, tensors, objects = _flatten_args(args, kwargs)
        tracked = discover(self._fn, self._module, tensors, objects)
        for t in tensors:
            if t._grad_fn is not None:
                return self._eager_after("takes an argument that is part of an autograd graph outside the function",
                                         args, kwargs)
        held = {id(h.before._storage.base) for h in tracked.holders
                if h.role in ("pinned", "bound") and isinstance(h.before, Tensor)}
        if any(id(t._storage.base) in held for t in tensors):
            return self._eager_after("takes an argument that shares memory with a parameter, buffer, gradient or "
                                     "optimizer state it also reaches", args, kwargs)
        if any(h.role in ("pinned", "bound") and isinstance(h.before, Tensor) and h.before._hooks
               for h in tracked.holders):
            return self._eager_after("reads a tensor with hooks (they run Python at each backward)", args, kwargs)
        backends = list({id(b): b for b in registry._backends.values()}.values())
        rng_before = _rng_snapshot()
        versions = _storages(tensors, tracked)
        arrays = [(t, t._a) for t in tensors] + [(h.before, h.before._a) for h in tracked.holders
                                                 if h.role in ("pinned", "bound") and isinstance(h.before, Tensor)]
        rec = Recorder(backends, self._fullgraph)
        for i, t in enumerate(tensors):
            rec.external(t._storage.base, f"a{i}._storage.base", layout=_whole(t))
            rec.external(t._a, f"a{i}._a", t._storage.base)
        for j, h in enumerate(tracked.holders):
            v = h.before
            if h.role == "pinned":
                rec.external(v._storage.base, None, layout=_whole(v))
                rec.external(v._a, None, v._storage.base)
            elif h.role == "bound" and v is not None:
                rec.external(v._storage.base, f"h{j}._storage.base", layout=_whole(v))
                rec.external(v._a, f"h{j}._a", v._storage.base)
        _Recording.active = True
        tracked.watch()
        try:
            with rec:
                sources = install_symbols(tracked.holders)
                try:
                    result = self._fn(*args, **kwargs)
                except BaseException:
                    tracked.unwatch()
                    _restore_plain(tracked, tensors)
                    raise   # eager raised: nothing is kept, the next call records again
                tracked.unwatch()
                end_values, new_keys = _end_state(tracked, tensors)
                _restore_plain(tracked, tensors)
        finally:
            _Recording.active = False
        plain_result = _deplain_result(result)
        if rec.broken is None and any(t._a is not a for t, a in arrays):
            rec.broken = ("gives a tensor it did not create new memory (.data = ..., an out= tensor resized)",
                          _def_line(self._fn))
        if rec.broken is None and set(map(id, registry._backends.values())) != set(map(id, backends)):
            return plain_result   # a device started during the call: its calls were not seen; record again next time
        if rec.broken is None and _rng_snapshot() != rng_before:
            rec.broken = ("draws random numbers (the generator's state is Python state)", "<recording>")
        if rec.broken is None:
            plan = Plan(rec, spec, tracked, sources, end_values, new_keys,
                        [(code, s.version - v) for code, s, v in versions if s.version != v], result, backends)
            try:
                entry = build_entry(plan, f"replay_{len(self._entries)}")
            except Unplannable as exc:
                rec.broken = (str(exc), _def_line(self._fn))
            else:
                self._entries.append(entry)
                return plain_result
        reason, where = rec.broken
        if self._fullgraph:
            raise Unsupported(f"plugrad.compile(fullgraph=True): the function {reason}, at {where}")
        self._stay_eager(reason, where)
        return plain_result

    def _eager_after(self, reason: str, args, kwargs):
        if self._fullgraph:
            raise Unsupported(f"plugrad.compile(fullgraph=True): the function {reason}, at {_def_line(self._fn)}")
        self._stay_eager(reason, _def_line(self._fn))
        self.stats.eager_calls += 1
        return self._fn(*args, **kwargs)

    @property
    def replay_sources(self) -> list:
        """The generated source of each entry (for reading what a replay does)."""
        return [e.source for e in self._entries]


def _whole(t: Tensor):
    """``(shape, dtype)`` of a tensor that is its whole contiguous storage, else None."""
    if t._a is t._storage.base and t._offset == 0 and t._strides == contiguous_strides(t._shape):
        return (t._shape, t._dtype)
    return None


def _def_line(fn) -> str:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else repr(fn)


def _rng_snapshot():
    state = get_rng_state()
    return tuple(state.tolist()) if isinstance(state, Tensor) else state


def _flatten_args(args, kwargs):
    """The guard spec of the arguments: ``(code, kind, value)`` rows in order, the tensor
    leaves and the other object leaves (modules, optimizers: roots of the tracked state)."""
    spec, tensors, objects = [], [], []

    def walk(x, code):
        t = type(x)
        if t in (tuple, list):
            spec.append((code, "struct", (t, len(x), None)))
            for i, v in enumerate(x):
                walk(v, f"{code}[{i}]")
        elif t is dict and all(type(k) is str for k in x):
            spec.append((code, "struct", (dict, len(x), tuple(x))))
            for k, v in x.items():
                walk(v, f"{code}[{k!r}]")
        elif isinstance(x, Tensor):
            spec.append((code, "tensor", (len(tensors), x)))
            tensors.append(x)
        elif x is None or t in (bool, int, float, str):
            spec.append((code, "value", x))
        else:
            spec.append((code, "ident", x))
            objects.append(x)
    walk(args, "args")
    spec[0] = ("args", "struct", (tuple, len(args), None))
    kw = dict(kwargs)
    spec.append(("kwargs", "struct", (dict, len(kw), tuple(kw))))
    for k, v in kw.items():
        walk(v, f"kwargs[{k!r}]")
    return spec, tensors, objects


def _storages(tensors, tracked) -> list:
    """``(code, storage, version before)`` of every storage a replay may bump."""
    rows, seen = [], set()
    for i, t in enumerate(tensors):
        if id(t._storage) not in seen:
            seen.add(id(t._storage))
            rows.append((f"a{i}._storage", t._storage, t._storage.version))
    for j, h in enumerate(tracked.holders):
        v = h.before
        if h.role in ("pinned", "bound") and isinstance(v, Tensor) and id(v._storage) not in seen:
            seen.add(id(v._storage))
            rows.append((f"h{j}._storage", v._storage, v._storage.version))
    return rows


def _end_state(tracked, tensors) -> tuple:
    """The holders that changed (with their new values) and the tracked mappings' new and
    removed keys, read while the symbolic numbers are still in place."""
    changed = []
    for h in tracked.holders:
        after = h.read(tensors)
        before = h.installed if h.role == "sym" else h.before
        if h.kind == "len":
            continue
        if after is before:
            continue
        if h.role in ("value",) and type(after) is type(before) and after == before and not has_symbols(after):
            continue
        changed.append((h, after))
    new_keys = []
    for container, kind, keys in tracked.mappings:
        now = container.__dict__ if kind == "attr" else container
        for key in now:
            if key not in keys:
                new_keys.append((container, kind, key, now[key]))
        for key in keys:
            if key not in now:
                new_keys.append((container, kind, key, MISSING))
    return changed, new_keys


def _restore_plain(tracked, tensors) -> None:
    """Put plain numbers back wherever the run left symbolic ones in tracked state
    (containers stay the same objects: lists and dicts are changed in place)."""
    for h in tracked.holders:
        if h.kind != "len" and h.kind != "cell":
            v = h.read(tensors)
            if isinstance(v, (SymFloat, SymInt)) or (type(v) is tuple and has_symbols(v)):
                h.write(tensors, deplain(v))
    for container, kind, _keys in tracked.mappings:
        _plain_in_place(container.__dict__ if kind == "attr" else container, 0)


def _plain_in_place(d, depth: int) -> None:
    if depth > 3:
        return
    items = d.items() if isinstance(d, dict) else enumerate(d)
    for key, v in list(items):
        if isinstance(v, (SymFloat, SymInt)) or (type(v) is tuple and has_symbols(v)):
            d[key] = deplain(v)
        elif type(v) in (list, dict) or type(v).__name__ == "defaultdict":
            _plain_in_place(v, depth + 1)


def _deplain_result(x):
    if isinstance(x, (SymFloat, SymInt, tuple, list)):
        return deplain(x)
    if type(x) is dict and has_symbols(x):
        return {k: _deplain_result(v) for k, v in x.items()}
    return x


class OptimizedModule(Module):
    """A module compiled by :func:`compile` (PyTorch's ``OptimizedModule``): calling it
    replays the wrapped module's call; ``_orig_mod`` is the module itself, whose
    parameters it shares (its ``state_dict`` keys start with ``_orig_mod.``)."""

    def __init__(self, mod: Module, compiled: CompiledFunction):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", compiled)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        if name in ("_orig_mod", "_parameters", "_buffers", "_modules") or name.startswith("__"):
            return super().__getattr__(name)
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._orig_mod, name)

    @property
    def stats(self) -> Stats:
        """The wrapped call's :class:`Stats`."""
        return self._compiled.stats


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None, options=None,
            disable: bool = False):
    """Capture what ``model`` (a function or an ``nn.Module``) sends to the devices at its
    first call and replay it at later calls with the same guards (PyTorch's
    ``torch.compile`` signature; also a decorator, with or without arguments).

    ``fullgraph=True`` raises :class:`~plugrad.compiler.errors.Unsupported` at a graph
    break instead of running the function eagerly. ``dynamic``, ``backend``, ``mode``
    and ``options`` are checked as PyTorch checks them and change nothing: every
    recording is specialized to its shapes (a new shape is a new recording, which is
    what ``dynamic=False`` asks for), and every backend name replays the recording.
    ``disable=True`` returns ``model``."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in _MODES if m is not None)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if not (isinstance(backend, str) and backend in _BACKENDS):
        raise InvalidBackend(f"Invalid backend: {backend!r}, see `plugrad.compiler.list_backends()` for available "
                             f"backends.")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"plugrad.compile: options must be a dict, got {type(options).__name__}")
    if type(fullgraph) is not bool:
        raise TypeError(f"plugrad.compile: fullgraph must be a bool, got {type(fullgraph).__name__}")
    if model is None:
        def decorator(m):
            return compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           disable=disable)
        return decorator
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model.__call__, fullgraph=fullgraph, module=model))
    return CompiledFunction(model, fullgraph=fullgraph)


def reset() -> None:
    """Forget every compiled function's recordings (``torch.compiler.reset``): each records
    again at its next call, and the planned buffers are freed."""
    for compiled in list(_ALL):
        compiled.reset()


def list_backends() -> list:
    """The backend names :func:`compile` takes (each replays the recorded kernels)."""
    return sorted(_BACKENDS)


class ExplainOutput:
    """What :func:`explain` found: ``graph_count`` (recordings kept), ``graph_break_count``,
    ``break_reasons`` (``(reason, where)`` pairs) and the replays' ``sources``."""

    def __init__(self, compiled: CompiledFunction):
        self.graph_count = len(compiled._entries)
        self.break_reasons = list(compiled.stats.break_reasons)
        self.graph_break_count = len(self.break_reasons)
        self.sources = compiled.replay_sources

    def __repr__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}"]
        lines += [f"Break Reason: {reason}\n  at {where}" for reason, where in self.break_reasons]
        return "\n".join(lines)


def explain(fn):
    """``explain(fn)(*args, **kwargs)`` calls ``fn`` compiled (or the compiled function
    itself) on those arguments and returns an :class:`ExplainOutput` (``torch._dynamo.explain``)."""
    def run(*args, **kwargs):
        compiled = fn if isinstance(fn, CompiledFunction) else compile(fn)
        if isinstance(compiled, OptimizedModule):
            compiled = compiled._compiled
        compiled(*args, **kwargs)
        return ExplainOutput(compiled)
    return run
