"""Turn a traced forward (``plugrad.onnx.trace``) into an ONNX graph (``Graph``).

Each recorded call is written by its mapping (``plugrad.onnx.mapping.MAPPINGS``).
A call without one is written as the ops it called, when it is a composition of
declared ops (``var`` as means and products, ``multi_head_attention_forward`` as
projections, ``bmm`` and ``softmax``); a call without a mapping and without such
parts raises :class:`UnsupportedOperatorError` naming it. The in-place form
``op_`` is written as ``op``, its result taking the place of ``self``.

Every tensor a node reads is, in this order: a value computed by an earlier node, a
graph input, a parameter or buffer of the model (an initializer under its
``state_dict`` name, ``fc1.weight``), the result of a tensor factory (``zeros``,
``arange``: a constant), or, for a call the forward made itself, a tensor that
existed before the forward (a constant). A tensor that a composition computed
without going through ops (a kernel called directly) has no such source: writing it
as a constant would bake one input's values into the model, so it is an error.
"""

from __future__ import annotations

import inspect

from .. import creation
from ..dtypes import int64
from ..ops.declare import DECLARATIONS
from ..tensor import Tensor
from .errors import OnnxExporterError, UnsupportedOperatorError
from .graph import ONNX_TYPES
from .mapping import MAPPINGS
from .trace import FACTORIES, Call, tensors_in

__all__ = ["Converter"]


class Converter:
    """Writes calls into ``graph``; ``params`` maps ``id(tensor)`` to the state_dict
    name of each parameter and buffer. The mapping functions receive the converter as
    ``cx`` and build nodes with :meth:`value`, :meth:`ints`, :meth:`scalar` and
    ``cx.g.op``; :meth:`shape` and :meth:`dtype` give a tensor's as the call saw it."""

    def __init__(self, graph, params: dict):
        self.g = graph
        self.opset = graph.opset
        self.params = params
        self.env = {}
        self._alive = {}   # id -> tensor: each stays alive, so no other tensor takes its id() meanwhile
        self._stale = {}   # id -> the in-place op that wrote its storage through another tensor
        self.created = set()
        self.scope = []
        self.call = None

    # ---- what mappings use -------------------------------------------------------------------
    def value(self, x, dtype=None) -> str:
        """The value name of tensor ``x`` (cast to ``dtype`` when given and different), or
        a constant holding the number ``x`` in ``dtype``."""
        if not isinstance(x, Tensor):
            return self.scalar(x, dtype)
        name = self._resolve(x)
        if dtype is not None and self.dtype(x) is not dtype:
            name = self.g.op("Cast", name, to=ONNX_TYPES[dtype])
        return name

    def scalar(self, number, dtype) -> str:
        """A 0-d constant ``number`` of ``dtype``."""
        return self.g.constant(creation.tensor(number, dtype=dtype))

    def ints(self, values) -> str:
        """A 1-d int64 constant (shapes, axes, starts...)."""
        return self.g.constant(creation.tensor([int(v) for v in values], dtype=int64))

    def shape(self, t: Tensor) -> tuple:
        """``t``'s shape when the current call ran."""
        meta = self.call.meta.get(id(t)) if self.call is not None else None
        return meta[0] if meta is not None else tuple(t._shape)

    def dynamic_dims(self, t: Tensor) -> list:
        """The dims of ``t`` that follow a dynamic axis of the inputs (they had another
        size in the second trace; none when the export has no dynamic axes)."""
        alt = self.call.alt.get(id(t)) if self.call is not None else None
        shape = self.shape(t)
        return [] if alt is None else [i for i, (n, m) in enumerate(zip(shape, alt)) if n != m]

    def dtype(self, t: Tensor):
        """``t``'s dtype when the current call ran."""
        meta = self.call.meta.get(id(t)) if self.call is not None else None
        return meta[1] if meta is not None else t._dtype

    # ---- the walk ------------------------------------------------------------------------------
    def bind(self, t: Tensor, name: str) -> None:
        """From now on ``t`` is the value ``name`` (a graph input, a node's output)."""
        self.env[id(t)] = name
        self._alive[id(t)] = t

    def emit(self, call: Call) -> None:
        """Write ``call`` (and, for a composition without a mapping, its parts)."""
        name = call.name
        if name in FACTORIES:
            self.created.update(id(t) for t in tensors_in(call.output))
            return
        mapping = MAPPINGS.get(name)
        if mapping is not None:
            self._map(mapping, call, call)
            return
        base = name[:-1] if name.endswith("_") else None
        if base in MAPPINGS and base in DECLARATIONS:
            self._map(MAPPINGS[base], _out_of_place(call, base), call)
            self._mark_aliases(call)
            return
        if not call.children or base is not None:
            raise UnsupportedOperatorError(name, self.opset, tuple(self.scope))
        for t in tensors_in(list(call.args.values())):
            self._resolve(t)
        self.scope.append(name)
        try:
            for child in call.children:
                self.emit(child)
        finally:
            self.scope.pop()
        for t in tensors_in(call.output):
            if id(t) not in self.env:
                raise OnnxExporterError(f"plugrad.onnx.export: '{name}' has no ONNX mapping, and its result is not "
                                        f"computed by the ops it is made of; add a mapping for '{name}' to "
                                        f"plugrad/onnx/mapping/")

    def _map(self, mapping, call: Call, recorded: Call) -> None:
        outer, self.call = self.call, call
        try:
            outs = mapping(self, call)
        finally:
            self.call = outer
        if outs is None:
            raise UnsupportedOperatorError(recorded.name, self.opset, tuple(self.scope), arguments=True)
        results = tensors_in(recorded.output)
        outs = [outs] if isinstance(outs, str) else list(outs)
        if len(outs) != len(results):
            raise OnnxExporterError(f"plugrad.onnx.export: the mapping of '{call.name}' gave {len(outs)} values for "
                                    f"{len(results)} result tensors")
        for t, n in zip(results, outs):
            self.bind(t, n)

    def _mark_aliases(self, call: Call) -> None:
        """After the in-place ``call``, the other tensors viewing its target's memory
        hold values the graph no longer has."""
        target = call.output
        if not isinstance(target, Tensor):
            return
        for key, t in self._alive.items():
            if t is not target and t._storage is target._storage:
                self._stale[key] = call.name

    def _resolve(self, t: Tensor) -> str:
        key = id(t)
        if key in self._stale:
            raise OnnxExporterError(
                f"plugrad.onnx.export: a tensor (shape {list(t._shape)}) is read after '{self._stale[key]}' changed it "
                f"in place through another tensor sharing its memory (a view); ONNX values never change, so write "
                f"the forward with the out-of-place op")
        name = self.env.get(key)
        if name is not None:
            return name
        if key in self.params:
            name = self.g.initializer(self.params[key], t.detach())
        elif key in self.created and self.call is not None and self.dynamic_dims(t):
            raise OnnxExporterError(
                f"plugrad.onnx.export: the forward creates a tensor (shape {list(t._shape)}) whose size follows a "
                f"dynamic axis (dims {self.dynamic_dims(t)}), and '{self.call.name}' reads it; the ONNX graph would "
                f"fix that size. Pass the tensor to the forward as an input (an RNN's initial state: hx), or export "
                f"without dynamic axes")
        elif key in self.created or not self.scope:
            name = self.g.constant(t.detach())
        else:
            raise OnnxExporterError(
                f"plugrad.onnx.export: '{self.scope[-1]}' has no ONNX mapping, and the ops it is made of read a tensor "
                f"it computed without ops (shape {list(t._shape)}); add a mapping for '{self.scope[-1]}' to "
                f"plugrad/onnx/mapping/")
        self.env[key] = name
        self._alive[key] = t
        return name


def _out_of_place(call: Call, base: str) -> Call:
    """The in-place ``call`` (``x.add_(y)``) as a call of ``base`` (``add(x, y)``), with
    ``base``'s parameter names and defaults; its result is ``self``."""
    code = call.code
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount + 2]
    positional = [call.args[n] for n in names[:code.co_argcount] if n in call.args]
    keywords = {n: call.args[n] for n in names[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
                if n in call.args}
    rest = names[code.co_argcount + code.co_kwonlyargcount:]
    if code.co_flags & 0x04:
        positional += list(call.args.get(rest[0], ()))
        rest = rest[1:]
    if code.co_flags & 0x08:
        keywords.update(call.args.get(rest[0], {}))
    bound = inspect.signature(DECLARATIONS[base].fn).bind(*positional, **keywords)
    bound.apply_defaults()
    out = Call(base, dict(bound.arguments), code)
    out.meta = call.meta
    out.alt = call.alt
    out.output = call.output
    return out
