"""Which names are public ops, and which of them the database covers.

A public op is a name in the ``__all__`` of one of :data:`OP_MODULES`, or an op
declared with ``plugrad.ops.declare`` (its family is the op module it was declared
in), minus the helpers listed in :data:`NON_OPS`. Every public op needs an entry in the op
database, or an alias entry (:data:`ALIASES`) that names one. The coverage test
fails on any other name, so a new op cannot ship untested.
"""

from __future__ import annotations

import importlib

__all__ = ["OP_MODULES", "OPTIONAL_OP_MODULES", "NOT_OP_MODULES", "NON_OPS", "ALIASES", "public_ops",
           "missing_entries", "op_modules"]

#: the modules whose ``__all__`` lists public ops: the one place this list lives
OP_MODULES = (
    "plugrad.ops.elementwise",
    "plugrad.ops.reduction",
    "plugrad.ops.views",
    "plugrad.ops.indexing",
    "plugrad.ops.join",
    "plugrad.ops.linalg",
    "plugrad.ops.conversion",
    "plugrad.ops.dense",
    "plugrad.ops.convolution",
    "plugrad.ops.pooling",
    "plugrad.ops.normalization",
    "plugrad.ops.padding",
    "plugrad.ops.upsampling",
    "plugrad.ops.loss",
    "plugrad.ops.activation",
    "plugrad.nn.functional",
    "plugrad.ops.sorting",
    "plugrad.ops.scan",
    "plugrad.ops.rearrange",
    "plugrad.ops.sampling",
    "plugrad.special",
    "plugrad.ops.decompositions",
    "plugrad.linalg",
    "plugrad.ops.products",
    "plugrad.ops.shaping",
    "plugrad.ops.gather",
    "plugrad.ops.nan",
    "plugrad.ops.attention",
    "plugrad.ops.sampling_grid",
    "plugrad.ops.gumbel",
    "plugrad.ops.misc",
)

#: modules of OP_MODULES that a plugrad version may not have (the nn layer ops came later;
#: the activations were defined in nn.functional before plugrad.ops.activation)
OPTIONAL_OP_MODULES = frozenset({"plugrad.ops.dense", "plugrad.ops.convolution", "plugrad.ops.pooling",
                                 "plugrad.ops.normalization", "plugrad.ops.padding", "plugrad.ops.loss",
                                 "plugrad.ops.activation", "plugrad.nn.functional",
                                 "plugrad.ops.sorting", "plugrad.ops.scan",
                                 "plugrad.ops.rearrange", "plugrad.ops.sampling", "plugrad.special",
                                 "plugrad.ops.decompositions", "plugrad.linalg", "plugrad.ops.upsampling",
                                 "plugrad.ops.attention", "plugrad.ops.sampling_grid", "plugrad.ops.gumbel",
                                 "plugrad.ops.misc"})

#: modules of ``plugrad.ops`` that define no op (the coverage test fails on a module
#: of plugrad.ops that is in neither list)
NOT_OP_MODULES = frozenset({"plugrad.ops.dispatch", "plugrad.ops.methods", "plugrad.ops.guard", "plugrad.ops.declare",
                            "plugrad.ops.forms", "plugrad.ops.pointwise", "plugrad.ops.checks",
                            # the in-place forms exported as functions (plugrad.exp_ ...): no op of their own
                            "plugrad.ops.inplace_functions"})

#: names in an ``__all__`` above that are not ops, each with the reason
NON_OPS = {
    # conversion: the untracked copy behind ``to``; checked through ``to``
    "plugrad.ops.conversion.transfer": "internal copy primitive behind to()",
    # views: builds the int64 storage positions of a layout for kernels; it takes no
    # tensor input, and as_strided's gradient (which uses it) is checked
    "plugrad.ops.views.strided_index": "layout helper for kernels, no tensor input",
    # convolution: the window geometry and the im2col/col2im building blocks that take
    # it; conv1d/conv2d/unfold/fold and the pooling ops are checked through them
    "plugrad.ops.convolution.Windows": "window geometry record, not an op",
    "plugrad.ops.convolution.pair": "argument parser ((int or pair) -> pair)",
    "plugrad.ops.convolution.ntuple": "argument parser ((int or n ints) -> n ints)",
    "plugrad.ops.convolution.im2col_raw": "untracked building block of conv/unfold/pooling",
    "plugrad.ops.convolution.col2im_raw": "untracked building block of conv/fold/pooling",
    "plugrad.ops.convolution.im2col": "building block taking a Windows; checked through unfold and conv2d",
    "plugrad.ops.convolution.col2im": "building block taking a Windows; checked through fold and conv2d",
    # loss: maps the deprecated size_average/reduce flags to a reduction string
    "plugrad.ops.loss.legacy_reduction": "argument helper, not an op",
    # shaping: computes a shape from shapes, with no tensor input
    "plugrad.ops.shaping.broadcast_shapes": "shape arithmetic, no tensor input",
}

#: alias name -> the name of the entry that covers it (same module); each alias is
#: checked to compute exactly what its target computes
ALIASES = {
    "plugrad.ops.elementwise": {
        "true_divide": "div", "divide": "div", "subtract": "sub", "multiply": "mul", "negative": "neg",
        "absolute": "abs", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "clip": "clamp",
        "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh", "arctan2": "atan2", "fix": "trunc",
        "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne",
    },
    "plugrad.ops.views": {"swapaxes": "transpose", "swapdims": "transpose", "moveaxis": "movedim"},
    "plugrad.ops.indexing": {"argwhere": "nonzero"},
    "plugrad.ops.join": {"concat": "cat", "concatenate": "cat"},
    "plugrad.ops.linalg": {"vdot": "dot", "inner": "dot", "ger": "outer"},
}


def op_modules() -> dict:
    """Importable op modules by name (optional ones that do not exist are left out)."""
    out = {}
    for name in OP_MODULES:
        try:
            out[name] = importlib.import_module(name)
        except ModuleNotFoundError:
            if name not in OPTIONAL_OP_MODULES:
                raise
    return out


def public_ops() -> list:
    """``(module name, op name)`` of every public op: the names in the op modules'
    ``__all__`` and every declared op (plugrad versions with ``plugrad.ops.declare``)."""
    ops = []
    modules = op_modules()
    for mod_name, module in modules.items():
        for name in getattr(module, "__all__", ()):
            if f"{mod_name}.{name}" not in NON_OPS:
                ops.append((mod_name, name))
    known = set(ops)
    for family, name in _declared_ops(modules):
        if (family, name) not in known and f"{family}.{name}" not in NON_OPS:
            ops.append((family, name))
    return ops


def _declared_ops(modules) -> list:
    """``(op module, name)`` of the ops declared through ``plugrad.ops.declare``; the op
    module is the one of :data:`OP_MODULES` the declaring module belongs to."""
    try:
        declare = importlib.import_module("plugrad.ops.declare")
    except ModuleNotFoundError:
        return []
    found = []
    for decl in declare.DECLARATIONS.values():
        if not decl.public:
            continue
        owners = [m for m in modules if decl.family == m or decl.family.startswith(m + ".")]
        if not owners:
            raise AssertionError(f"op {decl.name!r} is declared in {decl.family}, which is in no OP_MODULES entry")
        found.append((max(owners, key=len), decl.name))
    return found


def missing_entries(database) -> list:
    """Public ops with no entry in ``database`` (a dict of OpInfo), as ``"module.name"``
    strings. A name is covered by an entry (or alias entry) for it, or when it is the
    very same function as an entry's (``nn.functional`` re-exports ``ops.loss.mse_loss``)."""
    covered = {(op.family, op.name) for op in database.values()}
    functions = {id(_unwrapped(op.fn)) for op in database.values()}
    modules = op_modules()
    return [f"{m}.{n}" for m, n in public_ops()
            if (m, n) not in covered and id(_unwrapped(_op_function(modules[m], n))) not in functions]


def _op_function(module, name):
    """The function of op ``name`` of an op module (a declared op may live in a submodule)."""
    fn = getattr(module, name, None)
    if fn is None:
        declare = importlib.import_module("plugrad.ops.declare")
        decl = declare.DECLARATIONS.get(name)
        fn = decl.fn if decl is not None else None
    return fn


def _unwrapped(fn):
    """The op under a public function form's argument-type guard (``plugrad.ops.guard``)."""
    return getattr(fn, "__wrapped__", fn)
