"""Record the ops one forward run calls: the op layer's calls, as a tree.

Every public op is a function declared once (``plugrad.ops.declare``): the function
``plugrad.<name>``, ``Tensor.<name>``, ``ops.<name>`` in the op table and the name an
op module calls are one function object, and ``declare`` returns it unchanged, so an
op costs nothing extra per call. The tracer therefore watches those function objects
themselves, through Python's profiling hook, only while :func:`trace` runs: each call
of a declared op (its in-place form, its operator form ``x + y``), of ``x[key]`` and
of a tensor factory (``zeros``, ``tensor``...) becomes a :class:`Call` holding the op's
name, its arguments as the op received them (parameter name -> value, defaults
included) and what it returned. A call made while another runs (an op written with
other ops) becomes its child, so the exporter can write a composite op either as one
ONNX node or, when it has no mapping of its own, as the ops it is made of.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict

from .. import creation
from ..autograd.grad_mode import no_grad
from ..ops.declare import DECLARATIONS
from ..ops.indexing import getitem, setitem
from ..tensor import Tensor

__all__ = ["Call", "trace", "pair", "is_tracing", "tensors_in", "FACTORIES"]

#: the tensor factories whose results the exporter may write as constants
FACTORIES = frozenset(creation.__all__)

_ACTIVE = threading.local()


class Call:
    """One call of a watched function: ``name`` (the op's declared name, ``"add_"`` for
    an in-place form, ``"getitem"`` for ``x[key]``, the factory's name), ``args``
    (parameter name -> value as received), ``output`` (what it returned),
    ``children`` (the watched calls it made), ``meta`` (``id(tensor) -> (shape,
    dtype)`` of its argument and result tensors when it ran), ``code`` (the
    function's code object, whose parameter kinds rebind an in-place call's arguments)
    and ``alt`` (``id(tensor) -> shape`` of the same tensors in a second run whose
    dynamic dims were bigger: see :func:`pair`)."""
    __slots__ = ("name", "args", "output", "children", "meta", "code", "alt")

    def __init__(self, name: str, args: dict, code=None):
        self.name = name
        self.args = args
        self.output = None
        self.children = []
        self.code = code
        self.meta = {}
        self.alt = {}
        _note_meta(self.meta, args.values())

    def returned(self, output) -> None:
        """Store the call's result, and its tensors' shapes and dtypes as they were then
        (an in-place op may change a tensor's shape later: ``transpose_``)."""
        self.output = output
        _note_meta(self.meta, (output,))   # an in-place op's self keeps its shape at the call

    def __repr__(self) -> str:
        return f"Call({self.name!r}, {len(self.children)} children)"


def tensors_in(value) -> list:
    """The tensors of ``value``: itself, or those in a (nested) tuple, list or dict
    (its values, in order)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(v)]
    return []


def _note_meta(meta: dict, values) -> None:
    for v in values:
        for t in tensors_in(v):
            meta.setdefault(id(t), (tuple(t._shape), t._dtype))


def _watched() -> dict:
    """code object -> [(function, name)]: the functions to record. Ops made by one
    factory (every unary elementwise op, every in-place form) share a code object and
    differ in their closures, which :func:`_identify` compares."""
    table = defaultdict(list)

    def watch(fn, name):
        code = getattr(fn, "__code__", None)
        if code is not None and all(f is not fn for f, _ in table[code]):
            table[code].append((fn, name))

    for d in DECLARATIONS.values():
        watch(d.fn, d.name)
        if getattr(d.fn, "operator", None) is not None:
            watch(d.fn.operator, d.name)
        if callable(d.inplace_fn) and d.inplace:
            watch(d.inplace_fn, d.inplace[0])
    watch(getitem, "getitem")
    watch(setitem, "setitem")   # x[key] = v: written by the in-place ops it runs, or refused
    for name in FACTORIES:
        watch(getattr(creation, name), name)
    return dict(table)


def _identify(candidates, frame):
    """The name of the function running in ``frame`` among ``candidates`` (functions
    sharing its code object): the one whose closure holds the frame's free variables."""
    if len(candidates) == 1 or len({n for _, n in candidates}) == 1:
        return candidates[0][1]
    local = frame.f_locals
    for fn, name in candidates:
        cells = fn.__closure__ or ()
        if all(local.get(var, _ABSENT) is cell.cell_contents for var, cell in zip(fn.__code__.co_freevars, cells)):
            return name
    return None


_ABSENT = object()


def _arguments(frame) -> dict:
    """The parameters of the function starting in ``frame``, as it received them."""
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)
    local = frame.f_locals
    return {name: local[name] for name in code.co_varnames[:n] if name in local}


def is_tracing() -> bool:
    """True while :func:`trace` runs a forward in this thread."""
    return getattr(_ACTIVE, "on", False)


def trace(fn, args: tuple, kwargs: dict):
    """``(fn(*args, **kwargs), root)`` run under ``no_grad``: ``root.children`` are the
    watched calls the run made outside any other watched call."""
    watched = _watched()
    root = Call("<forward>", {})
    stack = [(None, root)]

    def profile(frame, event, arg):
        if event == "call":
            candidates = watched.get(frame.f_code)
            if candidates is not None:
                name = _identify(candidates, frame)
                if name is not None:
                    call = Call(name, _arguments(frame), frame.f_code)
                    stack[-1][1].children.append(call)
                    stack.append((frame, call))
        elif event == "return" and stack[-1][0] is frame:
            stack.pop()[1].returned(arg)

    previous = sys.getprofile()
    _ACTIVE.on = True
    sys.setprofile(profile)
    try:
        with no_grad():
            result = fn(*args, **kwargs)
    finally:
        sys.setprofile(previous)
        _ACTIVE.on = False
    return result, root


def _calls(call: Call) -> list:
    out = []
    for c in call.children:
        out.append(c)
        out += _calls(c)
    return out


def pair(root: Call, other: Call) -> bool:
    """Match the calls of two traces of one forward, the second run on inputs whose
    dynamic dims were bigger, and store in each call of ``root`` the shapes its
    tensors had in ``other`` (``Call.alt``): a dim that differs follows a dynamic
    axis. False when the two runs called different ops (the forward's control flow
    depends on a dynamic dim)."""
    first, second = _calls(root), _calls(other)
    if [c.name for c in first] != [c.name for c in second]:
        return False
    for a, b in zip(first, second):
        for values_a, values_b in ((list(a.args.values()), list(b.args.values())), ([a.output], [b.output])):
            ta, tb = tensors_in(values_a), tensors_in(values_b)
            if len(ta) != len(tb):
                return False
            for x, y in zip(ta, tb):
                a.alt.setdefault(id(x), b.meta.get(id(y), (tuple(y._shape),))[0])
    return True
