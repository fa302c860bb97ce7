"""The one mechanism behind every elementwise op: a spec in, the op function out.

An elementwise op is declared by its kernel, its dtype rule, its checks and its
derivatives (one formula per input, written with plugrad ops so that they are
differentiable again). :func:`unary` and :func:`binary` turn that into the op
function, its ``grad_fn`` class and its in-place form (``plugrad.ops.forms``):

    sin = unary("sin", grad=lambda g, x: g * cos(x))
    mul = binary("mul", grads=(lambda g, b: g * b, lambda g, a: g * a))

A formula names what it needs by its parameters: ``g`` (the incoming gradient),
``x`` (unary input), ``a``/``b`` (binary inputs; ``b`` may be a Python number),
``result``, or an attribute the op sets on its node (``alpha``); ``UNCHANGED`` is the
formula ``g -> g``, applied without a call, and ``times("b")``/``over("b")`` are
``g * b``/``g / b`` run by the ``operator`` module (no Python frame). The node saves
exactly the tensors the formulas of the inputs that need a gradient name, and
nothing else; a saved result is relinked to the node for double backward
(``Node.output_alias``), never kept as the output itself (no reference cycle).

The common calls take a fast path, the same for every op: the dtype rule and the
dtype checks run once per (op, operand dtypes, operand kinds) and their outcome is
cached as a plan (compute dtype, result dtype, value check); a call with a cached
plan only computes the shape, calls the kernel and, when autograd records, makes
the node. Calls the plan does not cover (operands on two devices, NumPy scalars, a
number first) take the general path, which converts them and then does the same.
"""

from __future__ import annotations

import inspect
import itertools
import operator
import sys

from ..autograd import anomaly_mode
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, edge_of, next_sequence_number, record
from ..dtypes import bool_, combine_tiers, get_default_dtype, on_default_dtype_change, promote_types, scalar_dtype
from ..layout import broadcast_shapes
from ..tensor import Tensor, empty_like_layout, make
from .dispatch import as_operand, cast, check_same_device, write_out
from .declare import declare

__all__ = ["UNCHANGED", "times", "over", "unary", "binary", "compute_unary", "compute_binary", "result_dtype",
           "node_class", "record_pointwise", "UnarySpec", "BinarySpec"]

_NUMBER_CLASSES = frozenset({float, int, bool})
_OPERAND_TYPES = (Tensor, int, float)   # bool is an int


# ---- untracked compute: the general path of every elementwise op --------------------------

def result_dtype(a, b):
    """PyTorch's result dtype of ``a op b`` (either may be a Python number, not both):
    dimensioned tensors outrank 0-d tensors, which outrank numbers, within a category."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a._dtype, b._dtype
            if da is db:
                return da
            a0, b0 = not a._shape, not b._shape
            if a0 == b0:
                return promote_types(da, db)
            return combine_tiers(db, da) if a0 else combine_tiers(da, db)
        return combine_tiers(a._dtype, scalar_dtype(b))
    return combine_tiers(b._dtype, scalar_dtype(a))


def compute_binary(op: str, a, b, fname: str, *, bool_out: bool = False, dtype=None) -> Tensor:
    """``a op b`` as a new tensor, untracked (one of ``a``/``b`` may be a Python number);
    computed in ``dtype`` (default: the promoted dtype), bool out for comparisons."""
    if isinstance(a, Tensor):
        t = a
        if isinstance(b, Tensor) and b._backend is not a._backend:
            b = check_same_device(a, b, fname)
    else:
        t = b
    cd = dtype or result_dtype(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        sa, sb = a._shape, b._shape
        shape = sa if sa == sb else broadcast_shapes(sa, sb)
    else:
        shape = t._shape
    aa = (a._a if a._dtype is cd else cast(a, cd)._a) if isinstance(a, Tensor) else cd._py(a)
    bb = (b._a if b._dtype is cd else cast(b, cd)._a) if isinstance(b, Tensor) else cd._py(b)
    od = bool_ if bool_out else cd
    backend = t._backend
    out = backend.empty(shape, od)
    backend.binary(op, aa, bb, out)
    return make(backend, out, shape, od)


def compute_unary(op: str, x: Tensor, *, dtype=None, bool_out: bool = False) -> Tensor:
    """``op(x)`` as a new tensor, computed in ``dtype`` (default x's), untracked."""
    cd = dtype or x._dtype
    xa = x._a if x._dtype is cd else cast(x, cd)._a
    backend = x._backend
    od = bool_ if bool_out else cd
    out = backend.empty(x._shape, od)
    backend.unary(op, xa, out)
    return make(backend, out, x._shape, od)


# ---- derivatives: formulas -> a node class -----------------------------------------------------

class _Unchanged:
    """The derivative formula ``g -> g`` (``d(a + b)/da``): backward passes the incoming
    gradient on without a call."""
    __slots__ = ()

    def __call__(self, g):
        return g

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


class PointwiseNode(Node):
    """The base of the nodes :func:`node_class` makes (see the module docstring).

    A class per op, whose ``backward`` and recorders are generated from its formulas
    (:func:`node_class`); class attributes: ``saves`` (the operand names the node may
    save, in order: x/a/b and ``result``), ``save_codes`` (by which inputs need a
    gradient, what to save: for each name of ``saves``, True to keep it), ``attrs``
    (node attributes the formulas read, like ``alpha``, whose defaults are class
    attributes). ``number``: the value of the operand that was a Python number (None
    when all were tensors), ``_number_a``: whether that operand was ``a`` (else ``b``).
    Two slots rather than a ``(name, value)`` tuple: one object fewer per node for the
    cycle collector to visit when it rescans a live graph."""

    __slots__ = ("number", "_number_a")
    saves = ()
    save_codes = {}
    attrs = ()


def times(name: str):
    """The formula ``g * <name>`` (``d(a*b)/da = g * b`` is ``times("b")``), run as
    ``operator.mul``: no Python frame in the hottest backward formulas."""
    return operator.mul, (name,)


def over(name: str):
    """The formula ``g / <name>`` (``d(a/b)/da = g / b`` is ``over("b")``)."""
    return operator.truediv, (name,)


def _formula_and_args(formula):
    """``(callable, names of its arguments after g)`` of a formula: a function whose
    parameters name them, a ``(callable, names)`` pair, UNCHANGED or None."""
    if formula is None or formula is UNCHANGED:
        return formula, ()
    if isinstance(formula, tuple):
        return formula
    return formula, tuple(inspect.signature(formula).parameters)[1:]


def _saved_expression(name, users, requires):
    """The expression a recorder saves for operand ``name``: the operand when an input
    whose formula reads it needs a gradient (``requires[i]``: an expression, or a
    constant True/False), else None."""
    conditions = [requires[i] for i in users if requires[i] is not False]
    if not conditions:
        return "None"
    value = "r.detach()" if name == "result" else name
    if True in conditions:
        return value
    return f"({value} if {' or '.join(conditions)} else None)"


def _new_node_lines(saved) -> list:
    """The source lines that make ``node``, a ``cls``, saving the expressions ``saved``
    (none: it saves nothing): what ``Node.__init__`` and ``Node.save`` do, written out,
    as recording runs for every op."""
    lines = ["    node = new(cls)",
             "    node._pre_hooks = node._hooks = None",
             "    node._trace = anomaly_mode.creation_trace() if anomaly_mode.ENABLED else None"]
    if not saved:
        return lines + ["    node._saved = None"]
    if len(saved) > 2:
        return lines + [f"    node.save({', '.join(saved)})"]
    for i, e in enumerate(saved):    # Node.save's slots for one or two tensors
        lines += [f"    s = node._s{i} = {e}",
                  f"    node._v{i} = s._storage.version if s is not None else 0"]
    return lines + [f"    node._saved = {len(saved)}"]


def _edge_lines(inputs) -> list:
    """The source lines that connect ``node`` to the edges of one or two tensor operands
    and make it the grad_fn of ``r``, a fresh result (``output_nr`` 0 already): what
    ``record`` does for them, written out, as it runs for every recorded op. The
    recorders are called only when an operand requires a gradient (with one operand,
    that one: it has a grad_fn or is a leaf)."""
    lines = [f"    node._arity = {len(inputs)}"]
    for i, n in enumerate(inputs):
        test = "if" if len(inputs) == 1 else "elif"
        if len(inputs) > 1:
            lines += [f"    if not {n}._requires_grad:", f"        node._n{i} = None", f"        node._o{i} = 0"]
        lines += [f"    {test} {n}._grad_fn is not None and {n}._base is None:",
                  f"        node._n{i} = {n}._grad_fn", f"        node._o{i} = {n}._output_nr",
                  "    else:", f"        node._n{i}, node._o{i} = edge_of({n})"]
    if len(inputs) == 1:
        lines += ["    node._n1 = None", "    node._o1 = 0"]
    meta = ", ".join(f"{n}._shape, {n}._dtype.name" for n in inputs)
    return lines + [f"    node._in_meta = ({meta})", "    node._nx = None",
                    "    node._seq = next_sequence_number()",   # after the nodes of the operands' edges
                    "    r._grad_fn = node", "    r._requires_grad = True"]


def node_class(name: str, formulas, inputs=("a", "b"), defaults=None, doc=None):
    """The ``grad_fn`` class ``name`` for ``formulas`` (one per input of ``inputs``, None
    for an input that gets no gradient); ``defaults``: node attributes and their
    default values.

    Its ``backward`` and its recorders are generated as Python source, the way
    ``dataclasses`` writes ``__init__``: the formulas are the declaration, and the code
    that runs for every recorded op and every backward step is as direct as a
    hand-written node (no per-call loops over the formulas). The recorders:
    ``record_tensors(r, *operands)`` (every operand a tensor) and, for two inputs,
    ``record_number(r, a, b)`` (``b`` a Python number; the node of a number operand
    has one edge when ``inputs`` is just ``a``)."""
    formulas, args = zip(*(_formula_and_args(f) for f in formulas))
    attrs = tuple(defaults or ())
    unknown = {n for a in args for n in a} - {*inputs, "result", *attrs}
    if unknown:
        raise TypeError(f"{name}: a derivative formula reads {sorted(unknown)}, which is neither an operand "
                        f"({', '.join(inputs)}), the result, nor a node attribute with a default")
    saves = tuple(n for n in (*inputs, "result") if any(n in a for a in args))
    users = {n: [i for i, a in enumerate(args) if n in a] for n in saves}
    env = {"__name__": __name__, "record": record, "edge_of": edge_of, "next_sequence_number": next_sequence_number,
           "new": object.__new__, "anomaly_mode": anomaly_mode,
           **{f"F{i}": f for i, f in enumerate(formulas)}}
    lines = ["def backward(self, g):"]
    if saves:
        nothing = (None,) * len(saves)   # what a node that saved nothing (none was needed) reads
        if len(saves) <= 2:
            # the recorders keep one or two tensors in the slots (Node.save): read there, with
            # saved_tensors' version check written out; anything else (freed, nothing saved)
            # goes through saved_tensors and its errors
            lines.append(f"    if self._saved == {len(saves)}:")
            for i, n in enumerate(saves):
                lines += [f"        {n} = self._s{i}",
                          f"        if {n} is not None and {n}._storage.version != self._v{i}:",
                          "            self._modified_error()"]
            lines.append("    else:")
            lines.append(f"        {', '.join(saves)}, = self.saved_tensors or {nothing}")
        else:
            lines.append(f"    {', '.join(saves)}, = self.saved_tensors or {nothing}")
    if "result" in saves:
        lines.append("    result = self.output_alias(result) if result is not None else None")
    operands_saved = [n for n in saves if n != "result"]
    if operands_saved:
        replaced = [(n, cond) for n, cond in (("a", "self._number_a"), ("b", "not self._number_a"))
                    if n in operands_saved]
        if replaced:
            lines.append("    if self.number is not None:")
            lines += [f"        if {cond}:\n            {n} = self.number" for n, cond in replaced]
    lines += [f"    {n} = self.{n}" for n in attrs if any(n in a for a in args)]
    # the node of each input's edge (None: that input takes no gradient), from the slots
    lines += [f"    e{i} = self._n{i}" if i < 2 else f"    e{i} = self._nx[{2 * (i - 2)}]"
              for i in range(len(formulas))]
    grads = []
    for i, (f, a) in enumerate(zip(formulas, args)):
        if f is None:
            grads.append("None")
        elif f is UNCHANGED:
            grads.append(f"(None if e{i} is None else g)")
        else:
            grads.append(f"(None if e{i} is None else F{i}(g{''.join(', ' + n for n in a)}))")
    lines.append(f"    return {', '.join(grads)},")
    # recorders
    operand_list = ", ".join(inputs)
    requires = [f"{n}._requires_grad" for n in inputs]
    saved = [_saved_expression(n, users[n], requires) for n in saves]
    lines += [f"def record_tensors(r, {operand_list}):", *_new_node_lines(saved),
              "    node.number = None",
              *(_edge_lines(inputs) if len(inputs) <= 2 else [f"    record(node, ({operand_list},), r)"])]
    if inputs[0] == "a":
        # b a number: only a needs a gradient, and b is never saved (the node keeps the number)
        requires = [True, False]
        saved = [_saved_expression(n, users[n], requires) if n != "b" else "None" for n in saves]
        lines += ["def record_number(r, a, b):", *_new_node_lines(saved if any(x != "None" for x in saved) else ()),
                  "    node.number = b",
                  "    node._number_a = False",
                  f"    record(node, {'(a, None)' if len(inputs) == 2 else '(a,)'}, r)"]
    body = {"saves": saves, "attrs": attrs, "__module__": __name__,
            "save_codes": {needs: tuple(any(needs[i] for i in users[n]) for n in saves)
                           for needs in itertools.product((False, True), repeat=len(formulas))},
            # attributes live in the instance dict only when an op sets them (add's alpha)
            "__slots__": ("__dict__",) if attrs else (),
            "__doc__": doc or f"backward of {name[:-len('Backward0')] if name.endswith('Backward0') else name}",
            **(defaults or {})}
    cls = env["cls"] = type(name, (PointwiseNode,), body)
    exec("\n".join(lines), env)   # the source is built above from names, never from user input
    cls.backward = env["backward"]
    cls.record_tensors = staticmethod(env["record_tensors"])
    if inputs[0] == "a":
        cls.record_number = staticmethod(env["record_number"])
    return cls


def record_pointwise(node_cls, r: Tensor, operands: dict, inputs: tuple, number=None, **attrs) -> None:
    """Make a ``node_cls`` node ``r``'s grad_fn, on the general path: save the tensors
    that the formulas of the inputs needing a gradient read (``operands`` maps x/a/b to
    tensors; ``number`` the operand that is a Python number, as ``(name, value)``), set
    ``attrs`` on the node, and connect it to ``inputs`` (None for a number operand)."""
    node = node_cls()
    if number is None:
        node.number = None
    else:
        node.number = number[1]
        node._number_a = number[0] == "a"
    for k, v in attrs.items():
        setattr(node, k, v)
    if node_cls.saves:
        keep = node_cls.save_codes[tuple(t is not None and t._requires_grad for t in inputs)]
        saved = [None if not k or (number is not None and n == number[0]) else
                 r.detach() if n == "result" else operands[n] for n, k in zip(node_cls.saves, keep)]
        if any(t is not None for t in saved):
            node.save(*saved)
    record(node, inputs, r)


# ---- plans: the cached outcome of the dtype rule and the dtype checks ---------------------------

_PLAN_CACHES = []


def _forget_plans(_new_default=None) -> None:
    """Plans depend on the default float dtype (an int operand of a float op computes in
    it): changing the default forgets them."""
    for cache in _PLAN_CACHES:
        cache.clear()


on_default_dtype_change(_forget_plans)


class _Spec:
    """What unary and binary specs share: the plan cache and the node class."""

    def __init__(self, name, kernel, result, check, node):
        self.name = name
        self.kernel = kernel or name
        self.result = result
        self.check = check
        self.node = node
        self.plans = {}
        _PLAN_CACHES.append(self.plans)

    def out_dtype(self, cd):
        return bool_ if self.result == "bool" else cd


class UnarySpec(_Spec):
    """An elementwise op of one tensor. ``result``: "same" (the input's dtype), "float"
    (integers compute in the default float dtype) or "bool" (a predicate)."""

    def plan(self, x: Tensor):
        dt = x._dtype
        plan = self.plans.get(dt)
        if plan is None:
            cd = get_default_dtype() if self.result == "float" and not dt.is_floating_point else dt
            if self.check is not None:
                self.check(x, cd)
            plan = self.plans[dt] = (cd, self.out_dtype(cd))
        return plan


class BinarySpec(_Spec):
    """An elementwise op of two operands (the second may be a Python number). ``result``:
    "promote" (PyTorch's type promotion), "float" (promoted, then integers compute in the
    default float dtype) or "bool" (computed in the promoted dtype, bool out). Either
    operand may be a Python number (``number_input``/``number_other`` False: PyTorch
    refuses one there, with the TypeError of its argument parser).
    ``check(a, b, cd)`` refuses dtypes (cached with the plan once it passes);
    ``int_value_check(a, b, cd)`` inspects values and runs on every call whose compute
    dtype is not floating (integer division by zero). ``scalar_node``: the node class
    when ``b`` is a number, where PyTorch has one (it then has one edge, to ``a``)."""

    def __init__(self, name, kernel, result, check, node, int_value_check=None, scalar_node=None,
                 number_input=True, number_other=True):
        super().__init__(name, kernel, result, check, node)
        self.int_value_check = int_value_check
        self.scalar_node = scalar_node
        self.number_input = number_input
        self.number_other = number_other

    def plan(self, a: Tensor, b):
        """``(compute dtype, out dtype, value check)`` for ``a`` (a tensor) and ``b`` (a
        tensor on a's device, or a Python number)."""
        da = a._dtype
        if b.__class__ is Tensor or isinstance(b, Tensor):
            db = b._dtype
            key = da if da is db else (da, db, not a._shape, not b._shape)
        else:
            key = (da, b.__class__)
        plan = self.plans.get(key)
        if plan is None:
            cd = result_dtype(a, b)
            if self.result == "float" and not cd.is_floating_point:
                cd = get_default_dtype()
            if self.check is not None:
                self.check(a, b, cd)
            plan = self.plans[key] = (cd, self.out_dtype(cd), None if cd.is_floating_point else self.int_value_check)
        return plan

    def compute(self, a: Tensor, b, dest=None) -> Tensor:
        """``a op b`` untracked, by the plan; into ``dest`` (an array of the result's
        dtype and shape) when given."""
        cd, od, value_check = self.plan(a, b)
        if value_check is not None:
            value_check(a, b, cd)
        if b.__class__ is Tensor or isinstance(b, Tensor):
            sa, sb = a._shape, b._shape
            shape = sa if sa == sb else broadcast_shapes(sa, sb)
            bb = b._a if b._dtype is cd else cast(b, cd)._a
        else:
            shape = a._shape
            bb = cd._py(b)
        backend = a._backend
        arr = backend.empty(shape, od) if dest is None else dest
        backend.binary(self.kernel, a._a if a._dtype is cd else cast(a, cd)._a, bb, arr)
        return make(backend, arr, shape, od) if dest is None else None

    def compute_general(self, a, b) -> Tensor:
        """``a op b`` untracked, for operands from :meth:`operands` (``a`` may be a number)."""
        if isinstance(a, Tensor):
            return self.compute(a, b)
        cd = result_dtype(a, b)
        if self.result == "float" and not cd.is_floating_point:
            cd = get_default_dtype()
        if self.check is not None:
            self.check(a, b, cd)
        if self.int_value_check is not None and not cd.is_floating_point:
            self.int_value_check(a, b, cd)
        return compute_binary(self.kernel, a, b, self.name, bool_out=self.result == "bool", dtype=cd)

    def record(self, r: Tensor, a, b, **attrs) -> None:
        """Make ``r = a op b``'s node (either operand may be a number): ``node`` for two
        tensors, ``scalar_node`` otherwise."""
        if a.__class__ is Tensor and b.__class__ is Tensor or isinstance(a, Tensor) and isinstance(b, Tensor):
            record_pointwise(self.node, r, {"a": a, "b": b}, (a, b), None, **attrs)
        elif isinstance(a, Tensor):
            if self.scalar_node is not None:   # PyTorch's own node for a number operand: one edge
                record_pointwise(self.scalar_node, r, {"a": a}, (a,), ("b", b), **attrs)
            else:
                record_pointwise(self.node, r, {"a": a}, (a, None), ("b", b), **attrs)
        else:
            record_pointwise(self.node, r, {"b": b}, (None, b), ("a", a), **attrs)

    def operands(self, a, b):
        """The general path's operands: tensors on one device or Python numbers (NumPy
        scalars become numbers), with PyTorch's errors for anything else."""
        if not isinstance(a, Tensor):
            if not self.number_input or not isinstance(b, Tensor):
                raise TypeError(f"{self.name}(): argument 'input' (position 1) must be Tensor, not "
                                f"{type(a).__name__}")
            return as_operand(a, self.name, "input"), b
        b = as_operand(b, self.name)
        if not isinstance(b, Tensor):
            if not self.number_other:
                raise TypeError(f"{self.name}(): argument 'other' (position 2) must be Tensor, not "
                                f"{type(b).__name__}")
        elif b._backend is not a._backend:
            b = check_same_device(a, b, self.name)
        return a, b

    def __call__(self, a, b) -> Tensor:
        """``a op b`` with autograd: the fast path when the operands are already plain,
        the general path's conversions otherwise."""
        if a.__class__ is Tensor and ((b.__class__ is Tensor and b._backend is a._backend) or
                                      (b.__class__ in _NUMBER_CLASSES and self.number_other)):
            r = self.compute(a, b)
            tracked = a._requires_grad or (b.__class__ is Tensor and b._requires_grad)
        else:
            a, b = self.operands(a, b)
            r = self.compute_general(a, b)
            tracked = (isinstance(a, Tensor) and a._requires_grad) or (isinstance(b, Tensor) and b._requires_grad)
        if tracked and self.node is not None and STATE.enabled:
            self.record(r, a, b)
        return r


# ---- declaring elementwise ops ------------------------------------------------------------------

def _declaring_module() -> str:
    """The module whose code called ``unary``/``binary``: the op's family, for its
    ``__module__`` and its declaration (``unary`` -> ``op`` -> here is two frames)."""
    return sys._getframe(2).f_globals.get("__name__", __name__)


def unary(name, kernel=None, *, grad=None, result="same", check=None, node=None, aliases=(), inplace=True,
          declared=True, doc=None):
    """Declare the unary elementwise op ``name``: ``kernel`` (default ``name``), its
    derivative ``grad(g, x|result)`` (None: not differentiable), its dtype rule and
    ``check(x, compute_dtype)``. Gives ``plugrad.<name>``, ``Tensor.<name>`` and
    ``Tensor.<name>_`` (``declared=False``: the function only, for an op written by hand
    around it)."""
    node_cls = node_class(node or f"{name.capitalize()}Backward0", (grad,), ("x",)) if grad is not None else None
    spec = UnarySpec(name, kernel, result, check, node_cls)
    plans, kernel = spec.plans, spec.kernel

    def op(input, *, out=None) -> Tensor:
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        dt = input._dtype
        cd, od = plans.get(dt) or spec.plan(input)
        backend = input._backend
        r = empty_like_layout(backend, input._shape, od)
        backend.unary(kernel, input._a if dt is cd else cast(input, cd)._a, r._a)
        if node_cls is not None and input._requires_grad and STATE.enabled:
            node_cls.record_tensors(r, input)
        return r if out is None else write_out(out, r, name)

    op.__name__ = op.__qualname__ = name
    op.__module__ = _declaring_module()
    op.__doc__ = doc or f"Elementwise ``{name}``."
    op.spec = spec
    return declare(op, aliases=aliases, method=True, inplace=inplace) if declared else op


def _binary_function(name, spec, as_operator):
    """The function of a binary op: the fast path inline (a cached plan without a value
    check; two tensors on one device, or a tensor and a Python number), anything else
    through ``spec`` (``BinarySpec.__call__``: conversions, the first plan, checks).
    ``as_operator``: the form Python's operators call (``x * y``), which returns
    NotImplemented for an operand that is neither a tensor nor a number, so that Python
    tries the other operand's reflected method."""
    plans, kernel, node_cls = spec.plans, spec.kernel, spec.node
    number_node = spec.scalar_node or node_cls

    def op(input, other, *, out=None) -> Tensor:
        if input.__class__ is Tensor:
            oc = other.__class__
            if oc is Tensor and other._backend is input._backend:
                da, db = input._dtype, other._dtype
                plan = plans.get(da if da is db else (da, db, not input._shape, not other._shape))
                if plan is not None and plan[2] is None:
                    cd, od = plan[0], plan[1]
                    sa, sb = input._shape, other._shape
                    shape = sa if sa == sb else broadcast_shapes(sa, sb)
                    backend = input._backend
                    r = empty_like_layout(backend, shape, od)
                    backend.binary(kernel, input._a if da is cd else cast(input, cd)._a,
                                   other._a if db is cd else cast(other, cd)._a, r._a)
                    if node_cls is not None and (input._requires_grad or other._requires_grad) and STATE.enabled:
                        node_cls.record_tensors(r, input, other)
                    return r if out is None else write_out(out, r, name)
            elif oc is float or oc is int:
                plan = plans.get((input._dtype, oc))
                if plan is not None and plan[2] is None:
                    cd, od = plan[0], plan[1]
                    backend = input._backend
                    r = empty_like_layout(backend, input._shape, od)
                    backend.binary(kernel, input._a if input._dtype is cd else cast(input, cd)._a, cd._py(other), r._a)
                    if node_cls is not None and input._requires_grad and STATE.enabled:
                        number_node.record_number(r, input, other)
                    return r if out is None else write_out(out, r, name)
        if as_operator and not (isinstance(other, _OPERAND_TYPES) or hasattr(other, "dtype")):
            return NotImplemented
        r = spec(input, other)
        return r if out is None else write_out(out, r, name)

    return op


def binary(name, kernel=None, *, grads=None, result="promote", check=None, int_value_check=None, node=None,
           scalar_node=None, number_input=True, number_other=True, aliases=(), method=True, inplace=True, declared=True,
           defaults=None, doc=None):
    """Declare the binary elementwise op ``name``: ``kernel`` (default ``name``), its
    derivatives ``grads`` (a formula per operand, see the module docstring; None: not
    differentiable), its dtype rule and checks (see :class:`BinarySpec`). Gives
    ``plugrad.<name>``, ``Tensor.<name>`` and ``Tensor.<name>_`` (``declared=False``:
    the function only, for an op written by hand around it).

    The function runs the fast path inline (a cached plan without a value check, two
    tensors on one device or a tensor and a Python number); anything else goes to
    ``BinarySpec.__call__``, which converts the operands, makes the plan and checks."""
    node_cls = scalar_cls = None
    if grads is not None:
        node_cls = node_class(node or f"{name.capitalize()}Backward0", grads, defaults=defaults)
        scalar_cls = node_class(scalar_node, grads[:1], ("a",), defaults) if scalar_node else None
    spec = BinarySpec(name, kernel, result, check, node_cls, int_value_check, scalar_cls, number_input, number_other)
    op = _binary_function(name, spec, as_operator=False)
    op.operator = _binary_function(name, spec, as_operator=True)
    op.__name__ = op.__qualname__ = name
    op.__module__ = _declaring_module()
    op.__doc__ = doc or f"Elementwise ``{name}`` with broadcasting and type promotion."
    op.spec = spec
    return declare(op, aliases=aliases, method=method, inplace=inplace) if declared else op
