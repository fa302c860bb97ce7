"""Op declarations: one per op, and everything that follows from it.

An op is a function written once, in its family's module, with ``@declare`` (or
made by ``pointwise.unary``/``binary``, which declare it). The declaration says
which forms PyTorch has for it, and this module produces them:

* the function ``plugrad.<name>`` (and ``plugrad.<alias>`` for each alias);
* the method ``Tensor.<name>`` (``method=True``; ``methods=`` for other names),
  whose receiver is the op's first argument;
* the in-place method ``Tensor.<name>_`` (``inplace=True``): the op computed out of
  place, then written into ``self`` with PyTorch's checks and autograd rules
  (``plugrad.ops.forms``), or a kernel straight into ``self`` for elementwise ops;
* the entry in the op table (``plugrad.optable.ops.<name>``), through which code in
  lower layers calls the op;
* the record the conformance suite's coverage check reads (:data:`DECLARATIONS`).

Nothing else is written per op: ``plugrad/__init__.py`` exports
:func:`public_functions`, and ``bind_methods`` (called once, when ``plugrad.ops``
has loaded) attaches every method. To find where ``x.add_`` comes from, look for
the declaration of ``add``: ``inplace=True`` there made it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ..optable import ops as _table

__all__ = ["declare", "Declaration", "DECLARATIONS", "public_functions", "bind_methods", "declared",
           "names_declared_in", "export_inplace"]


@dataclass
class Declaration:
    """What one ``@declare`` said about one op."""
    name: str
    fn: object
    family: str
    aliases: tuple = ()
    methods: tuple = ()
    inplace: tuple = ()
    inplace_fn: object = None
    public: bool = True
    public_inplace: tuple = ()


#: every declared op by name, in declaration order
DECLARATIONS: dict = {}


def declare(fn=None, *, name=None, aliases=(), method=False, methods=(), inplace=False, inplace_form=None,
            public=True, public_inplace=False):
    """Declare ``fn`` as the op ``name`` (default: the function's name).

    ``aliases``: other function names (``plugrad.absolute`` for ``abs``); ``method``:
    bind ``Tensor.<name>`` (and ``Tensor.<alias>``); ``methods``: method names instead
    or in addition (``("swapaxes", "swapdims")``); ``inplace``: bind ``Tensor.<name>_``
    (and ``<alias>_``), built by ``plugrad.ops.forms.inplace_method`` unless ``inplace_form`` gives it
    (a function, or the name of one defined later in the op's module: ``"transpose_"``);
    ``public``: False for an op that is a Tensor method only (``Tensor.view``), never a
    ``plugrad.<name>`` function; ``public_inplace``: the in-place forms are functions too
    (``plugrad.exp_(x)``, where PyTorch has ``torch.exp_``). Returns ``fn`` unchanged, so the op costs nothing
    extra per call."""
    def register(fn):
        op_name = name or fn.__name__
        bound = tuple(methods) + ((op_name, *aliases) if method else ())
        in_place = tuple(f"{n}_" for n in (op_name, *aliases)) if inplace else ()
        decl = Declaration(op_name, fn, fn.__module__, tuple(aliases), bound, in_place, inplace_form, public,
                           in_place if public_inplace else ())
        DECLARATIONS[op_name] = decl
        _table.register(op_name, fn)
        for alias in aliases:
            _table.register(alias, fn)
        return fn
    return register if fn is None else register(fn)


def declared(family: str | None = None) -> list:
    """The declarations, optionally of one family (the module that declared them)."""
    return [d for d in DECLARATIONS.values() if family is None or d.family == family]


def names_declared_in(module: str) -> list:
    """The public names (ops and their aliases) declared by ``module``: its ``__all__``,
    so a new declaration needs no second edit there."""
    return [n for d in DECLARATIONS.values() if d.family == module and d.public for n in (d.name, *d.aliases)]


def export_inplace(*names) -> None:
    """Make the in-place forms ``names`` (``"exp_"``, ``"arccos_"``) functions of
    ``plugrad``'s namespace as well as methods, as PyTorch has ``torch.exp_``: the
    declaration owning each name lists it in ``public_inplace``. PyTorch has such a
    function for some ops only (``torch.add_`` does not exist), so the names are
    given one by one."""
    owners = {n: d for d in DECLARATIONS.values() for n in d.inplace}
    for n in names:
        decl = owners[n]
        if n not in decl.public_inplace:
            decl.public_inplace += (n,)


def public_functions() -> dict:
    """``{name: function}`` for ``plugrad``'s namespace: every public op and its aliases,
    and the in-place forms a declaration exports (``public_inplace``; bound by
    :func:`bind_methods` first)."""
    out = {}
    for d in DECLARATIONS.values():
        if d.public:
            out[d.name] = d.fn
            for alias in d.aliases:
                out[alias] = d.fn
        for n in d.public_inplace:
            out[n] = d.inplace_fn
    return out


def bind_methods(tensor_cls, make_inplace) -> None:
    """Attach every declared method and in-place method to ``tensor_cls``.

    ``Tensor`` is defined a layer below the ops, so it cannot import them; this is the
    one place where the op layer extends it. ``make_inplace(decl)`` builds an
    in-place method from a declaration (``plugrad.ops.forms.inplace_method``)."""
    for d in DECLARATIONS.values():
        for method_name in d.methods:
            setattr(tensor_cls, method_name, d.fn)
        if d.inplace:
            if isinstance(d.inplace_fn, str):   # a hand-written in-place form defined later in the op's module
                d.inplace_fn = getattr(sys.modules[d.family], d.inplace_fn)
            d.inplace_fn = d.inplace_fn or make_inplace(d)
            for inplace_name in d.inplace:
                setattr(tensor_cls, inplace_name, d.inplace_fn)
                _table.register(inplace_name, d.inplace_fn)
