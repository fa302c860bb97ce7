"""The checks a plugin passes before the core uses it.

Two moments: when a plugin registers a device type, its declared kernel interface
version must be one this plugrad can serve (:func:`interface_problem`); when its
factory returns the backend of a device, that object must implement the kernel
interface as :class:`plugrad.backend.Backend` defines it (:func:`backend_problems`):
every abstract method present, and every kernel callable the way the core calls it.
A plugin that fails either check is refused with the reason, instead of failing at
its first op with a ``TypeError`` raised inside the plugin.
"""

from __future__ import annotations

import inspect
import re

from ..backend import KERNEL_INTERFACE_VERSION, Backend
from ..dtypes import dtype

__all__ = ["interface_problem", "backend_problems", "parse_version"]

_VERSION = re.compile(r"(\d+)\.(\d+)")


def parse_version(version) -> tuple | None:
    """``(major, minor)`` of a ``"MAJOR.MINOR"`` version string, or None when it is not one."""
    match = _VERSION.fullmatch(str(version).strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def interface_problem(version) -> str:
    """Why a plugin implementing kernel interface ``version`` cannot be served ("" when it can).

    Same major and an older or equal minor: served (kernels added since are refused by
    name at call time). A different major changes the contract; a newer minor means the
    plugin was built for kernels or conventions this plugrad does not have yet."""
    ours = parse_version(KERNEL_INTERFACE_VERSION)
    theirs = parse_version(version)
    if theirs is None:
        return (f"declares kernel interface {version!r}, which is not a 'MAJOR.MINOR' version "
                f"(plugrad provides {KERNEL_INTERFACE_VERSION})")
    if theirs[0] != ours[0]:
        return (f"implements kernel interface {version}, but plugrad provides {KERNEL_INTERFACE_VERSION}; "
                f"the major versions must match")
    if theirs[1] > ours[1]:
        return (f"implements kernel interface {version}, newer than the {KERNEL_INTERFACE_VERSION} this plugrad "
                f"provides; upgrade plugrad, or install a release of the plugin built for interface "
                f"{ours[0]}.{ours[1]} or older")
    return ""


def _interface_methods() -> list:
    """The public methods of :class:`Backend`: the kernels and hooks the core calls."""
    return [name for name, value in vars(Backend).items() if not name.startswith("_") and inspect.isfunction(value)]


def _call_shapes(reference) -> list:
    """The argument lists the core may call ``reference`` (a Backend method) with:
    positionally, with every optional parameter and without them."""
    params = list(inspect.signature(reference).parameters.values())[1:]   # drop self
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.default is p.empty]
    keywords = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    shapes = [(positional, keywords)]
    if required != positional:
        shapes.append((required, [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]))
    return shapes


def _plain(signature: inspect.Signature, drop_self: bool = False) -> str:
    """A signature as text without annotations (``(op, a, b, out)``), for messages."""
    params = list(signature.parameters.values())[1 if drop_self else 0:]
    return str(signature.replace(parameters=[p.replace(annotation=p.empty) for p in params],
                                 return_annotation=signature.empty))


def _signature_problem(name: str, implementation) -> str:
    """Why ``implementation`` (bound) cannot be called as ``Backend.<name>`` is ("" when it can)."""
    try:
        signature = inspect.signature(implementation)
    except (TypeError, ValueError):   # a builtin or C callable without introspectable signature
        return ""
    reference = getattr(Backend, name)
    for positional, keywords in _call_shapes(reference):
        try:
            signature.bind(*positional, **{k: None for k in keywords})
        except TypeError as exc:
            expected = _plain(inspect.signature(reference), drop_self=True)
            return f"'{name}{_plain(signature)}' cannot be called as the interface's '{name}{expected}' ({exc})"
    return ""


def backend_problems(backend) -> list:
    """What keeps ``backend`` (a factory's result) from serving as a device; [] when nothing."""
    if not isinstance(backend, Backend):
        return [f"the factory returned {type(backend).__module__}.{type(backend).__qualname__}, "
                f"not a subclass of plugrad.extend.Backend"]
    problems = []
    for name in _interface_methods():
        attribute = getattr(type(backend), name, None)
        if attribute is None or getattr(attribute, "__isabstractmethod__", False):
            problems.append(f"'{name}' is not implemented (the kernel interface requires it)")
        elif not callable(getattr(backend, name)):
            problems.append(f"'{name}' is not callable")
        else:
            problem = _signature_problem(name, getattr(backend, name))
            if problem:
                problems.append(problem)
    try:
        bad = [d for d in backend.dtypes if not isinstance(d, dtype)]
    except TypeError:
        bad = [backend.dtypes]
    if bad:
        problems.append(f"'dtypes' must be a collection of plugrad dtypes, but holds {bad[0]!r}")
    return problems
