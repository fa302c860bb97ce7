"""The recorder: every call that reaches a device during one eager run, with arrays as slots.

While a call is recorded, each backend object's methods are shadowed by instance
attributes that note the call and run the real method (the registry already wraps
methods this way for old plugins, so the shadow wraps whatever is there and puts it
back after). Only the outermost call is noted: what a kernel calls on its own backend
(the default ``sort`` reading to the host) is part of that kernel.

Arrays are named by *slots*. An array the call did not create (a parameter, an
argument, a gradient) is registered before the run as an external slot; ``empty``,
``from_bytes``, ``view`` and ``reshape`` create new slots. An argument that is no slot
is a constant of the recording (a shape, an op name, an array nobody tracks, held by
reference); a symbolic number (``plugrad.compiler.symbolic``) stays an expression.

What cannot be replayed is a *graph break*: a read of device memory into Python
(``item()``, ``tolist()``, printing, a data-dependent shape such as ``nonzero``), random
numbers, a host array wrapped as a tensor. With ``fullgraph`` it raises
:class:`~plugrad.compiler.errors.Unsupported` at the user's line; otherwise the run goes
on eagerly and the recording is only kept as the reason why the function stays eager.
"""

from __future__ import annotations

import weakref

from .. import dtypes as _dtypes
from ..hostchecks import is_validating, validating
from .errors import Unsupported, user_frame
from .symbolic import ACTIVE, GuardLog, SymFloat, SymInt, symbolic

__all__ = ["Recorder", "SlotRef", "SymRef", "ELEMENTWISE"]

#: methods whose result is a new array (a new slot)
_ALLOCATES = frozenset({"empty", "from_bytes"})
_VIEWS = frozenset({"view", "reshape"})
#: methods that hand device data to Python: the value a replay would need is not known
_HOST_READS = {
    "to_bytes": "reads device memory into Python (item(), tolist(), bool() or printing a tensor)",
    "to_list": "reads device memory into Python (item(), tolist(), bool() or printing a tensor)",
    "host_view": "shares device memory with a host array (Tensor.numpy())",
    "wrap_host": "makes a tensor from a host array (from_numpy(), tensor(ndarray)): its data is Python state",
    "nonzero": "has a data-dependent output shape (nonzero, masked indexing)",
    "linalg_solve": "reads a factorization's status into Python (singular-matrix check)",
    "linalg_cholesky": "reads a factorization's status into Python (positive-definiteness check)",
    "random": "draws random numbers (the generator's state is Python state)",
}
#: reads that an op may make to validate its arguments (``plugrad.hostchecks``)
_CHECK_READS = frozenset({"to_bytes", "to_list"})
#: methods that change nothing a replay needs
_IGNORED = frozenset({"synchronize"})
#: elementwise kernels: ``method -> index of the out argument`` (what fusion may group)
ELEMENTWISE = {"unary": 2, "binary": 3, "where": 3, "copy": 1}


class SlotRef:
    """An array argument of a recorded call: slot ``k``."""
    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k

    def __repr__(self) -> str:
        return f"%{self.k}"


class SymRef:
    """A scalar argument whose value is an expression of the replay's inputs."""
    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr


class Recorder:
    """Records one eager call. ``steps`` holds ``(backend index, method, args, result)``
    in call order; ``slots`` describes each slot: ``("ext", code, constant, layout)`` (given by the replay),
    ``("empty", shape, dtype)``, ``("upload", data, shape, dtype)``, ``("view", base,
    shape, strides, offset)`` or ``("reshape", base, shape)`` where ``base`` is a
    template (a :class:`SlotRef` or a constant array); ``slot_backend[k]`` is the index
    of the backend that made slot k (None for externals)."""

    def __init__(self, backends: list, fullgraph: bool):
        self.backends = backends
        self.fullgraph = fullgraph
        self.steps = []
        self.events = []           # ("slot", k) and ("step", step) in the order they happened
        self.slots = []
        self.slot_backend = []
        self.root = []             # slot -> slot of its storage (itself for a base)
        self.slot_of = {}          # id(array) -> slot
        self._refs = {}            # id(array) -> weakref (so ids are never reused silently)
        self._strong = []          # arrays that take no weak reference
        self.depth = 0
        self.broken = None         # (reason, where) of the first graph break
        self.guard_log = GuardLog()
        self._saved = []

    # ---- slots -------------------------------------------------------------------------
    def _new_slot(self, obj, desc, backend_index, root=None) -> int:
        k = len(self.slots)
        self.slots.append(desc)
        self.slot_backend.append(backend_index)
        self.root.append(k if root is None else root)
        if desc[0] != "ext":
            self.events.append(("slot", k))
        oid = id(obj)
        self.slot_of[oid] = k
        try:
            self._refs[oid] = weakref.ref(obj, lambda _r, oid=oid, k=k, m=self.slot_of: m.pop(oid, None)
                                          if m.get(oid) == k else None)
        except TypeError:
            self._strong.append(obj)
        return k

    def external(self, array, code: str | None, root_array=None, layout=None) -> int:
        """Register an array that exists before the call; ``code`` reads it in the replay
        (None: the array is a constant of the replay, guarded by its holder's identity).
        ``root_array``: the storage base it is a view of (registered first); ``layout``:
        ``(shape, dtype)`` when the array is a whole contiguous storage (a fused program
        may then write it)."""
        k = self.slot_of.get(id(array))
        if k is not None:
            return k
        root = self.slot_of.get(id(root_array)) if root_array is not None and root_array is not array else None
        return self._new_slot(array, ("ext", code, array if code is None else None, layout), None, root)

    def template(self, x):
        """``x`` as recorded: a slot reference, a symbolic reference, or a constant."""
        k = self.slot_of.get(id(x))
        if k is not None:
            return SlotRef(k)
        if isinstance(x, (SymFloat, SymInt)):
            return SymRef(x._e)
        if isinstance(x, list):
            return [self.template(v) for v in x]
        if type(x) is tuple:
            t = tuple(self.template(v) for v in x)
            return t if any(isinstance(v, (SlotRef, SymRef, list, tuple)) and v is not w for v, w in zip(t, x)) \
                else x
        return x

    # ---- breaks --------------------------------------------------------------------------
    def graph_break(self, reason: str, where: str | None = None) -> None:
        """Note a graph break (raise it with ``fullgraph``)."""
        where = where or user_frame(2)
        if self.fullgraph:
            raise Unsupported(f"plugrad.compile(fullgraph=True): the function {reason}, at {where}")
        if self.broken is None:
            self.broken = (reason, where)

    # ---- shadowing -----------------------------------------------------------------------
    def _wrapper(self, bi: int, name: str, real):
        rec = self

        def call(*args, **kwargs):
            if rec.depth:
                return real(*args, **kwargs)
            if rec.broken is not None:   # symbolic numbers must not reach a device (NumPy reads a float
                # subclass as a float64 scalar, not as a Python number)
                return real(*_plain_all(args), **{key: _plain_all(v) for key, v in kwargs.items()})
            reason = _HOST_READS.get(name)
            if reason is not None and name in _CHECK_READS and is_validating():
                return real(*args, **kwargs)   # an argument check of the op: the replay skips it
            if reason is not None:
                rec.graph_break(f"{reason} [Backend.{name}]")
                return real(*_plain_all(args), **{key: _plain_all(v) for key, v in kwargs.items()})
            if name in _IGNORED:
                return real(*args, **kwargs)
            targs = rec.template(list(args))
            tkw = {key: rec.template(v) for key, v in kwargs.items()}
            rec.depth += 1
            try:
                result = real(*_plain_all(args), **{key: _plain_all(v) for key, v in kwargs.items()})
            finally:
                rec.depth -= 1
            if name in _ALLOCATES:
                if name == "empty":
                    desc = ("empty", args[0], args[1])
                else:
                    desc = ("upload", bytes(args[0]), args[1], args[2])
                rec._new_slot(result, desc, bi)
                return result
            if name in _VIEWS:
                base = targs[0]
                root = rec.root[base.k] if isinstance(base, SlotRef) else None
                desc = ("view", base, *targs[1:]) if name == "view" else ("reshape", base, targs[1])
                if result is args[0]:
                    return result
                rec._new_slot(result, desc, bi, root)
                return result
            if result is not None and type(result) is not bool:
                rec.graph_break(f"returns a value to Python from Backend.{name}")
                return result
            step = (bi, name, targs, tkw, result)
            rec.steps.append(step)
            rec.events.append(("step", step))
            return result
        return call

    def __enter__(self):
        for bi, backend in enumerate(self.backends):
            own = backend.__dict__
            for name in _method_names(type(backend)):
                had = name in own
                real = own[name] if had else getattr(backend, name)
                self._saved.append((backend, name, had, real))
                setattr(backend, name, self._wrapper(bi, name, real))
        for d in _all_dtypes():
            orig = d._py
            self._saved.append((d, "_py", True, orig))
            d._py = _symbolic_converter(orig)
        ACTIVE.log = self.guard_log
        validating.capturing = True
        return self

    def __exit__(self, *exc):
        ACTIVE.log = None
        validating.capturing = False
        for obj, name, had, real in reversed(self._saved):
            if had:
                setattr(obj, name, real)
            else:
                delattr(obj, name)
        self._saved = []
        return False


def _plain_all(x):
    if isinstance(x, (SymFloat, SymInt)):
        return x._v
    if isinstance(x, list):
        return [_plain_all(v) for v in x]
    if type(x) is tuple and any(isinstance(v, (SymFloat, SymInt, list, tuple)) for v in x):
        return tuple(_plain_all(v) for v in x)
    return x


def _symbolic_converter(orig):
    """A dtype's scalar converter that keeps a symbolic number symbolic."""
    def convert(v):
        if isinstance(v, (SymFloat, SymInt)):
            result = orig(v._v)
            if type(result) in (int, float):
                return symbolic(result, ("call", orig, v._e))
            if ACTIVE.log is not None:
                ACTIVE.log.note(v._e, "eq", v._v, True)
            return result
        return orig(v)
    return convert


def _all_dtypes() -> list:
    """Every dtype object once (the module also binds some under a second name)."""
    return list({id(v): v for v in vars(_dtypes).values() if isinstance(v, _dtypes.dtype)}.values())


_METHODS: dict = {}


def _method_names(cls) -> list:
    """The public methods of a backend class (what the recorder shadows)."""
    names = _METHODS.get(cls)
    if names is None:
        names = _METHODS[cls] = [n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n, None))
                                 and not isinstance(getattr(cls, n), type)]
    return names
