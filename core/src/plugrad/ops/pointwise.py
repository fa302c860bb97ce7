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

from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, record
from ..dtypes import bool_, combine_tiers, get_default_dtype, on_default_dtype_change, promote_types, scalar_dtype
from ..layout import broadcast_shapes
from ..tensor import Tensor, make
from .dispatch import as_operand, cast, check_same_device, write_out
from .declare import declare

__all__ = ["UNCHANGED", "times", "over", "unary", "binary", "compute_unary", "compute_binary", "result_dtype", "node_class", "record_pointwise",
           "UnarySpec", "BinarySpec"]

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
    """A node whose backward applies one formula per input (see the module docstring).

    Class attributes, set per op by :func:`node_class`:

    * ``saves``: the operand names the node may save, in order (x/a/b/result);
    * ``save_codes``: by which inputs need a gradient, for each name of ``saves`` its
      position in ``(None, first operand, second operand, result)``, 0 for "not
      needed"; ``pair_codes`` the same indexed ``[first needs][second needs]``;
      ``number_codes`` for a number second operand (empty when nothing else is needed);
    * ``attrs``: the node attributes the formulas read (``alpha``), whose defaults are
      class attributes;
    * ``plan``: per input, its formula (None: no gradient) and the positions of the
      formula's arguments in ``saved tensors + attributes``; ``plain``: True when those
      are the saved tensors as they are (no result to relink, no attribute).

    ``number``: the operand that was a Python number, as ``(name, value)`` (None when
    both were tensors)."""

    __slots__ = ("number",)
    saves = ()
    save_codes = {}
    pair_codes = ()
    number_codes = ()
    attrs = ()
    plan = ()
    plain = True

    def backward(self, g):
        grads = []
        values = None
        for (formula, where), edge in zip(self.plan, self.next_functions):
            if formula is None or edge[0] is None:
                grads.append(None)
            elif formula is UNCHANGED:
                grads.append(g)
            else:
                if values is None and where:
                    values = self.arguments()
                grads.append(_apply(formula, g, values, where))
        return tuple(grads)

    def arguments(self):
        """What the formulas read: the saved tensors, plus (in :meth:`_values`) the
        number operand and the attributes, when the op has them."""
        if self.plain and self.number is None:
            return self.saved_tensors
        return self._values(self.saved_tensors)

    def _values(self, saved) -> list:
        """The saved tensors (the result relinked for double backward), the number in its
        operand's place, then the attributes the formulas read."""
        values = list(saved)
        saves = self.saves
        if "result" in saves:
            k = saves.index("result")
            if values[k] is not None:
                values[k] = self.output_alias(values[k])
        if self.number is not None:
            name, value = self.number
            if name in saves:
                values[saves.index(name)] = value
        values.extend(getattr(self, name) for name in self.attrs)
        return values


def _apply(formula, g, values, where):
    """``formula(g, *values[where])``, written out for the usual one or two arguments."""
    if not where:
        return formula(g)
    if len(where) == 1:
        return formula(g, values[where[0]])
    if len(where) == 2:
        return formula(g, values[where[0]], values[where[1]])
    return formula(g, *[values[k] for k in where])


class BinaryNode(PointwiseNode):
    """A two-input :class:`PointwiseNode` with its backward unrolled (the hottest nodes:
    ``MulBackward0``, ``AddBackward0``...)."""

    __slots__ = ()

    def backward(self, g):
        (fa, wa), (fb, wb) = self.plan
        (na, _), (nb, _) = self.next_functions
        values = None
        if fa is None or na is None:
            ga = None
        elif fa is UNCHANGED:
            ga = g
        else:
            values = self.saved_tensors if self.plain and self.number is None else self._values(self.saved_tensors)
            ga = fa(g, values[wa[0]]) if len(wa) == 1 else _apply(fa, g, values, wa)
        if fb is None or nb is None:
            gb = None
        elif fb is UNCHANGED:
            gb = g
        else:
            if values is None:
                values = self.saved_tensors if self.plain and self.number is None else \
                    self._values(self.saved_tensors)
            gb = fb(g, values[wb[0]]) if len(wb) == 1 else _apply(fb, g, values, wb)
        return ga, gb


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


def node_class(name: str, formulas, defaults=None, doc=None):
    """The ``grad_fn`` class ``name`` applying ``formulas`` (one per input, None for an
    input that gets no gradient); ``defaults``: node attributes and their default values."""
    formulas, args = zip(*(_formula_and_args(f) for f in formulas))
    saves = tuple(n for n in ("x", "a", "b", "result") if any(n in a for a in args))
    attrs = tuple(defaults or ())
    positions = {n: k for k, n in enumerate(saves + attrs)}
    operand = {"x": 1, "a": 1, "b": 2, "result": 3}
    codes = {}
    for needs in itertools.product((False, True), repeat=len(formulas)):
        wanted = {n for need, a in zip(needs, args) if need for n in a}
        codes[needs] = tuple(operand[n] if n in wanted else 0 for n in saves)
    pair_codes = ((codes[False, False], codes[False, True]), (codes[True, False], codes[True, True])) \
        if len(formulas) == 2 else ()
    first_only = codes[(True,) + (False,) * (len(formulas) - 1)]   # the second operand is a number
    body = {"saves": saves, "save_codes": codes, "pair_codes": pair_codes, "attrs": attrs,
            "number_codes": first_only if any(c not in (0, 2) for c in first_only) else (),
            "plan": tuple((f, tuple(positions[n] for n in a)) for f, a in zip(formulas, args)),
            "plain": not attrs and "result" not in saves,
            # attributes live in the instance dict only when an op sets them (add's alpha)
            "__slots__": ("__dict__",) if attrs else (), "__module__": __name__,
            "__doc__": doc or f"backward of {name[:-len('Backward0')] if name.endswith('Backward0') else name}",
            **(defaults or {})}
    return type(name, (BinaryNode if len(formulas) == 2 else PointwiseNode,), body)


def record_pointwise(node_cls, r: Tensor, operands: dict, inputs: tuple, number=None, **attrs) -> None:
    """Make a ``node_cls`` node ``r``'s grad_fn: save the tensors that the formulas of
    the inputs needing a gradient name (``operands`` maps x/a/b to tensors; ``number``
    the operand that is a Python number, as ``(name, value)``), set ``attrs`` on the
    node, and connect it to ``inputs`` (None for a number operand)."""
    node = node_cls()
    node.number = number
    for k, v in attrs.items():
        setattr(node, k, v)
    if node_cls.saves:
        keep = node_cls.save_codes[tuple(t is not None and t._requires_grad for t in inputs)]
        node.save(*[None if not code or (number is not None and n == number[0]) else
                    r.detach() if n == "result" else operands[n] for n, code in zip(node_cls.saves, keep)])
    record(node, inputs, r)


def _record_pair(node_cls, r: Tensor, a: Tensor, b: Tensor) -> None:
    """``record_pointwise`` for two tensor operands (the fast path's case)."""
    node = node_cls()
    node.number = None
    codes = node_cls.pair_codes[a._requires_grad][b._requires_grad]
    if codes:   # written out, no temporary container: this runs once per recorded op
        first = codes[0]
        first = a if first == 1 else b if first == 2 else r.detach() if first == 3 else None
        if len(codes) == 1:
            node.save(first)
        else:
            second = codes[1]
            second = a if second == 1 else b if second == 2 else r.detach() if second == 3 else None
            if len(codes) == 2:
                node.save(first, second)
            else:   # a, b and the result
                node.save(first, second, r.detach() if codes[2] == 3 else None)
    record(node, (a, b), r)


def _record_number(node_cls, one_edge: bool, r: Tensor, a: Tensor, number) -> None:
    """``record_pointwise`` for a tensor and a Python number second (the fast path's other
    case); ``one_edge``: the node is PyTorch's own for a number operand, with one edge."""
    node = node_cls()
    node.number = ("b", number)
    codes = node_cls.number_codes
    if codes:
        operands = (None, a, None, r.detach() if codes[-1] == 3 else None)
        node.save(*[operands[k] for k in codes])
    record(node, (a,) if one_edge else (a, None), r)


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

    def __call__(self, x: Tensor) -> Tensor:
        cd, od = self.plan(x)
        backend = x._backend
        arr = backend.empty(x._shape, od)
        backend.unary(self.kernel, x._a if x._dtype is cd else cast(x, cd)._a, arr)
        r = make(backend, arr, x._shape, od)
        if self.node is not None and x._requires_grad and STATE.enabled:
            record_pointwise(self.node, r, {"x": x}, (x,))
        return r


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
    node_cls = node_class(node or f"{name.capitalize()}Backward0", (grad,)) if grad is not None else None
    spec = UnarySpec(name, kernel, result, check, node_cls)
    plans, kernel = spec.plans, spec.kernel

    def op(input, *, out=None) -> Tensor:
        if input.__class__ is not Tensor and not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        dt = input._dtype
        cd, od = plans.get(dt) or spec.plan(input)
        backend = input._backend
        shape = input._shape
        arr = backend.empty(shape, od)
        backend.unary(kernel, input._a if dt is cd else cast(input, cd)._a, arr)
        r = make(backend, arr, shape, od)
        if node_cls is not None and input._requires_grad and STATE.enabled:
            record_pointwise(node_cls, r, {"x": input}, (input,))
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
    number_node, one_edge = (spec.scalar_node, True) if spec.scalar_node is not None else (node_cls, False)

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
                    arr = backend.empty(shape, od)
                    backend.binary(kernel, input._a if da is cd else cast(input, cd)._a,
                                   other._a if db is cd else cast(other, cd)._a, arr)
                    r = make(backend, arr, shape, od)
                    if node_cls is not None and (input._requires_grad or other._requires_grad) and STATE.enabled:
                        _record_pair(node_cls, r, input, other)
                    return r if out is None else write_out(out, r, name)
            elif oc is float or oc is int:
                plan = plans.get((input._dtype, oc))
                if plan is not None and plan[2] is None:
                    cd, od = plan[0], plan[1]
                    backend = input._backend
                    shape = input._shape
                    arr = backend.empty(shape, od)
                    backend.binary(kernel, input._a if input._dtype is cd else cast(input, cd)._a, cd._py(other), arr)
                    r = make(backend, arr, shape, od)
                    if node_cls is not None and input._requires_grad and STATE.enabled:
                        _record_number(number_node, one_edge, r, input, other)
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
        node_cls = node_class(node or f"{name.capitalize()}Backward0", grads, defaults)
        scalar_cls = node_class(scalar_node, grads[:1], defaults) if scalar_node else None
    spec = BinarySpec(name, kernel, result, check, node_cls, int_value_check, scalar_cls, number_input, number_other)
    op = _binary_function(name, spec, as_operator=False)
    op.operator = _binary_function(name, spec, as_operator=True)
    op.__name__ = op.__qualname__ = name
    op.__module__ = _declaring_module()
    op.__doc__ = doc or f"Elementwise ``{name}`` with broadcasting and type promotion."
    op.spec = spec
    return declare(op, aliases=aliases, method=method, inplace=inplace) if declared else op
