"""The op database: one :class:`~plugrad_conformance.opinfo.OpInfo` per public op.

``OPS`` maps a key (the op's name; ``family.name`` when two families share a
name) to its entry. Each entry's ``fn`` is the op's function, looked up in its
module; alias entries (``true_divide``, ``concat``...) point at their target.
"""

from __future__ import annotations

import dataclasses
import importlib

from ..coverage import ALIASES, op_modules
from . import conversion, elementwise, indexing, join, linalg, reduction, views

__all__ = ["OPS", "FAMILIES", "build"]

#: the modules of entries, one per op family (plugrad.nn.functional joins when it exists)
FAMILIES = (elementwise, reduction, views, indexing, join, linalg, conversion)


def build() -> dict:
    """Resolve every entry's function and add the alias entries."""
    modules = op_modules()
    ops = {}
    for family in FAMILIES:
        module = modules.get(family.FAMILY) or importlib.import_module(family.FAMILY)
        for entry in family.ENTRIES:
            entry.fn = getattr(module, entry.name)
            _add(ops, entry)
        for alias, target_name in ALIASES.get(family.FAMILY, {}).items():
            if not hasattr(module, alias):
                continue
            target = next(e for e in family.ENTRIES if e.name == target_name)
            _add(ops, dataclasses.replace(target, name=alias, fn=getattr(module, alias), alias_target=target,
                                          method=False, operator=None, method_call=None, inplace=False,
                                          errors=[]))
    return ops


def _add(ops, entry):
    key = entry.name if entry.name not in ops else f"{entry.family.rsplit('.', 1)[-1]}.{entry.name}"
    entry.key = key
    ops[key] = entry


OPS = build()
