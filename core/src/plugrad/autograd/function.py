"""Custom differentiable operations: subclass ``Function`` with static ``forward`` and
``backward``, then call ``MyFn.apply(...)``.

``forward(ctx, *args)`` runs with recording off; ``backward(ctx, *grads)`` returns
one gradient per ``forward`` argument (None for non-tensors). Written with plugrad
ops, a backward is itself differentiable.
"""

from __future__ import annotations

from .grad_mode import STATE
from .graph import Node, record

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` object: save tensors and flags for backward."""

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool):
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
        self._non_differentiable = set()
        self._dirty = set()

    def name(self):
        return self._function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def saved_tensors(self):
        return Node.saved_tensors.fget(self)

    def backward(self, *grads):
        if self.materialize_grads:
            from ..creation import zeros
            grads = tuple(g if g is not None else zeros(shape, dtype=dt, device=dev)
                          for g, (shape, dt, dev) in zip(grads, self._out_meta))
        result = self._function.backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        n = len(self._arg_is_tensor)
        if len(result) < n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(result)})")
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
    def backward(ctx, *grad_outputs):
        raise RuntimeError("a custom Function must override backward(ctx, *grad_outputs) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor
        ctx = cls._backward_cls()
        is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx._arg_is_tensor = is_tensor
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        tracked = STATE.enabled and any(ctx.needs_input_grad)
        prev = STATE.enabled
        STATE.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if tracked:
            tensor_inputs = tuple(a for a, t in zip(args, is_tensor) if t)
            wrapped = []
            for o in outs:
                if isinstance(o, Tensor):
                    if any(o is a for a in tensor_inputs) and id(o) not in ctx._dirty:
                        o = o.detach()  # returning an input unchanged: a new alias gets the history
                    elif o._grad_fn is not None or o._requires_grad:
                        o = o.detach()
                wrapped.append(o)
            outs = tuple(wrapped)
            ctx.n_outputs = len(outs)
            ctx._out_meta = tuple((o._shape, o._dtype, o.device) if isinstance(o, Tensor) else ((), None, None)
                                  for o in outs)
            diff = tuple(o if isinstance(o, Tensor) and id(o) not in ctx._non_differentiable
                         and o._dtype.is_floating_point else None for o in outs)
            record(ctx, tensor_inputs, diff)
        if ctx._to_save:
            ctx.save(*ctx._to_save)
        return outs[0] if single else outs
