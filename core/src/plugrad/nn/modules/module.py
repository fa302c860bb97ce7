"""``Module``: the base of every layer and model.

A module keeps three ordered registries: its parameters, its buffers (tensors that
are state but not trained, such as running statistics) and its child modules.
Assigning an attribute files the value into the right registry; everything else
(``parameters()``, ``state_dict()``, ``to()``, ``train()``...) walks them.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ...autograd.grad_mode import no_grad
from ...dtypes import bfloat16, float16, float32, float64
from ...ops.conversion import parse_to_arguments
from ...tensor import Tensor
from ..parameter import Buffer, Parameter, is_lazy

__all__ = ["Module", "RemovableHandle"]

_handle_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods: ``remove()`` unregisters the hook
    (also usable as a context manager)."""

    def __init__(self, *registries):
        self.id = next(_handle_ids)
        self._registries = registries

    def remove(self):
        for registry in self._registries:
            registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` could not match."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(module, name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


class Module:
    """Base class of neural-network layers and models (PyTorch's ``nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and
    submodules as attributes, and define ``forward``; calling the module runs the
    forward pre-hooks, ``forward`` and the forward hooks."""

    training: bool
    dump_patches = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() takes no arguments (got {args}, {kwargs}); "
                            f"call super().__init__() without them")
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_forward_hooks_with_kwargs", set())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_pre_hooks_with_kwargs", set())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- calling ----------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        pre, post = self._forward_pre_hooks, self._forward_hooks
        if not pre and not post:
            return self.forward(*args, **kwargs)
        for hid, hook in list(pre.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {r!r}.")
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        result = self.forward(*args, **kwargs)
        for hid, hook in list(post.items()):
            if hid in self._forward_hooks_with_kwargs:
                r = hook(self, args, kwargs, result)
            else:
                r = hook(self, args, result)
            if r is not None:
                result = r
        return result

    def _register_hook(self, registry, kwargs_set, hook, prepend, with_kwargs):
        handle = RemovableHandle(registry)
        registry[handle.id] = hook
        if with_kwargs:
            kwargs_set.add(handle.id)
        if prepend:
            registry.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; a returned value replaces the
        positional arguments (with ``with_kwargs=True``: ``hook(module, args, kwargs)``
        returning ``(args, kwargs)``)."""
        return self._register_hook(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, hook, prepend,
                                   with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; a returned value replaces
        the output (with ``with_kwargs=True``: ``hook(module, args, kwargs, output)``)."""
        return self._register_hook(self._forward_hooks, self._forward_hooks_with_kwargs, hook, prepend, with_kwargs)

    # ---- registration -----------------------------------------------------------------
    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (or None, a declared but absent parameter) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            f"(torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer: state that is saved in ``state_dict`` (unless not ``persistent``)
        and moved by ``to()``, but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' (torch Tensor or None "
                            f"required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a child module under ``name`` (None declares an absent child)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        _check_name(self, name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path such as ``"features.0"``."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item) or not isinstance(getattr(mod, item), Module):
                raise AttributeError(f"{mod._get_name()} has no submodule `{item}` (looking up '{target}')")
            mod = getattr(mod, item)
        return mod

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}`")
        return mod._buffers[name]

    # ---- attribute routing ------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _discard(self, name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' (torch.nn.Parameter or "
                                f"None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _discard(self, name)
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' (torch.nn.Module or "
                                f"None expected)")
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            self.register_buffer(name, value, value.persistent)
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' (torch.nn.Buffer, "
                                f"torch.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in d.get(registry, ()):
                del d[registry][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        for registry in (self._parameters, self._buffers, self._modules):
            keys.update(registry)
        return sorted(k for k in keys if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ---- walking the tree ---------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """``(dotted name, module)`` for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """``(name, module)`` for the direct children."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules comes once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter (to None by default, else to zeros)."""
        for p in self.parameters():
            _reset_grad(p, set_to_none)

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- devices and dtypes -------------------------------------------------------------
    def _apply(self, fn):
        """Replace every parameter's and buffer's data by ``fn(tensor)``; parameter
        objects stay the same, so optimizers built before the move keep working."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                p.data = fn(p.data)
                if p._grad is not None:
                    p._grad = fn(p._grad)
            for name, b in self._buffers.items():
                if is_lazy(b):  # stays uninitialized, in its new dtype and device
                    b.data = fn(b.data)
                elif b is not None:
                    self._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """Move (``to("opencl")``) and/or cast (``to(torch.float64)``, floating point
        parameters and buffers only) in place; returns self."""
        device, dtype, _ = parse_to_arguments(args, dict(kwargs))
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype!r}")

        def convert(t):
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)
        return self._apply(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")

    def _cast_floats(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self._cast_floats(float32)

    def double(self):
        return self._cast_floats(float64)

    def half(self):
        return self._cast_floats(float16)

    def bfloat16(self):
        return self._cast_floats(bfloat16)

    def type(self, dst_type):
        return self._apply(lambda t: t.to(dst_type))

    # ---- state dict -----------------------------------------------------------------------
    def _state_items(self):
        """This module's own ``(name, tensor)`` entries of the state dict."""
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield name, b

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Every parameter and persistent buffer by dotted name (detached, sharing
        storage with the module unless copied)."""
        if args:  # the legacy positional form state_dict(destination, prefix, keep_vars)
            names = ("destination", "prefix", "keep_vars")
            given = dict(zip(names, args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
        for mod_prefix, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            full = mod_prefix + "." if mod_prefix else ""
            for name, t in module._state_items():
                destination[full + name] = t if keep_vars or is_lazy(t) else t.detach()
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy ``state_dict``'s tensors into this module's parameters and buffers.

        Everything is checked before anything is copied: with missing or unexpected
        keys (``strict``), or any shape mismatch, a RuntimeError lists every problem
        and the module is left untouched. Returns ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        plan, missing, errors = [], [], []
        expected = set()
        for mod_prefix, module in self.named_modules(remove_duplicate=False):
            full = mod_prefix + "." if mod_prefix else ""
            for name, target in module._state_items():
                key = full + name
                expected.add(key)
                if key not in state_dict:
                    missing.append(key)
                    continue
                src = state_dict[key]
                if not isinstance(src, Tensor):
                    errors.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                  f'Tensor-like object from checkpoint but received {type(src)}')
                    continue
                if is_lazy(target) or is_lazy(src):  # a lazy module takes the checkpoint's shape
                    if is_lazy(src) and not is_lazy(target):
                        errors.append(f"While copying the parameter named \"{key}\", an uninitialized parameter "
                                      f"or buffer from checkpoint cannot be loaded into an initialized one.")
                    elif not is_lazy(src):
                        plan.append((module, name, target, src))
                    continue
                if src._shape != target._shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape {src.shape!r} from "
                                  f"checkpoint, the shape in current model is {target.shape!r}.")
                    continue
                plan.append((module, name, target, src))
        unexpected = [k for k in state_dict if k not in expected]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                              + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for module, name, target, src in plan:
                if is_lazy(target):
                    target.materialize(src._shape)
                if assign:
                    _assign(module, name, target, src)
                else:
                    target.copy_(src)
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The layer's own settings, shown inside its parentheses (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _assign(module, name, target, src):
    if name in module._parameters:
        module._parameters[name] = Parameter(src.detach(), target.requires_grad)
    else:
        module._buffers[name] = src.detach()


def _reset_grad(p, set_to_none):
    if p._grad is None:
        return
    if set_to_none:
        p._grad = None
        return
    g = p._grad
    if g._grad_fn is not None:
        g.detach_()
    else:
        g.requires_grad_(False)
    g.zero_()


def _discard(module, name):
    d = module.__dict__
    for registry in ("_parameters", "_buffers", "_modules"):
        if registry in d:
            d[registry].pop(name, None)
    d.get("_non_persistent_buffers_set", set()).discard(name)
    d.pop(name, None)


def _type_name(obj) -> str:
    if isinstance(obj, Tensor):
        return obj._type_label()
    return type(obj).__module__ + "." + type(obj).__qualname__ if type(obj).__module__ != "builtins" \
        else type(obj).__qualname__
