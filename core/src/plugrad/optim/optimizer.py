"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, state dicts.

A subclass defines its hyperparameter defaults and ``step``; updates run under
``no_grad`` with in-place ops, so parameters stay the same objects (the model keeps
pointing at them) and no graph is recorded.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Mapping

from ..autograd.grad_mode import enable_grad, no_grad
from ..creation import tensor
from ..dtypes import float32, float64, get_default_dtype
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _Required:
    """Marks a hyperparameter without a default (it must be given for every group)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with ``"params"`` and hyperparameters)
    and ``state`` (per-parameter dicts such as momentum buffers)."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            f"got {params._type_label()}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        """Everything but an instance-level ``step`` wrapper (a learning-rate schedule
        wraps ``step`` to notice calls; the wrapper does not pickle)."""
        return {k: v for k, v in self.__dict__.items() if k != "step"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones come
        from the optimizer's defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__module__}.{type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error", UserWarning, stacklevel=3)
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Update the parameters once (subclasses implement ``_update``)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _stepped(self, group: dict, new_state):
        """``(param, gradient, state)`` for each parameter of ``group`` that has a gradient:
        the prologue every update rule shares. The gradient is negated under ``maximize``;
        a parameter's state is ``new_state(param, gradient)`` (a dict in PyTorch's key
        order) before its first step; its ``step`` is counted before it is yielded."""
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            if maximize:
                grad = -grad
            state = self.state[p]
            if not state:
                state.update(new_state(p, grad))
            state["step"] += 1
            yield p, grad, state

    def _update(self, group: dict) -> None:  # pragma: no cover - every optimizer overrides it
        raise NotImplementedError(f"{type(self).__name__} does not define an update rule")

    # ---- state dicts ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``;
        parameters are numbered in group order, so the dict does not hold them."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (tensors follow each
        parameter's device, and its dtype when floating point)."""
        if not isinstance(state_dict, Mapping) or "param_groups" not in state_dict or "state" not in state_dict:
            raise ValueError("loaded state dict must have 'state' and 'param_groups' entries")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 "optimizer's group")
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, i in zip(g["params"], s["params"]):
                id_map[i] = p
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key) if isinstance(key, str) and key.isdigit() else key
            if key not in id_map:
                continue
            p = id_map[key]
            state[p] = {k: _cast_like(p, k, v) for k, v in value.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = copy.deepcopy({k: v for k, v in s.items() if k != "params"})
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.state = state
        self.param_groups = new_groups


def _scalar_state(param, value: float) -> Tensor:
    """A 0-dim tensor for a parameter's scalar state (``step``, NAdam's ``mu_product``,
    ASGD's ``eta``...), kept as PyTorch keeps it: float64 when that is the default
    dtype, float32 otherwise, so the running values round (and save) the same way."""
    dtype = float64 if get_default_dtype() == float64 else float32
    return tensor(value, dtype=dtype, device=param.device)


def _zeros(param, *names: str) -> dict:
    """``{name: zeros shaped like param}`` for each of ``names``: an optimizer's buffers
    (``exp_avg``, ``square_avg``...) before the first step."""
    return {name: param.detach().new_zeros(param.shape) for name in names}


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _to_scalar(value):
    """A 1-element tensor hyperparameter (``lr=torch.tensor(0.01)``) as a number."""
    return value.item() if isinstance(value, Tensor) else value


def _cast_like(param, key, value):
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if key != "step" and value.is_floating_point():
        return value.to(device=param.device, dtype=param.dtype, copy=True)
    return value.to(device=param.device, copy=True)
