"""The replay planner: a recording becomes one generated function with its buffers planned.

Buffers: an array the recording allocated (``empty``) that nothing visible after the
call holds is *planned*: allocated once, here, and reused by every replay (CUDA
graphs' static memory). An array that escapes (a returned tensor, a new ``.grad``, an
optimizer's new state) is allocated again at each replay, at the point where eager
allocated it, because eager hands out a new tensor each call and a caller may keep
it. A constant upload (``torch.tensor([...])`` inside the function) is made once when
nothing writes it and it does not escape. Views follow their base.

The function checks the guards first (arguments' layouts, holders, symbolic
comparisons, grad mode) and returns :data:`MISS` before anything changed when one
fails; then it reads the replay's inputs (arrays of arguments and ``.grad`` tensors,
symbolic sources), calls the kernels in the recorded order, applies the effects and
builds the results. No Tensor is made except the ones the caller sees.
"""

from __future__ import annotations

import re

from ..autograd.graph import _FREED, Node, next_sequence_number
from ..dtypes import get_default_dtype
from ..autograd.grad_mode import STATE
from ..tensor import Storage, Tensor
from .codegen import Source, compare_code, expr_code, template_code
from .fusion import fuse
from .recorder import SlotRef
from .symbolic import SymFloat, SymInt
from .tracking import MISSING

__all__ = ["MISS", "Plan", "Unplannable", "build_entry"]


class _Miss:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<guards failed>"


#: what an entry returns when its guards do not hold
MISS = _Miss()


class Unplannable(Exception):
    """The run finished but left state a replay cannot rebuild (a graph break found late)."""


#: index of each method's written array arguments (others: every array argument)
_WRITES = {"copy": (1,), "fill": (0,), "unary": (2,), "binary": (3,), "where": (3,), "reduce": (3,),
           "arg_reduce": (3,), "scan": (3,), "matmul": (2,), "take": (2,), "put": (0,), "conv2d": (3,),
           "sort": (6, 7), "fused_elementwise": (2,)}


def _new_tensor(cls, a, shape, strides, offset, dtype, backend, storage, base, requires_grad, grad_fn, output_nr,
                view_version):
    t = object.__new__(cls)
    t._a, t._shape, t._strides, t._offset, t._dtype, t._backend = a, shape, strides, offset, dtype, backend
    t._storage, t._base, t._requires_grad = storage, base, requires_grad
    t._grad = None
    t._grad_fn = grad_fn
    t._output_nr = output_nr
    t._acc = None
    t._retains_grad = False
    t._hooks = None
    if base is not None:
        t._view_version = view_version
    return t


def _new_storage(base, version):
    s = object.__new__(Storage)
    s.base = base
    s.version = version
    return s


_FREED_CLASSES: dict = {}


def _freed_node(cls):
    """A node standing for a graph (whose root node was a ``cls``) that the backward the
    function ran already freed: same class name, and a backward through it raises
    eager's "second time" error."""
    sub = _FREED_CLASSES.get(cls)
    if sub is None:
        def backward(self, *grads):
            return self.saved_tensors
        sub = _FREED_CLASSES[cls] = type(cls.__name__, (Node,), {"__slots__": (), "backward": backward,
                                                                 "__module__": cls.__module__})
    n = sub.__new__(sub)
    Node.__init__(n)
    n._saved = _FREED
    n._versions = []
    n.next_functions = ()
    n._in_meta = ()
    n._seq = next_sequence_number()
    return n


def _graph_freed(node) -> bool:
    """True when a backward without ``retain_graph`` went through ``node``'s graph."""
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if getattr(n, "_saved", None) is _FREED:
            return True
        stack.extend(f for f, _ in getattr(n, "next_functions", ()))
    return False


class Plan:
    """What :func:`build_entry` needs from a recorded run."""

    def __init__(self, rec, arg_spec, tracked, sources, end_values, new_keys, versions, result, backends):
        self.rec, self.arg_spec, self.tracked, self.sources = rec, arg_spec, tracked, sources
        self.end_values, self.new_keys, self.versions, self.result = end_values, new_keys, versions, result
        self.backends = backends
        self.escaping = set()   # root slots whose arrays the caller may keep: allocated at each replay
        self.per_call = set()   # slots made at each replay (the escaping ones, their views, the inputs)


def build_entry(plan: Plan, name: str):
    """The replay function ``entry(args, kwargs)`` of a recording (MISS when its guards fail)."""
    rec = plan.rec
    src = Source()
    miss = src.const(MISS)
    known = {}           # id(tensor) -> code, for tensors that exist before the call
    storages = {}        # id(Storage) -> code
    _guard_args(plan.arg_spec, src, miss, known, storages)
    src.line(f"if {src.const(STATE)}.enabled is not {STATE.enabled!r} or "
             f"{src.const(STATE)}.inference is not {STATE.inference!r}: return {miss}")
    src.line(f"if {src.const(get_default_dtype)}() is not {src.const(get_default_dtype())}: return {miss}")
    hnames = _guard_holders(plan, src, miss, known, storages)
    for k, (h, index, _value) in enumerate(plan.sources):
        read = hnames[id(h)] + (f"[{index}]" if index is not None else "")
        src.line(f"s{k} = {read}")
    seen = set()
    for expr, op, other, result in rec.guard_log.guards:
        text = compare_code(expr, op, other, src)
        if text not in seen:
            seen.add(text)
            src.line(f"if {text} is not {result!r}: return {miss}")

    # ---- effects and results first: they decide which arrays escape --------------------
    tail = Source.__new__(Source)
    tail.ns, tail._by_id, tail._keep, tail.lines = src.ns, src._by_id, src._keep, []
    escaping = set()
    made = {}
    slot_name = _SlotNames(rec)

    def later(k: int) -> str:
        """Slot k's name, decided once the buffers are planned (after this pass)."""
        return f"\x00{k}\x00"

    def tensor_code(t: Tensor) -> str:
        code = known.get(id(t))
        if code is not None:
            return code
        code = made.get(id(t))
        if code is not None:
            return code
        ka, kb = rec.slot_of.get(id(t._a)), rec.slot_of.get(id(t._storage.base))
        if ka is None or kb is None:
            raise Unplannable("returns or stores a tensor whose memory the recording did not see")
        if t._grad is not None or t._hooks or t._retains_grad:
            raise Unplannable("leaves a gradient, a hook or retain_grad on a tensor it created")
        grad_fn = "None"
        if t._requires_grad:
            if t._grad_fn is None:
                raise Unplannable("returns or stores a new leaf tensor that requires grad")
            if not _graph_freed(t._grad_fn):
                raise Unplannable("returns a tensor whose autograd graph is still alive (its backward would run "
                                  "outside the compiled function)")
            grad_fn = f"{src.const(_freed_node)}({src.const(type(t._grad_fn))})"
        escaping.add(rec.root[ka])
        escaping.add(rec.root[kb])
        st = storages.get(id(t._storage))
        if st is None:
            st = storages[id(t._storage)] = f"_st{len(storages)}"
            tail.line(f"{st} = {src.const(_new_storage)}({later(kb)}, {t._storage.version})")
        base = tensor_code(t._base) if t._base is not None else "None"
        code = made[id(t)] = f"_t{len(made)}"
        tail.line(f"{code} = {src.const(_new_tensor)}({src.const(type(t))}, {later(ka)}, {src.const(t._shape)}, "
                  f"{src.const(t._strides)}, {t._offset}, {src.const(t._dtype)}, {src.const(t._backend)}, {st}, "
                  f"{base}, {t._requires_grad}, {grad_fn}, {t._output_nr}, "
                  f"{getattr(t, '_view_version', 0) if t._base is not None else 0})")
        return code

    def value_code(v) -> str:
        if isinstance(v, Tensor):
            return tensor_code(v)
        if isinstance(v, (SymFloat, SymInt)):
            return expr_code(v._e, src)
        if type(v) is tuple:
            return "(" + "".join(value_code(x) + ", " for x in v) + ")"
        if type(v) is list:
            return "[" + ", ".join(value_code(x) for x in v) + "]"
        if type(v) is dict:
            return "{" + ", ".join(f"{src.const(k)}: {value_code(x)}" for k, x in v.items()) + "}"
        return src.const(v)

    effects = []
    for h, after in plan.end_values:
        effects.append(_write_code(h, value_code(after), src))
    for container, kind, key, after in plan.new_keys:
        c = src.const(container)
        if after is MISSING:
            effects.append(f"del {c}[{src.const(key)}]" if kind == "item" else f"delattr({c}, {src.const(key)})")
        else:
            v = value_code(after)
            effects.append(f"{c}[{src.const(key)}] = {v}" if kind == "item" else
                           f"setattr({c}, {src.const(key)}, {v})")
    for code, delta in plan.versions:
        effects.append(f"{code}.version += {delta}")
    result = value_code(plan.result)

    # ---- bodies: inputs, kernels --------------------------------------------------------
    for k, desc in enumerate(rec.slots):
        if desc[0] == "ext" and desc[1] is not None:
            src.line(f"{slot_name.local(k)} = {desc[1]}")
    plan.escaping = escaping
    _plan_buffers(plan, src, slot_name, escaping)
    for line in _body_lines(plan, src, slot_name):
        src.line(line)
    src.lines += [re.sub("\x00([0-9]+)\x00", lambda m: slot_name(int(m.group(1))), ln) for ln in tail.lines]
    for e in effects:
        src.line(e)
    src.line(f"return {result}")
    return src.compile(name, "args, kwargs")


class _SlotNames:
    """Slot k's name in the generated code: a local (``_v{k}``) or a planned constant."""

    def __init__(self, rec):
        self.rec = rec
        self.names = {}

    def local(self, k: int) -> str:
        name = self.names[k] = f"_v{k}"
        return name

    def __call__(self, k: int) -> str:
        return self.names[k]


def _guard_args(spec, src: Source, miss: str, known: dict, storages: dict) -> None:
    """Structure and layout guards of the arguments; tensor arguments become ``a0, a1...``."""
    tensors = []
    for code, kind, value in spec:
        if kind == "struct":
            cls, n, keys = value
            src.line(f"if {code}.__class__ is not {src.const(cls)} or len({code}) != {n}: return {miss}")
            if keys:
                src.line(f"if tuple({code}) != {src.const(keys)}: return {miss}")
        elif kind == "tensor":
            i, t = value
            a = f"a{i}"
            src.line(f"{a} = {code}")
            _tensor_layout_guard(a, t, src, miss)
            for b, u in tensors:
                same = u._storage.base is t._storage.base
                src.line(f"if ({a}._storage.base is {b}._storage.base) is not {same}: return {miss}")
            tensors.append((a, t))
            known[id(t)] = a
            storages[id(t._storage)] = f"{a}._storage"
        elif kind == "value":
            if value is None or type(value) is bool:
                src.line(f"if {code} is not {value!r}: return {miss}")
            else:
                src.line(f"if {code}.__class__ is not {src.const(type(value))} or {code} != {src.const(value)}: "
                         f"return {miss}")
        else:   # identity
            src.line(f"if {code} is not {src.const(value)}: return {miss}")


def _tensor_layout_guard(a: str, t: Tensor, src: Source, miss: str) -> None:
    src.line(f"if {a}.__class__ is not {src.const(type(t))} or {a}._shape != {src.const(t._shape)} or "
             f"{a}._dtype is not {src.const(t._dtype)} or {a}._backend is not {src.const(t._backend)} or "
             f"{a}._strides != {src.const(t._strides)} or {a}._offset != {t._offset} or "
             f"{a}._requires_grad is not {t._requires_grad} or {a}._grad_fn is not None: return {miss}")


def _read_code(h, src: Source) -> str:
    c = f"a{h.container[1]}" if isinstance(h.container, tuple) else src.const(h.container)
    if h.kind == "item":
        return f"{c}.get({src.const(h.key)}, {src.const(MISSING)})" if hasattr(h.container, "get") \
            else f"{c}[{src.const(h.key)}]"
    if h.kind == "attr":
        if h.before is not MISSING and h.key.isidentifier():
            return f"{c}.{h.key}"
        return f"getattr({c}, {src.const(h.key)}, {src.const(MISSING)})"
    if h.kind == "len":
        return f"len({c})"
    return f"{c}.cell_contents"


def _write_code(h, value: str, src: Source) -> str:
    c = f"a{h.container[1]}" if isinstance(h.container, tuple) else src.const(h.container)
    if h.kind == "item":
        return f"{c}[{src.const(h.key)}] = {value}"
    if h.kind == "attr":
        if isinstance(h.container, (Tensor, tuple)) or h.key.isidentifier():
            return f"{c}.{h.key} = {value}"
        return f"setattr({c}, {src.const(h.key)}, {value})"
    return f"{c}.cell_contents = {value}"


def _guard_holders(plan: Plan, src: Source, miss: str, known: dict, storages: dict) -> dict:
    names = {}
    for j, h in enumerate(plan.tracked.holders):
        hv = f"h{j}"
        names[id(h)] = hv
        src.line(f"{hv} = {_read_code(h, src)}")
        v = h.before
        if h.role == "pinned":
            src.line(f"if {hv} is not {src.const(v)} or {hv}._a is not {src.const(v._a)}: return {miss}")
            known.setdefault(id(v), src.const(v))
            storages.setdefault(id(v._storage), f"{src.const(v)}._storage")
        elif h.role == "bound":
            if v is None:
                src.line(f"if {hv} is not None: return {miss}")
            else:
                src.line(f"if {hv} is None: return {miss}")
                _tensor_layout_guard(hv, v, src, miss)
                known.setdefault(id(v), hv)
                storages.setdefault(id(v._storage), f"{hv}._storage")
        elif h.role == "sym":
            if type(v) is tuple:
                src.line(f"if {hv}.__class__ is not tuple or len({hv}) != {len(v)}: return {miss}")
                for i, x in enumerate(v):
                    src.line(f"if {hv}[{i}].__class__ is not {type(x).__name__}: return {miss}")
            else:
                src.line(f"if {hv}.__class__ is not {type(v).__name__}: return {miss}")
        elif h.role == "value":
            if v is None or v is MISSING or type(v) is bool:
                src.line(f"if {hv} is not {src.const(v)}: return {miss}")
            else:
                src.line(f"if {hv}.__class__ is not {src.const(type(v))} or {hv} != {src.const(v)}: return {miss}")
        else:
            src.line(f"if {hv} is not {src.const(v)}: return {miss}")
    return names


def _plan_buffers(plan: Plan, src: Source, slot_name: _SlotNames, escaping: set) -> None:
    """Name every slot; allocate the planned ones now (their names become constants)."""
    rec = plan.rec
    written = set()
    for _bi, method, targs, _kw, _res in rec.steps:
        positions = _WRITES.get(method)
        refs = _refs([targs[i] for i in positions if i < len(targs)]) if positions else _refs(targs)
        written.update(rec.root[r] for r in refs)
    per_call = set()
    for k, desc in enumerate(rec.slots):
        kind = desc[0]
        root = rec.root[k]
        if kind == "ext":
            if desc[1] is None:
                slot_name.names[k] = src.const(desc[2])
            else:
                per_call.add(k)
            continue
        if kind == "empty":
            dynamic = root in escaping
        elif kind == "upload":
            dynamic = root in escaping or root in written
        else:
            dynamic = isinstance(desc[1], SlotRef) and desc[1].k in per_call
        if dynamic:
            per_call.add(k)
            slot_name.local(k)
            continue
        backend = plan.backends[rec.slot_backend[k]]
        if kind == "empty":
            array = backend.empty(desc[1], desc[2])
        elif kind == "upload":
            array = backend.from_bytes(desc[1], desc[2], desc[3])
        else:
            base = src.ns[slot_name(desc[1].k)] if isinstance(desc[1], SlotRef) else desc[1]
            array = backend.view(base, *desc[2:]) if kind == "view" else backend.reshape(base, desc[2])
        slot_name.names[k] = src.const(array)
    plan.per_call = per_call


def _refs(t) -> list:
    if isinstance(t, SlotRef):
        return [t.k]
    if isinstance(t, (list, tuple)):
        return [k for v in t for k in _refs(v)]
    return []


def _body_lines(plan: Plan, src: Source, slot_name: _SlotNames) -> list:
    """The kernel calls, with the per-call allocations and views at their recorded places
    (elementwise chains grouped into ``fused_elementwise`` programs on a fusing device)."""
    rec = plan.rec
    events = rec.events
    if any(b.fuses_elementwise for b in plan.backends):
        events = fuse(events, rec, plan.backends, plan.per_call, plan.escaping)
    lines = []
    methods = {}

    def method(bi: int, name: str) -> str:
        if (bi, name) not in methods:
            methods[bi, name] = src.const(getattr(plan.backends[bi], name), name)
        return methods[bi, name]

    for kind, item in events:
        if kind == "step":
            lines.append(_call_line(item, method, slot_name, src))
            continue
        k = item
        if k not in plan.per_call:
            continue
        desc = rec.slots[k]
        bi = rec.slot_backend[k]
        if desc[0] == "empty":
            call = f"{method(bi, 'empty')}({src.const(desc[1])}, {src.const(desc[2])})"
        elif desc[0] == "upload":
            call = f"{method(bi, 'from_bytes')}({src.const(desc[1])}, {src.const(desc[2])}, {src.const(desc[3])})"
        elif desc[0] == "view":
            call = f"{method(bi, 'view')}(" + ", ".join(template_code(x, slot_name, src) for x in desc[1:]) + ")"
        else:
            call = f"{method(bi, 'reshape')}({template_code(desc[1], slot_name, src)}, {src.const(desc[2])})"
        lines.append(f"{slot_name(k)} = {call}")
    return lines


def _call_line(step, method, slot_name, src: Source) -> str:
    bi, name, targs, tkw, _res = step
    args = ", ".join([template_code(a, slot_name, src) for a in targs] +
                     [f"{k}={template_code(v, slot_name, src)}" for k, v in tkw.items()])
    return f"{method(bi, name)}({args})"
