"""The replay planner: a recording becomes one generated function with its buffers planned.

Buffers: an array the recording allocated (``empty``) that nothing visible after the
call holds is *planned*: allocated once, here, and reused by every replay (CUDA
graphs' static memory); planned buffers whose lifetimes in the recording do not
overlap share memory. An array that escapes (a returned tensor, a new ``.grad``, an
optimizer's new state) is allocated again at each replay, at the point where eager
allocated it, because eager hands out a new tensor each call and a caller may keep
it. A constant upload (``torch.tensor([...])`` inside the function) is made once when
nothing writes it and it does not escape. Views follow their base.

The function checks the guards first (``plugrad.compiler.guards``: arguments' layouts,
holders, symbolic comparisons, grad mode) and returns :data:`MISS` before anything
changed when one fails; then it reads the replay's inputs (arrays of arguments and ``.grad`` tensors,
symbolic sources), calls the kernels in the recorded order, applies the effects and
builds the results. No Tensor is made except the ones the caller sees.
"""

from __future__ import annotations

import re

from ..autograd.grad_mode import STATE
from ..backend import Backend
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .codegen import Source, compare_code, expr_code, template_code
from .fusion import fuse
from .guards import MISS, guard_args, guard_holders, write_code
from .recorder import SlotRef, SymRef
from .runtime import freed_node, graph_freed, new_storage, new_tensor
from .symbolic import SymFloat, SymInt
from .tracking import MISSING

__all__ = ["MISS", "Plan", "Unplannable", "build_entry"]


class Unplannable(Exception):
    """The run finished but left state a replay cannot rebuild (a graph break found late)."""


#: index of each method's written array arguments (others: every array argument)
_WRITES = {"copy": (1,), "fill": (0,), "unary": (2,), "binary": (3,), "where": (3,), "reduce": (3,),
           "arg_reduce": (3,), "scan": (3,), "matmul": (2,), "take": (2,), "put": (0,), "conv2d": (3,),
           "sort": (6, 7), "fused_elementwise": (2,)}


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
    guard_args(plan.arg_spec, src, miss, known, storages)
    src.line(f"if {src.const(STATE)}.enabled is not {STATE.enabled!r} or "
             f"{src.const(STATE)}.inference is not {STATE.inference!r}: return {miss}")
    src.line(f"if {src.const(get_default_dtype)}() is not {src.const(get_default_dtype())}: return {miss}")
    hnames = guard_holders(plan.tracked.holders, src, miss, known, storages)
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
            if not graph_freed(t._grad_fn):
                raise Unplannable("returns a tensor whose autograd graph is still alive (its backward would run "
                                  "outside the compiled function)")
            grad_fn = f"{src.const(freed_node)}({src.const(type(t._grad_fn))})"
        escaping.add(rec.root[ka])
        escaping.add(rec.root[kb])
        st = storages.get(id(t._storage))
        if st is None:
            st = storages[id(t._storage)] = f"_st{len(storages)}"
            tail.line(f"{st} = {src.const(new_storage)}({later(kb)}, {t._storage.version})")
        base = tensor_code(t._base) if t._base is not None else "None"
        code = made[id(t)] = f"_t{len(made)}"
        tail.line(f"{code} = {src.const(new_tensor)}({src.const(type(t))}, {later(ka)}, {src.const(t._shape)}, "
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
        effects.append(write_code(h, value_code(after), src))
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


def _plan_buffers(plan: Plan, src: Source, slot_name: _SlotNames, escaping: set) -> None:
    """Name every slot; allocate the planned ones now (their names become constants)."""
    rec = plan.rec
    written = set()
    for _bi, method, targs, _kw, _res in rec.steps:
        positions = _WRITES.get(method)
        refs = _refs([targs[i] for i in positions if i < len(targs)]) if positions else _refs(targs)
        written.update(rec.root[r] for r in refs)
    shared = _share_buffers(plan, escaping)
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
            array = shared[k]
        elif kind == "upload":
            array = backend.from_bytes(desc[1], desc[2], desc[3])
        else:
            base = src.ns[slot_name(desc[1].k)] if isinstance(desc[1], SlotRef) else desc[1]
            array = backend.view(base, *desc[2:]) if kind == "view" else backend.reshape(base, desc[2])
        slot_name.names[k] = src.const(array)
    plan.per_call = per_call


def _share_buffers(plan: Plan, escaping: set) -> dict:
    """``{slot: array}`` for the planned buffers (``empty`` slots nothing outside holds),
    sharing memory between buffers of one backend, shape and dtype whose lifetimes do not
    overlap. A buffer lives from its allocation to the last call that uses it or one of
    its views; one allocated while another is still live never takes its memory, so a
    kernel never reads and writes one array through two names."""
    rec = plan.rec
    events = _scheduled_events(plan)   # a fused program reads all its inputs while it writes its outs
    last = {}
    for i, (kind, item) in enumerate(events):
        refs = [item] if kind == "slot" else _refs(item[2]) + _refs(list(item[3].values()))
        for k in refs:
            last[rec.root[k]] = i
    born = {item: i for i, (kind, item) in enumerate(events) if kind == "slot"}
    free, busy, arrays = {}, [], {}
    for k in sorted((k for k, d in enumerate(rec.slots) if d[0] == "empty" and rec.root[k] == k
                     and k not in escaping), key=born.__getitem__):
        now = born[k]
        still = []
        for end, key, array in busy:
            if end < now:
                free.setdefault(key, []).append(array)
            else:
                still.append((end, key, array))
        busy = still
        key = (rec.slot_backend[k], rec.slots[k][1], rec.slots[k][2])
        pool = free.get(key)
        array = pool.pop() if pool else plan.backends[key[0]].empty(key[1], key[2])
        arrays[k] = array
        busy.append((last.get(k, now), key, array))
    return arrays


def _scheduled_events(plan: Plan) -> list:
    """The recording's events as the replay runs them: on a fusing device, each
    elementwise chain is one ``fused_elementwise`` step, which reads every input while it
    writes its outs (so buffer lifetimes are measured on these events, not the recorded
    ones: a buffer that dies inside a chain must not lend its memory to the chain's out)."""
    if any(b.fuses_elementwise for b in plan.backends):
        return fuse(plan.rec.events, plan.rec, plan.backends, plan.escaping)
    return plan.rec.events


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
    events = _scheduled_events(plan)
    lines = []
    methods = {}

    def method(bi: int, name: str) -> str:
        if (bi, name) not in methods:
            methods[bi, name] = src.const(getattr(plan.backends[bi], name), name)
        return methods[bi, name]

    pending = []                     # constant steps of one preparing backend, not yet written

    def flush():
        if not pending:
            return
        bi = pending[0][0]
        calls = [(name, _constant(targs, plan, slot_name, src), _constant(tkw, plan, slot_name, src))
                 for _bi, name, targs, tkw, _res in pending]
        prepared = plan.backends[bi].prepare(calls)
        if prepared is None:
            lines.extend(_call_line(step, method, slot_name, src) for step in pending)
        else:
            lines.append(f"{src.const(prepared, 'prepared')}()")
        pending.clear()

    for kind, item in events:
        if kind == "step":
            bi = item[0]
            if type(plan.backends[bi]).prepare is not Backend.prepare and \
                    _constant((item[2], item[3]), plan, slot_name, src) is not _DYNAMIC:
                if pending and pending[0][0] != bi:
                    flush()
                pending.append(item)
                continue
            flush()
            lines.append(_call_line(item, method, slot_name, src))
            continue
        k = item
        if k not in plan.per_call:
            continue
        flush()
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
    flush()
    return lines


#: what :func:`_constant` returns for a template that changes between replays
_DYNAMIC = object()


def _constant(t, plan: Plan, slot_name: _SlotNames, src: Source):
    """The value of a recorded argument when it is the same at every replay (arrays
    planned once, the pinned arrays of parameters, constants), else :data:`_DYNAMIC`
    (an array made per call, an argument's array, a symbolic number)."""
    if isinstance(t, SlotRef):
        return _DYNAMIC if t.k in plan.per_call else src.ns[slot_name(t.k)]
    if isinstance(t, SymRef):
        return _DYNAMIC
    if isinstance(t, (list, tuple, dict)):
        items = t.items() if isinstance(t, dict) else enumerate(t)
        values = {}
        for key, v in items:
            values[key] = _constant(v, plan, slot_name, src)
            if values[key] is _DYNAMIC:
                return _DYNAMIC
        if isinstance(t, dict):
            return values
        return type(t)(values.values()) if type(t) in (list, tuple) else t
    return t


def _call_line(step, method, slot_name, src: Source) -> str:
    bi, name, targs, tkw, _res = step
    args = ", ".join([template_code(a, slot_name, src) for a in targs] +
                     [f"{k}={template_code(v, slot_name, src)}" for k, v in tkw.items()])
    return f"{method(bi, name)}({args})"
