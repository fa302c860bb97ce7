"""The Python state a compiled function reads and writes, found before the first run.

A replay runs no Python of the user's function, so every piece of Python state that
the function depends on or changes must be known: its *holders*. A holder is one
location, ``container[key]`` or ``container.key``: a module's parameter or buffer, a
tensor's ``.grad``, an optimizer's hyperparameter or per-parameter state, a scheduler's
counter, a tensor in a global or a closure cell. Holders are found from the roots a
function can reach: its arguments, the compiled module, ``self`` of a bound method,
and the globals and closure cells its code names (and those of the functions they
name, a few levels down).

Each holder has a *role*, which decides its guard and how a replay uses it:

* ``pinned``: a tensor that stays the same object between calls (a parameter, a
  buffer, an optimizer's ``exp_avg``): guarded by identity, its arrays are constants.
* ``bound``: a tensor (or None) that may be a new object at each call (a ``.grad``):
  guarded by layout, its arrays are read at each replay.
* ``sym``: a number of a trusted optimizer's ``param_groups``/``state`` (a learning
  rate, a step count): an input of the replay (``plugrad.compiler.symbolic``).
* ``value``: any other number, string, flag or None: guarded by equality.
* ``ident``: any other object: guarded by identity.

After the recorded run, comparing each holder with what it held before gives the
*effects* a replay must apply at its end (``p.grad = <new tensor>``,
``state["step"] = step + 1``), and each tracked mapping's new keys (the state an
optimizer creates at its first step) give the rest.
"""

from __future__ import annotations

import os
import types

from ..nn.modules.module import Module
from ..optim.adam import Adam, AdamW
from ..optim.lr_scheduler import LRScheduler
from ..optim.optimizer import Optimizer
from ..optim.rmsprop import Adagrad, RMSprop
from ..optim.sgd import SGD
from ..tensor import Tensor
from .symbolic import SymFloat, SymInt, plain, symbolic

__all__ = ["Holder", "MISSING", "discover", "deplain"]

#: optimizers whose step does all its Python math on hyperparameters with ``+ - * / **``
#: and comparisons, so that symbolic numbers see every operation (checked by
#: test_compile_training): their numbers are replay inputs instead of guarded constants
_TRUSTED_UPDATES = frozenset({SGD._update, Adam._update, AdamW._update, RMSprop._update, Adagrad._update})
_SCALARS = (bool, int, float, str, type(None))
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _Missing:
    """What a holder whose key does not exist reads."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


class Holder:
    """One location of Python state. ``container`` is an object, or ``("arg", i)`` for the
    i-th tensor argument (a new object at each call); ``kind`` is ``"item"``, ``"attr"``,
    ``"cell"`` or ``"len"`` (the container's length, only guarded); ``installed`` (role
    ``sym``) is the symbolic number (or tuple of them) put there while recording."""

    __slots__ = ("container", "kind", "key", "role", "before", "installed", "owner")

    def __init__(self, container, kind: str, key, role: str, before, owner=None):
        self.container, self.kind, self.key, self.role, self.before = container, kind, key, role, before
        self.installed = None
        self.owner = owner   # a watched object: the holder matters only if the run touched it

    def read(self, args_tensors: list):
        c = args_tensors[self.container[1]] if isinstance(self.container, tuple) else self.container
        if self.kind == "item":
            return c.get(self.key, MISSING) if hasattr(c, "get") else c[self.key]
        if self.kind == "attr":
            return getattr(c, self.key, MISSING)
        if self.kind == "len":
            return len(c)
        try:
            return c.cell_contents
        except ValueError:
            return MISSING

    def write(self, args_tensors: list, value) -> None:
        c = args_tensors[self.container[1]] if isinstance(self.container, tuple) else self.container
        if self.kind == "item":
            c[self.key] = value
        elif self.kind == "attr":
            object.__setattr__(c, self.key, value) if isinstance(c, Tensor) else setattr(c, self.key, value)
        else:
            c.cell_contents = value


class Tracked:
    """Everything :func:`discover` found: holders in guard order, and the mappings whose
    new keys are effects (``(container, "item"|"attr", keys before)``)."""

    def __init__(self):
        self.holders = []
        self.mappings = []
        self.watched = []   # objects whose state matters only if the run reads them (schedulers)
        self._seen = set()

    def watch(self) -> None:
        """Start noting attribute reads of the watched objects (their class is swapped
        for a subclass that notes them, until :meth:`unwatch`)."""
        for obj in self.watched:
            obj.__class__ = _touch_class(type(obj))

    def unwatch(self) -> None:
        """Restore the watched objects' classes; drop the holders and mappings of those
        the run never read (a scheduler stepped outside the function)."""
        untouched = set()
        for obj in self.watched:
            touched = object.__getattribute__(obj, "__dict__").pop("_plugrad_touched", False)
            obj.__class__ = type(obj).__mro__[1]
            if not touched:
                untouched.add(id(obj))
        self.holders = [h for h in self.holders if h.owner is None or id(h.owner) not in untouched]
        self.mappings = [m for m in self.mappings if id(m[0]) not in untouched]


_TOUCH_CLASSES: dict = {}


def _touch_class(cls):
    sub = _TOUCH_CLASSES.get(cls)
    if sub is None:
        def __getattribute__(self, name):
            d = object.__getattribute__(self, "__dict__")
            d["_plugrad_touched"] = True
            return cls.__getattribute__(self, name)
        sub = _TOUCH_CLASSES[cls] = type(cls.__name__, (cls,), {"__getattribute__": __getattribute__,
                                                                "__module__": cls.__module__})
    return sub


def discover(fn, module, arg_tensors: list, arg_objects: list) -> Tracked:
    """Find the holders of ``fn`` (a function, a bound method, or a module's forward)."""
    tr = Tracked()
    roots = []
    if module is not None:
        roots.append(module)
    roots += arg_objects
    _scan_function(fn, roots, set(), 0, tr)
    for obj in roots:
        _add_root(obj, tr)
    for i, t in enumerate(arg_tensors):
        if t._requires_grad:
            tr.holders.append(Holder(("arg", i), "attr", "_grad", "bound", t._grad))
    return tr


def _scan_function(fn, roots: list, visited: set, depth: int, tr: Tracked) -> None:
    if id(fn) in visited or depth > 3:
        return
    visited.add(id(fn))
    if isinstance(fn, types.MethodType):
        roots.append(fn.__self__)
        if not isinstance(fn.__self__, (Module, Optimizer)):
            for value in list(getattr(fn.__self__, "__dict__", {}).values()):
                roots.append(value)
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None or code.co_filename.startswith(_PACKAGE):
        return   # plugrad's own functions reach state only through their arguments
    glb = getattr(fn, "__globals__", {})
    for name in _names(code):
        if name in glb:
            value = glb[name]
            if isinstance(value, (types.FunctionType, types.MethodType)):
                _scan_function(value, roots, visited, depth + 1, tr)
            elif _interesting(value):
                tr.holders.append(Holder(glb, "item", name, "pinned" if isinstance(value, Tensor) else "ident",
                                         value))
                roots.append(value)
    for value in list(getattr(fn, "__defaults__", None) or ()) + list((getattr(fn, "__kwdefaults__", None)
                                                                       or {}).values()):
        if _interesting(value):
            roots.append(value)   # a default argument is the same object at every call
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (types.FunctionType, types.MethodType)):
            _scan_function(value, roots, visited, depth + 1, tr)
        elif _interesting(value):
            tr.holders.append(Holder(cell, "cell", None, "pinned" if isinstance(value, Tensor) else "ident", value))
            roots.append(value)


def _names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _interesting(value) -> bool:
    if isinstance(value, (Tensor, Module, Optimizer, LRScheduler)):
        return True
    if isinstance(value, (list, tuple)) and value and len(value) <= 64:
        return any(isinstance(v, (Tensor, Module, Optimizer, LRScheduler)) for v in value)
    if isinstance(value, dict) and value and len(value) <= 64:
        return any(isinstance(v, (Tensor, Module, Optimizer, LRScheduler)) for v in value.values())
    return False


def _add_root(obj, tr: Tracked) -> None:
    if id(obj) in tr._seen:
        return
    tr._seen.add(id(obj))
    if isinstance(obj, Tensor):
        _add_tensor_grad(obj, tr)
    elif isinstance(obj, Module):
        _add_module(obj, tr)
    elif isinstance(obj, Optimizer):
        _add_optimizer(obj, tr)
    elif isinstance(obj, LRScheduler):
        tr.watched.append(obj)
        _add_attrs(obj, tr, owner=obj)
        if isinstance(getattr(obj, "optimizer", None), Optimizer):
            _add_root(obj.optimizer, tr)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            if isinstance(v, (Tensor, Module, Optimizer, LRScheduler)):
                _add_root(v, tr)
    elif isinstance(obj, dict):
        for v in obj.values():
            if isinstance(v, (Tensor, Module, Optimizer, LRScheduler)):
                _add_root(v, tr)


def _add_tensor_grad(t: Tensor, tr: Tracked) -> None:
    key = ("grad", id(t))
    if key in tr._seen:
        return
    tr._seen.add(key)
    if t._requires_grad and t._grad_fn is None:
        tr.holders.append(Holder(t, "attr", "_grad", "bound", t._grad))


def _add_module(m: Module, tr: Tracked) -> None:
    for sub in m.modules():
        if ("module", id(sub)) in tr._seen:
            continue
        tr._seen.add(("module", id(sub)))
        tr.holders.append(Holder(sub, "attr", "training", "value", sub.training))
        for kind in ("_parameters", "_buffers", "_modules"):
            d = sub.__dict__[kind]
            tr.mappings.append((d, "item", frozenset(d)))
            for name, value in d.items():
                role = "pinned" if isinstance(value, Tensor) else ("value" if value is None else "ident")
                tr.holders.append(Holder(d, "item", name, role, value))
                if isinstance(value, Tensor):
                    _add_tensor_grad(value, tr)


def _add_optimizer(opt: Optimizer, tr: Tracked) -> None:
    trusted = type(opt)._update in _TRUSTED_UPDATES and type(opt).step is Optimizer.step
    _add_attrs(opt, tr)
    tr.holders.append(Holder(opt, "attr", "param_groups", "ident", opt.param_groups))
    tr.holders.append(Holder(opt, "attr", "state", "ident", opt.state))
    tr.mappings.append((opt.state, "item", frozenset(opt.state)))
    for group in opt.param_groups:
        tr.mappings.append((group, "item", frozenset(group)))
        for key, value in group.items():
            if key == "params":
                tr.holders.append(Holder(group, "item", key, "ident", value))
                tr.holders.append(Holder(value, "len", None, "value", len(value)))
                for p in value:
                    _add_tensor_grad(p, tr)
                    tr.holders.append(Holder(p, "attr", "_a", "ident", p._a))
                continue
            _add_number(group, key, value, trusted, tr)
        for p in group["params"]:
            state = opt.state.get(p, MISSING)
            tr.holders.append(Holder(opt.state, "item", p, "ident" if state is not MISSING else "value", state))
            if state is MISSING:
                continue
            tr.mappings.append((state, "item", frozenset(state)))
            for key, value in state.items():
                if isinstance(value, Tensor):
                    tr.holders.append(Holder(state, "item", key, "pinned", value))
                else:
                    _add_number(state, key, value, trusted, tr)


def _add_number(container, key, value, trusted: bool, tr: Tracked) -> None:
    numbers = (int, float)
    if trusted and (type(value) in numbers or (type(value) is tuple and value
                                               and all(type(v) in numbers for v in value))):
        tr.holders.append(Holder(container, "item", key, "sym", value))
    elif isinstance(value, _SCALARS) or (type(value) is tuple and all(isinstance(v, _SCALARS) for v in value)):
        tr.holders.append(Holder(container, "item", key, "value", value))
    else:
        tr.holders.append(Holder(container, "item", key, "ident", value))


def _add_attrs(obj, tr: Tracked, owner=None) -> None:
    """An object's own attributes: numbers and flags are guarded by value, the rest by
    identity; new attributes set during the run are effects (``optimizer._opt_called``)."""
    d = obj.__dict__
    tr.mappings.append((obj, "attr", frozenset(d)))
    for name, value in d.items():
        if name in ("param_groups", "state"):
            continue
        if isinstance(value, _SCALARS) or (isinstance(value, (list, tuple)) and len(value) <= 64
                                           and all(isinstance(v, _SCALARS) for v in value)):
            tr.holders.append(Holder(obj, "attr", name, "value", list(value) if isinstance(value, list) else value,
                                     owner))
        elif not callable(value) or isinstance(value, Tensor):
            tr.holders.append(Holder(obj, "attr", name, "ident", value, owner))


def install_symbols(holders: list) -> list:
    """Replace each ``sym`` holder's numbers by symbolic ones; returns the sources as
    ``(holder, index or None, value)`` in source-number order."""
    sources = []
    for h in holders:
        if h.role != "sym":
            continue
        value = h.before
        if type(value) is tuple:
            syms = []
            for i, v in enumerate(value):
                syms.append(symbolic(v, ("src", len(sources))))
                sources.append((h, i, v))
            h.installed = tuple(syms)
        else:
            h.installed = symbolic(value, ("src", len(sources)))
            sources.append((h, None, value))
        h.write([], h.installed)
    return sources


def deplain(x):
    """``x`` with every symbolic number replaced by its plain value (containers rebuilt)."""
    if isinstance(x, (SymFloat, SymInt)):
        return plain(x)
    if type(x) is tuple:
        return tuple(deplain(v) for v in x)
    if type(x) is list:
        return [deplain(v) for v in x]
    return x


def has_symbols(x) -> bool:
    if isinstance(x, (SymFloat, SymInt)):
        return True
    if isinstance(x, (tuple, list)):
        return any(has_symbols(v) for v in x)
    if isinstance(x, dict):
        return any(has_symbols(v) for v in x.values())
    return False
