"""The op database: one :class:`~plugrad_conformance.opinfo.OpInfo` per public op.

``OPS`` maps a key (the op's name; ``module.name`` when two modules share a
name, e.g. ``functional.relu``) to its entry. Each entry's ``fn`` is the op's
function as users call it: looked up in its module, and replaced by the public form
(``plugrad.abs``, ``plugrad.nn.functional.relu``) when that wraps it (see
``plugrad.ops.guard``); alias entries (``true_divide``, ``concat``...) point at their
target.
"""

from __future__ import annotations

import dataclasses

import plugrad
import plugrad.nn.functional

from ..coverage import ALIASES, op_modules
from . import (attention, conversion, decompositions, elementwise, functional, gather, indexing, join, layers, linalg,
               misc, nan, nn_extra, products, reduction, sampling_grid, shaping, sorting, spatial, special, views)

__all__ = ["OPS", "SOURCES", "build"]

#: the modules that hold entries (an entry names its own op module in ``family``)
SOURCES = (elementwise, reduction, views, indexing, join, linalg, conversion, layers, functional, special, sorting,
           products, shaping, gather, nan, nn_extra, spatial, attention, decompositions, sampling_grid, misc)


def _public_form(fn):
    """``fn`` as the public namespaces export it (with its argument-type guard), when they do."""
    for namespace in (plugrad, plugrad.nn.functional):
        public = getattr(namespace, getattr(fn, "__name__", ""), None)
        if public is not fn and getattr(public, "__wrapped__", None) is fn:
            return public
    return fn


def build() -> dict:
    """Resolve every entry's function and add the alias entries. Entries whose
    module does not exist in this plugrad (an optional op module) are left out."""
    modules = op_modules()
    ops, by_family = {}, {}
    for source in SOURCES:
        for entry in source.ENTRIES:
            module = modules.get(entry.family)
            if module is None:
                continue
            entry.fn = _public_form(getattr(module, entry.name))
            by_family[entry.family, entry.name] = entry
            _add(ops, entry)
    for family, aliases in ALIASES.items():
        module = modules.get(family)
        for alias, target_name in aliases.items():
            if module is None or not hasattr(module, alias):
                continue
            target = by_family[family, target_name]
            public = _public_form(getattr(module, alias))
            _add(ops, dataclasses.replace(target, name=alias, fn=public, alias_target=target,
                                          method=False, operator=None, method_call=None, inplace=False,
                                          errors=[]))
    return ops


def _add(ops, entry):
    key = entry.name if entry.name not in ops else f"{entry.family.rsplit('.', 1)[-1]}.{entry.name}"
    entry.key = key
    ops[key] = entry


OPS = build()

