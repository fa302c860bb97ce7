"""Custom differentiable operations: subclass ``Function`` with static ``forward`` and
``backward``, then call ``MyFn.apply(...)``.

``forward(ctx, *args)`` runs with recording off; ``backward(ctx, *grads)`` returns
one gradient per ``forward`` argument (None for non-tensors). Written with plugrad
ops, a backward is itself differentiable. The newer style also works: a
``forward(*args)`` without ctx plus ``setup_context(ctx, inputs, output)``.

The ctx object is the graph node itself (named ``<Function name>Backward``). What it
keeps: tensors passed to ``save_for_backward`` (an output is kept as a detached
alias and relinked on access, so saving an output makes no reference cycle), the
flags ``needs_input_grad`` and ``materialize_grads``, and any attribute the forward
sets on it.
"""

from __future__ import annotations

import functools

from ..creation import zeros
from ..ops.dispatch import check_inplace_target
from ..tensor import Tensor
from .grad_mode import STATE
from .graph import Node, record
from .inplace import rebase_history

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` object: save tensors and flags for backward."""

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; read them back with ``ctx.saved_tensors``
        (which fails if an in-place op changed them meanwhile)."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient (they do not require grad)."""
        self._non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        """These inputs were modified in place by forward (and are returned): their
        history is rewritten to go through this function."""
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool):
        """With True (the default) backward receives zeros instead of None for outputs
        that got no gradient."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of a custom Function; it is also the ``ctx`` its methods receive."""

    _function = None
    n_outputs = 1

    def __init__(self):
        Node.__init__(self)
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._to_save = ()
        self._saved_output_nr = ()
        self._non_differentiable = set()
        self._dirty = set()

    def name(self):
        return self._function.__name__ + "Backward"

    def __repr__(self):
        # printed as PyTorch prints it (like dtypes print as torch.float32)
        return f"<torch.autograd.function.{self.name()} object at {hex(id(self))}>"

    @property
    def saved_tensors(self):
        saved = Node.saved_tensors.fget(self)
        if not any(nr is not None for nr in self._saved_output_nr):
            return saved
        return tuple(t if nr is None or t is None else self.output_alias(t, nr)
                     for t, nr in zip(saved, self._saved_output_nr))

    def backward(self, *grads):
        if self.materialize_grads:
            grads = tuple(g if g is not None else zeros(shape, dtype=dt, device=dev)
                          for g, (shape, dt, dev) in zip(grads, self._out_meta))
        result = self._function.backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        n = len(self._arg_is_tensor)
        if len(result) != n:
            if len(result) < n or any(g is not None for g in result[n:]):
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                                   f"(expected {n}, got {len(result)})")
            result = result[:n]
        for i, (g, is_t) in enumerate(zip(result, self._arg_is_tensor)):
            if g is not None and not is_t:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
        return tuple(g for g, is_t in zip(result, self._arg_is_tensor) if is_t)


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_function": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom autograd operations (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise RuntimeError("a custom Function must override forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override (with a ``forward`` that takes no ctx) to fill ctx from the inputs
        and the output. Left as is, ``forward`` receives ctx first (see ``apply``)."""
        raise RuntimeError("setup_context is only called when a Function subclass overrides it")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError("a custom Function must override backward(ctx, *grad_outputs) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward (recording off) and, when an input requires grad, make a node of
        this function the ``grad_fn`` of its floating-point outputs."""
        ctx = cls._backward_cls()
        is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx._arg_is_tensor = is_tensor
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        tracked = STATE.enabled and any(ctx.needs_input_grad)
        prev = STATE.enabled
        STATE.enabled = False
        try:
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else tuple(outputs)
        if tracked:
            outs = _connect(ctx, tuple(a for a, t in zip(args, is_tensor) if t), outs)
        else:
            for o in outs:
                if isinstance(o, Tensor) and id(o) in ctx._dirty:
                    o._storage.version += 1
        _save(ctx, outs, tracked)
        return outs[0] if single else outs


def _connect(ctx, tensor_inputs, outs):
    """Make ctx the history of the differentiable outputs (and of inputs that forward
    modified in place)."""
    wrapped, recorded, dirty = [], [], []
    for o in outs:
        r = o
        if isinstance(o, Tensor):
            if id(o) in ctx._dirty:
                check_inplace_target(o, True, ctx.name())
                r = o.detach()  # records the history, which is then moved onto o
                dirty.append(len(wrapped))
            elif any(o is a for a in tensor_inputs) or o._grad_fn is not None or o._requires_grad:
                o = r = o.detach()  # an input returned as is: a new alias carries the new history
        wrapped.append(o)
        recorded.append(r)
    ctx.n_outputs = len(wrapped)
    ctx._out_meta = tuple((o._shape, o._dtype, o.device) if isinstance(o, Tensor) else ((), None, None)
                          for o in wrapped)
    diff = tuple(r if isinstance(r, Tensor) and id(wrapped[i]) not in ctx._non_differentiable
                 and r._dtype.is_floating_point else None for i, r in enumerate(recorded))
    record(ctx, tensor_inputs, diff)
    for i in dirty:
        o = wrapped[i]
        o._storage.version += 1
        if diff[i] is not None:
            rebase_history(o, diff[i])
    return tuple(wrapped)


def _save(ctx, outs, tracked):
    """Store what forward asked to save; outputs that ctx produces are kept detached."""
    to_save = ctx._to_save
    if not to_save:
        return
    stored, nrs = [], []
    for t in to_save:
        nr = None
        if t is not None and tracked:
            for i, o in enumerate(outs):
                if o is t and o._grad_fn is ctx:
                    nr = i
                    break
        stored.append(t.detach() if nr is not None else t)
        nrs.append(nr)
    ctx.save(*stored)
    ctx._saved_output_nr = tuple(nrs)
    ctx._to_save = ()  # holding the outputs here would keep the graph alive


class _OnceDifferentiableBackward(Node):
    """Stands for the gradient of a ``once_differentiable`` backward: differentiating
    it again is an error."""
    __slots__ = ("fn_name",)

    def backward(self, *grads):
        raise RuntimeError(f"trying to differentiate twice a function that was marked with @once_differentiable "
                           f"({self.fn_name})")


def once_differentiable(backward):
    """Decorate a Function's ``backward`` that is not written with differentiable ops:
    it runs with recording off, and a double backward through it raises instead of
    silently giving wrong second derivatives."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        creating = STATE.enabled
        prev = STATE.enabled
        STATE.enabled = False
        try:
            result = backward(ctx, *grads)
        finally:
            STATE.enabled = prev
        tracked = [g for g in grads if isinstance(g, Tensor) and g._requires_grad]
        if not creating or not (tracked or any(ctx.needs_input_grad)):
            return result
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        linked = []
        for r in outs:
            if isinstance(r, Tensor) and r._dtype.is_floating_point:
                r = r.detach()
                node = _OnceDifferentiableBackward()
                node.fn_name = ctx.name()
                record(node, tuple(tracked), r)
            linked.append(r)
        return linked[0] if single else tuple(linked)
    return wrapper
