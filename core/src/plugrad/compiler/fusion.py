"""Grouping a recording's elementwise chains into ``Backend.fused_elementwise`` programs.

Only for a backend whose ``fuses_elementwise`` is True (the contract is in
``Backend.fused_elementwise``: bit-identical to the unfused kernels), and only groups
its ``fusion_pays`` accepts (by size, or by program). A group is a run
of ``unary``/``binary``/``where``/``copy``/``fill`` calls on one backend whose outs are
whole buffers of one shape (new ones, or a parameter's, an optimizer state's: in-place
updates join the chain that computes them). Within a group, a value written by one step and read by a
later one is a register; a buffer is written to memory only when something outside
the group may read it (a later step, a view, the caller, an external tensor).

A ``fill`` of a whole buffer joins as a ``copy`` of its scalar: zeroing a gradient
after the update that read it costs no pass of its own.

A group does not take a step that would make registers and memory disagree (a read of
another view of a buffer the group wrote, a write into a buffer the group read through
another view) or that computes another shape: it passes over it, and over any other
kernel, and later steps that touch none of the storages the passed steps reference still
join (see :func:`_grow`; a step holding a constant array, whose storage is unknown, is
never passed over). An allocation inside a run (a per-call ``empty``) moves before
the group; anything else (a view made per call) ends the group.
"""

from __future__ import annotations

from ..dtypes import dtype
from ..layout import numel
from .recorder import ELEMENTWISE, SlotRef, SymRef

__all__ = ["fuse"]


def fuse(events: list, rec, backends: list, escaping: set) -> list:
    """``events`` with each fusable run of two or more steps replaced by one
    ``fused_elementwise`` step."""
    uses = {}                        # root slot -> indices of the events that reference it
    for i, (kind, item) in enumerate(events):
        if kind == "step":
            for k in _refs(item[2]) + _refs(list(item[3].values())):
                uses.setdefault(rec.root[k], set()).add(i)
    viewed = {rec.root[k] for k, d in enumerate(rec.slots) if rec.root[k] != k}
    out = []
    pending = list(enumerate(events))   # (index in ``events``, event): a group's index is the first
    while pending:
        group = _Group(rec, backends)
        end = _grow(group, pending, rec)
        if end is None:
            out.append(pending[0][1])
            del pending[0]
            continue
        fused = group.emit(uses, viewed, escaping)
        if not group.pays(fused[2][0]):
            out.append(pending[0][1])
            del pending[0]
            continue
        inside = set(group.index)
        passed = [pending[k] for k in range(end) if pending[k][0] not in inside]
        out += [e for _, e in passed if e[0] == "slot"]                  # allocations before the group
        out.append(("step", fused))
        pending = [p for p in passed if p[1][0] == "step"] + pending[end:]   # what it passed over, after it
    return out


#: how many events past its start a group looks for more steps
_LOOKAHEAD = 32


def _grow(group, pending: list, rec):
    """Add to ``group`` the steps of ``pending`` (``(index, event)`` pairs) from the first on
    that it can take; return the position after its last step, or None when it took fewer
    than two.

    A step the group cannot take (another shape, a matmul...) is passed over, not an end,
    when no later step of the group touches a storage it references: the group then runs
    before it, which changes nothing, since the passed step neither reads nor writes what
    the moved steps read or write (the steps passed over are grouped in turn afterwards).
    An allocation is hoisted before the group; any other slot event (a view made per
    call) ends it. So an optimizer's update of one parameter joins the zeroing of its
    gradient that comes after the other parameters' updates."""
    touched = set()                  # roots referenced by the steps passed over
    end = None
    for j, (index, (kind, item)) in enumerate(pending[:_LOOKAHEAD]):
        if kind == "slot":
            if rec.slots[item][0] != "empty":
                break
        elif not group.steps:
            if not group.accept(item):
                return None
            group.index.append(index)
        elif touched and _holds_constant_array(item):
            break
        elif not {rec.root[k] for k in _step_refs(item)} & touched and group.accept(item):
            group.index.append(index)
            end = j + 1
        elif _holds_constant_array(item):
            break
        else:
            touched |= {rec.root[k] for k in _step_refs(item)}
    return end


def _step_refs(step) -> list:
    return _refs(step[2]) + _refs(list(step[3].values()))


def _holds_constant_array(step) -> bool:
    """True when the step reads or writes a device array that is a constant of the
    recording (a tensor the function reached without the tracking seeing it): which
    storage it shares is unknown, so no step moves past it, and after a pass no step
    holding one joins."""
    return any(_is_array(v) for v in list(step[2]) + list(step[3].values()))


def _is_array(t) -> bool:
    if isinstance(t, (list, tuple)):
        return any(_is_array(v) for v in t)
    return not (t is None or isinstance(t, (SlotRef, SymRef, bool, int, float, str, dtype)))


#: positions of the operands of each elementwise kernel
_OPERANDS = {"unary": (1,), "binary": (1, 2), "where": (0, 1, 2), "copy": (0,), "fill": (1,)}


class _Group:
    """A run of elementwise steps being grouped. Registers are ``("in", i)`` (input i)
    or ``("st", j)`` (the value step j computed) until :meth:`emit` numbers them."""

    def __init__(self, rec, backends):
        self.rec, self.backends = rec, backends
        self.steps, self.index, self.program = [], [], []
        self.bi = self.shape = None
        self.inputs = []             # templates of the inputs
        self.input_reg = {}          # slot or constant key -> input index
        self.reg_of = {}             # slot -> register of its current value
        self.read_roots = {}         # root -> slots read from memory under it
        self.written = set()         # roots written by the group

    def _operand(self, t):
        if isinstance(t, SlotRef):
            k = t.k
            if k in self.reg_of:
                return self.reg_of[k]
            root = self.rec.root[k]
            if root in self.written:
                return None
            if k not in self.input_reg:
                self.input_reg[k] = len(self.inputs)
                self.inputs.append(t)
                self.read_roots.setdefault(root, set()).add(k)
            return ("in", self.input_reg[k])
        # a Python number by value (2.0 twice is one input); anything else, a symbolic
        # scalar or a constant array, by identity (two arrays may print alike)
        key = ("const", type(t), repr(t)) if type(t) in (bool, int, float) else ("const", id(t))
        if key not in self.input_reg:
            self.input_reg[key] = len(self.inputs)
            self.inputs.append(t)
        return ("in", self.input_reg[key])

    def accept(self, step) -> bool:
        """Add ``step`` when it keeps the group's registers equal to memory. A ``fill``
        joins as a ``copy`` of its scalar (the program's form of a fill)."""
        bi, name, targs, tkw, _res = step
        if (name not in ELEMENTWISE and name != "fill") or tkw or not self.backends[bi].fuses_elementwise:
            return False
        out = targs[0 if name == "fill" else ELEMENTWISE[name]]
        if not isinstance(out, SlotRef):
            return False
        desc = self.rec.slots[out.k]
        if self.rec.root[out.k] != out.k:
            return False
        if desc[0] == "empty":
            shape, dtype = desc[1], desc[2]
        elif desc[0] == "ext" and desc[3] is not None:   # an in-place write into a parameter, a state tensor
            shape, dtype = desc[3]
        else:
            return False
        if self.steps and (bi != self.bi or shape != self.shape):
            return False
        if self.read_roots.get(out.k, set()) - {out.k}:
            return False
        saved = (dict(self.input_reg), list(self.inputs), {r: set(v) for r, v in self.read_roots.items()})
        regs = [self._operand(targs[i]) for i in _OPERANDS[name]]
        if any(r is None for r in regs):
            self.input_reg, self.inputs, self.read_roots = saved
            return False
        self.bi, self.shape = bi, shape
        op = targs[0] if name in ("unary", "binary") else None
        self.program.append(("copy" if name == "fill" else name, op, tuple(regs), dtype))
        self.reg_of[out.k] = ("st", len(self.steps))
        self.written.add(out.k)
        self.steps.append(step)
        return True

    def pays(self, program: tuple) -> bool:
        """The device's word on running this program fused (``Backend.fusion_pays``)."""
        nbytes = numel(self.shape) * max(step[3].itemsize for step in program)
        return self.backends[self.bi].fusion_pays(program, nbytes)

    def emit(self, uses: dict, viewed: set, escaping: set):
        """The ``fused_elementwise`` step of the group."""
        n_in = len(self.inputs)

        def number(r):
            return r[1] if r[0] == "in" else n_in + r[1]
        program = tuple((name, op, tuple(number(r) for r in regs), dtype) for name, op, regs, dtype in self.program)
        inside = set(self.index)
        outs = []
        for k, reg in self.reg_of.items():
            outside = uses.get(k, set()) - inside
            if outside or k in viewed or k in escaping or self.rec.slots[k][0] == "ext":
                outs.append((number(reg), SlotRef(k)))
        if not outs:
            k, reg = list(self.reg_of.items())[-1]
            outs.append((number(reg), SlotRef(k)))
        return (self.bi, "fused_elementwise", [program, list(self.inputs), outs], {}, None)


def _refs(t) -> list:
    if isinstance(t, SlotRef):
        return [t.k]
    if isinstance(t, (list, tuple)):
        return [k for v in t for k in _refs(v)]
    return []
