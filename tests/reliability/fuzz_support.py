"""Bad-input fuzzing of the public ops: argument trees, mutations, the torch oracle.

A valid sample from the conformance op database (:data:`plugrad_conformance.opdb.OPS`)
becomes an argument tree whose tensor leaves are :class:`T` (NumPy values, a dtype
name, a device). A *mutation* replaces one leaf (or one element of a list argument)
with bad input: None, a string, a ragged nested list, a tensor of the wrong dtype,
on the other device, of an incompatible shape, empty, 0-d, holding NaN/inf; an
out-of-range, negative or huge integer. The tree is then built twice, as plugrad
arguments and as PyTorch arguments, the same call runs in both libraries and
:func:`check_call` holds plugrad to PyTorch's outcome (see its docstring).
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import plugrad
from plugrad_conformance.opinfo import Arr

try:  # the oracle: optional, the tests skip without it
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - machines without torch
    torch = F = None

#: the exception classes PyTorch raises for bad input; plugrad may raise nothing else
TORCH_CLASSES = (RuntimeError, TypeError, ValueError, IndexError)

#: op families whose functions PyTorch has in ``torch.nn.functional``
_FUNCTIONAL_FAMILIES = ("plugrad.nn.functional", "plugrad.ops.dense", "plugrad.ops.convolution",
                        "plugrad.ops.pooling", "plugrad.ops.normalization", "plugrad.ops.padding",
                        "plugrad.ops.loss", "plugrad.ops.activation")

#: ops whose results are random: only shape and dtype are compared
RANDOM_OPS = frozenset({"dropout", "rrelu", "rrelu_"})

#: plugrad-only helpers with no PyTorch counterpart: the invariants are checked, not the outcome
NO_ORACLE = {
    "sum_to": "plugrad's gradient helper (sum a broadcast tensor back to a shape); PyTorch has no public op",
    "slice_dim": "plugrad's slicing primitive behind getitem; PyTorch has no public op",
}


# ---- the argument tree ---------------------------------------------------------------------------

@dataclass(frozen=True)
class T:
    """A tensor argument: its values, dtype name and device (None: the device under test)."""

    value: np.ndarray
    dtype: str
    device: str | None = None


def tree_of(sample, dtype: str):
    """The sample's ``(args, kwargs)`` with data arrays as :class:`T` of ``dtype``."""
    def conv(v):
        if isinstance(v, np.ndarray):
            return T(v.astype(dtype), dtype)
        if isinstance(v, Arr):
            return T(v.value.astype(v.dtype), v.dtype)
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v
    return [conv(a) for a in sample.args], {k: conv(v) for k, v in sample.kwargs.items()}


def build(node, lib, device: str, other: str | None):
    """The argument ``node`` as ``lib``'s values (``lib`` is plugrad or torch; torch
    tensors live on its cpu, plugrad's on ``device`` or, for leaves marked "other", ``other``)."""
    if isinstance(node, T):
        if lib is plugrad:
            dev = other if node.device == "other" else device
            return plugrad.tensor(node.value, dtype=getattr(plugrad, node.dtype), device=dev)
        return torch.from_numpy(np.array(node.value, copy=True))
    if isinstance(node, list):
        return [build(x, lib, device, other) for x in node]
    if isinstance(node, tuple):
        return tuple(build(x, lib, device, other) for x in node)
    if isinstance(node, plugrad.dtype) and lib is not plugrad:
        return getattr(torch, node.name)
    return node


def leaves(node, out=None):
    """The tensors of a built argument tree (plugrad or torch), in order."""
    out = [] if out is None else out
    if isinstance(node, (list, tuple)):
        for x in node:
            leaves(x, out)
    elif isinstance(node, dict):
        for x in node.values():
            leaves(x, out)
    elif isinstance(node, plugrad.Tensor) or (torch is not None and isinstance(node, torch.Tensor)):
        out.append(node)
    return out


# ---- mutations ---------------------------------------------------------------------------------------

#: every kind of bad input, with what it puts in place of one argument
KINDS = {
    "none": "None",
    "string": "a string",
    "ragged": "a ragged nested list",
    "int_tensor": "an int64 tensor (a float tensor's values truncated)",
    "bool_tensor": "a bool tensor",
    "float_tensor": "a float32 tensor in place of an integer or bool tensor",
    "other_device": "a tensor on the other device",
    "bad_shape": "a tensor of an incompatible shape",
    "empty": "an empty tensor (a size-0 dim)",
    "zero_d": "a 0-d tensor",
    "nan_inf": "NaN and infinities among the values",
    "dim_out_of_range": "an integer past the end of the dims (positive or negative)",
    "negative": "a negative integer",
    "huge": "a huge integer (sizes, dims, counts)",
    "float_for_int": "a float where an integer goes",
}

RAGGED = [[1.0, 2.0], [3.0]]
#: sizes no device can hold: 2**62 elements overflow a 64-bit byte count. (Smaller "huge" sizes
#: that still fit, like 2**31, would really be allocated by PyTorch and plugrad alike: the
#: out-of-memory path is the fault-injection tests' job.)
HUGE = (2 ** 62, 2 ** 63 - 1)


def slots(args, kwargs):
    """Where a mutation can go: ``(path, value)`` for each argument and each element
    of a list or tuple argument (paths index into ``[args, kwargs]``)."""
    out = []
    for i, a in enumerate(args):
        out.append((("a", i), a))
        if isinstance(a, (list, tuple)):
            out.extend((("a", i, j), x) for j, x in enumerate(a))
    for k, v in kwargs.items():
        out.append((("k", k), v))
        if isinstance(v, (list, tuple)):
            out.extend((("k", k, j), x) for j, x in enumerate(v))
    return out


def kinds_for(value, ndim: int, has_other_device: bool) -> list:
    """The mutation kinds that make sense in place of ``value``."""
    kinds = ["none", "string", "ragged"]
    if isinstance(value, T):
        kinds += ["bad_shape", "empty", "zero_d"]
        if value.dtype.startswith("float"):
            kinds += ["int_tensor", "bool_tensor", "nan_inf"]
        else:
            kinds += ["float_tensor"] + (["bool_tensor"] if value.dtype != "bool" else ["int_tensor"])
        if has_other_device:
            kinds.append("other_device")
    elif isinstance(value, bool):
        kinds.append("float_for_int")
    elif isinstance(value, int):
        kinds += ["dim_out_of_range", "negative", "huge", "float_for_int"]
    elif isinstance(value, float):
        kinds += ["nan_inf", "huge"]
    return kinds


def _bad_shape(shape, pick):
    if not shape:
        return (pick(2, 5),)
    shape = list(shape)
    i = pick(0, len(shape) - 1)
    shape[i] = shape[i] + pick(2, 4)          # never 1: a size-1 dim would broadcast
    return tuple(shape) if pick(0, 1) else tuple(shape) + (pick(2, 3),)


def mutate(value, kind: str, ndim: int, pick):
    """The bad value of ``kind`` in place of ``value`` (``pick(lo, hi)`` draws an int;
    ``ndim`` is the first tensor argument's ndim, for dims out of range)."""
    if kind == "none":
        return None
    if kind == "string":
        return "bogus"
    if kind == "ragged":
        return RAGGED
    if kind == "float_for_int":
        return 1.5
    if kind == "dim_out_of_range":
        return (ndim + pick(0, 3)) if pick(0, 1) else -(ndim + 1 + pick(0, 3))
    if kind == "negative":
        return -pick(1, 3)
    if kind == "huge":
        h = HUGE[pick(0, len(HUGE) - 1)]
        return float(h) * 1e270 if isinstance(value, float) else (h if pick(0, 3) else -h)
    if kind == "nan_inf" and not isinstance(value, T):
        return (math.nan, math.inf, -math.inf)[pick(0, 2)]
    v = value.value
    if kind == "int_tensor":
        with np.errstate(invalid="ignore"):
            return T(np.nan_to_num(v).astype(np.int64), "int64", value.device)
    if kind == "bool_tensor":
        return T(v != 0, "bool", value.device)
    if kind == "float_tensor":
        return T(v.astype(np.float32), "float32", value.device)
    if kind == "other_device":
        return replace(value, device="other")
    if kind == "bad_shape":
        shape = _bad_shape(v.shape, pick)
        return T(np.resize(v, shape) if v.size else np.zeros(shape, v.dtype), value.dtype, value.device)
    if kind == "empty":
        shape = list(v.shape) or [1]
        shape[pick(0, len(shape) - 1)] = 0
        return T(np.zeros(shape, v.dtype), value.dtype, value.device)
    if kind == "zero_d":
        return T(np.array(v.reshape(-1)[0] if v.size else 1, dtype=v.dtype), value.dtype, value.device)
    if kind == "nan_inf":
        flat = v.reshape(-1).copy()
        for i in range(flat.size):
            if pick(0, 2) == 0:
                flat[i] = (np.nan, np.inf, -np.inf)[pick(0, 2)]
        if flat.size:
            flat[pick(0, flat.size - 1)] = np.nan
        return T(flat.reshape(v.shape), value.dtype, value.device)
    raise ValueError(f"unknown mutation kind {kind!r}")


def put_at(args, kwargs, path, new):
    """A copy of ``(args, kwargs)`` with the value at ``path`` replaced."""
    args, kwargs = list(args), dict(kwargs)
    holder, key = (args, path[1]) if path[0] == "a" else (kwargs, path[1])
    if len(path) == 2:
        holder[key] = new
    else:
        seq = holder[key]
        items = list(seq)
        items[path[2]] = new
        holder[key] = type(seq)(items) if isinstance(seq, tuple) else items
    return args, kwargs


# ---- calling both libraries -------------------------------------------------------------------------

def _clone_then(method):
    def call(x, *args, **kwargs):
        y = x.clone()
        getattr(y, method)(*args, **kwargs)
        return y
    return call


def _setitem(x, key, value):
    y = x.clone()
    y[key] = value
    return y


_TORCH_SPECIAL = {
    "copy_": _clone_then("copy_"), "fill_": _clone_then("fill_"), "zero_": _clone_then("zero_"),
    "relu_": lambda x, *a, **k: _clone_then("relu_")(x, *a, **k), "setitem": _setitem,
    "getitem": lambda x, key: x[key],
}


def _unwrapped(fn):
    return getattr(fn, "__wrapped__", fn)


def public_function(op):
    """The callable a user reaches for ``op``'s function form: ``plugrad.<name>`` or
    ``plugrad.nn.functional.<name>`` when it is the op (the public forms carry the type
    guard of :mod:`plugrad.ops.guard`); for indexing, the subscript ``x[key]``; else the op
    database's own call."""
    if op.name in ("getitem", "setitem"):
        return _TORCH_SPECIAL[op.name]
    if op.call is None:
        for namespace in (plugrad, plugrad.nn.functional):
            fn = getattr(namespace, op.name, None)
            if fn is not None and _unwrapped(fn) is _unwrapped(op.fn):
                return fn
    return op.function


def torch_function(op):
    """PyTorch's counterpart of ``op``'s function form, or None (see :data:`NO_ORACLE`)."""
    if op.key in NO_ORACLE or torch is None:
        return None
    if op.name in _TORCH_SPECIAL:
        return _TORCH_SPECIAL[op.name]
    if op.name in ("sigmoid", "tanh"):
        return getattr(torch, op.name)
    if op.family in _FUNCTIONAL_FAMILIES and hasattr(F, op.name):
        return getattr(F, op.name)
    if op.family == "plugrad.ops.views" and hasattr(torch.Tensor, op.name):
        # plugrad's view functions take sizes and dims as varargs, like the Tensor methods
        return lambda x, *a, _m=op.name, **k: getattr(x, _m)(*a, **k)
    if _unwrapped(getattr(plugrad, op.name, None)) is _unwrapped(op.fn) and hasattr(torch, op.name):
        return getattr(torch, op.name)
    if hasattr(torch.Tensor, op.name):
        return lambda x, *a, _m=op.name, **k: getattr(x, _m)(*a, **k)
    return None


def _outcome(fn, args, kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs), None
    except Exception as exc:  # the oracle compares exception classes
        return None, exc


def builtin_class(exc) -> type:
    """The first built-in class in ``exc``'s class hierarchy (torch's own error
    classes derive from RuntimeError, ValueError...)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


#: results with more elements are compared by dtype, shape and their first elements only (a
#: broadcast view of a few values can describe billions of elements)
DESCRIBED_ELEMENTS = 1 << 16


def _first_row(t):
    """The first elements of the first row (a view: nothing of a huge result is copied)."""
    if t.numel() == 0:
        return t.new_empty(0)
    return t[(0,) * (t.dim() - 1)][:DESCRIBED_ELEMENTS]


def describe(result):
    """A comparable description of a result: tensors become (dtype, shape, values)."""
    # values of an empty result are kept flat: its shape may be past what NumPy can describe
    if isinstance(result, plugrad.Tensor):
        n = result.numel()
        if 0 < n <= DESCRIBED_ELEMENTS:
            values = np.array(result.detach().tolist(), dtype=np.dtype(result.dtype.name)).reshape(tuple(result.shape))
        else:   # tolist() of a (2**62, 0) result would build 2**62 empty lists
            values = np.array(_first_row(result.detach()).tolist(), dtype=np.dtype(result.dtype.name))
        return ("tensor", result.dtype.name, tuple(result.shape), values)
    if torch is not None and isinstance(result, torch.Tensor):
        n = result.numel()
        values = result.detach().numpy() if 0 < n <= DESCRIBED_ELEMENTS else _first_row(result.detach()).numpy()
        return ("tensor", str(result.dtype).replace("torch.", ""), tuple(result.shape), values)
    if isinstance(result, (tuple, list)):
        return ("seq", [describe(r) for r in result])
    if isinstance(result, (plugrad.dtype, plugrad.device)) or (torch is not None and isinstance(
            result, (torch.dtype, torch.device))):
        return ("str", str(result).replace("torch.", ""))
    return ("value", result)


def compare(ours, theirs, random=False, where="result"):
    """Assert two :func:`describe` results agree (values only when not ``random``)."""
    assert ours[0] == theirs[0], f"{where}: plugrad gave a {ours[0]}, torch a {theirs[0]}"
    if ours[0] == "tensor":
        assert ours[1] == theirs[1], f"{where}: dtype {ours[1]}, torch's is {theirs[1]}"
        assert ours[2] == theirs[2], f"{where}: shape {ours[2]}, torch's is {theirs[2]}"
        if random:
            return
        a, b = ours[3], theirs[3]
        if a.dtype.kind == "f":
            tol = 2e-3 if a.dtype == np.float16 else 1e-4
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol,
                                       equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)
    elif ours[0] == "seq":
        assert len(ours[1]) == len(theirs[1]), f"{where}: {len(ours[1])} results, torch gave {len(theirs[1])}"
        for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
            compare(a, b, random, f"{where}[{i}]")
    elif ours[0] == "value" and isinstance(ours[1], float) and isinstance(theirs[1], float):
        assert ours[1] == theirs[1] or math.isclose(ours[1], theirs[1], rel_tol=1e-4, abs_tol=1e-5) or (
            math.isnan(ours[1]) and math.isnan(theirs[1])), f"{where}: {ours[1]} != torch's {theirs[1]}"
    else:
        assert ours == theirs, f"{where}: {ours} != torch's {theirs}"


def _state(tensors):
    return [(tuple(t.shape), t.dtype, t._version, describe(t)[3]) for t in tensors]


def _assert_same_state(before, after, what):
    for i, (b, a) in enumerate(zip(before, after)):
        assert b[:3] == a[:3], f"{what} changed input {i}: shape/dtype/version {b[:3]} -> {a[:3]}"
        assert np.array_equal(b[3], a[3], equal_nan=b[3].dtype.kind == "f"), \
            f"{what} changed input {i}'s values: {b[3].tolist()} -> {a[3].tolist()}"


def _names_devices(message: str, device: str, other: str) -> bool:
    return device in message and other in message


#: ops whose integer index arguments may stay on the cpu when the data is on another device
INDEX_TAKING = frozenset({"embedding", "nll_loss", "cross_entropy"})

#: ops that PyTorch lets take a tensor of another device: they read only its shape, or copy across
CROSS_DEVICE_OK = {
    "copy_": "copy_ is PyTorch's way to move values between devices",
    "expand_as": "reads only the other tensor's shape", "view_as": "reads only the other tensor's shape",
    "reshape_as": "reads only the other tensor's shape",
    "setitem": "assigning through a basic index is a copy_, which crosses devices",
}

#: Documented differences from PyTorch's outcome, by (op key, kind of bad input) -> why. A call
#: in one of them is counted (see :func:`figures`), never silently skipped, and the invariants of
#: :func:`check_call` hold for it all the same; every other call must give PyTorch's outcome.
OPEN_BY_OP = {
    **{("einsum", kind): "open: an operand of another dtype in a chain of contractions: PyTorch's einsum "
                         "multiplies and sums some of them (promoting the dtypes), plugrad's contracts each pair "
                         "with a matrix product, which needs one dtype, and refuses with RuntimeError (as "
                         "PyTorch's own einsum does for two matrices)"
       for kind in ("int_tensor", "bool_tensor", "float_tensor", "empty")},
    ("max_pool2d_with_indices", "nan_inf"): "open: in a window holding several NaNs PyTorch's index points at "
                                            "the last NaN (its kernel updates on every NaN), plugrad's at the "
                                            "first (as torch.argmax does)",
    ("max_pool2d_with_indices", "dim_out_of_range"): "PyTorch gives a window that lies wholly in the padding "
                                                     "(a large dilation) the index of its first position moved "
                                                     "into the input's range, which may still lie past its end; "
                                                     "plugrad gives the position itself, in padded coordinates. "
                                                     "Both give -inf as the value",
    ("unflatten", "none"): "PyTorch's own forms disagree: x.unflatten(1, None) raises RuntimeError ('sizes must "
                           "be non-empty'), torch.unflatten(x, 1, None) TypeError; plugrad, whose function and "
                           "method are one, raises the function's TypeError",
    ("normalize", "nan_inf"): "PyTorch is inconsistent: with p=NaN its vector_norm gives |x| for a single element "
                              "and NaN for more; plugrad's norm gives NaN for both",
    ("bmm", "int_tensor"): "PyTorch's cpu bmm skips its dtype check when the product is empty (a size-0 batch, "
                           "row, column or inner dim) and returns mat2's dtype; mm, baddbmm and every non-empty "
                           "bmm refuse mixed dtypes, as plugrad always does",
    ("bmm", "bool_tensor"): "as bmm with an int64 tensor", ("bmm", "float_tensor"): "as bmm with an int64 tensor",
    ("chunk", "huge"): "PyTorch computes the piece size (n + chunks - 1) / chunks in int64: for chunks near 2**63 "
                       "it overflows into a negative split size (RuntimeError); plugrad gives n pieces of size 1, "
                       "PyTorch's own answer for chunks = 2**62",
    ("conv1d", "int_tensor"): "PyTorch casts a bias of any dtype when padding is a string ('same', 'valid') and "
                              "refuses it with numeric padding; plugrad always refuses, as conv_transpose2d",
    ("conv1d", "bool_tensor"): "as conv1d with an int64 tensor",
    ("conv2d", "int_tensor"): "as conv1d with an int64 tensor",
    ("conv2d", "bool_tensor"): "as conv1d with an int64 tensor",
    ("conv1d", "nan_inf"): "PyTorch's float32 cpu convolution of a batch of two or more (its oneDNN path) never "
                           "multiplies the zero padding, so a NaN or infinite weight never meets a padded zero; a "
                           "batch of one and float64 give NaN there, as plugrad (which pads with real zeros) does",
    ("conv2d", "nan_inf"): "as conv1d with NaN and infinities",
    ("conv2d", "huge"): "PyTorch's kernel span overflows int64 for a dilation of 2**63 - 1 and it returns a wrongly "
                        "sized result; its float32 batch path also refuses a huge stride its other paths compute; "
                        "plugrad refuses the over-large kernel and computes the one window a huge stride leaves",
    ("fold", "huge"): "with padding 2**62 PyTorch's count of sliding blocks overflows int64 and happens to equal the "
                      "input's, so it returns zeros (2**62 + 1 is refused); plugrad refuses the padded size",
    ("conv_transpose2d", "int_tensor"): "PyTorch's cpu conv_transpose2d takes a bias of another dtype on some "
                                        "paths (float64, a batch of one) and refuses it on others (float32 "
                                        "batches); plugrad always refuses, as conv2d does",
    ("conv_transpose2d", "bool_tensor"): "as conv_transpose2d with an int64 tensor",
    ("conv_transpose2d", "huge"): "PyTorch truncates stride and dilation to 32 bits (2**62 becomes 0: 'stride should "
                                  "be greater than zero'); plugrad computes with the value given",
    ("conv1d", "huge"): "PyTorch's kernel span overflows int64 for a huge dilation and it returns a wrongly sized "
                        "result; plugrad refuses the kernel as larger than the input",
    ("unfold", "huge"): "PyTorch returns a tensor with a negative size, or reads uninitialized memory, for a huge "
                        "kernel, padding or dilation; plugrad refuses",
    ("pad", "negative"): "PyTorch's circular pad with negative sizes checks the wrap-around against the uncropped "
                         "size, then reads uninitialized memory (values differ from run to run); plugrad refuses "
                         "padding that wraps the cropped dim more than once",
    ("expand", "huge"): "PyTorch makes a stride-0 view of 2**62 elements; plugrad refuses a view whose size in "
                        "bytes passes 2**63 - 1 on every device (the cpu device's views are NumPy arrays, which "
                        "cannot describe it)",
    ("index_select", "negative"): "PyTorch's cpu kernel refuses an index out of range along dim 1 of a 2+-d input "
                                  "with RuntimeError, along every other dim and rank with IndexError; plugrad raises "
                                  "IndexError for every dim",
    ("index_select", "bad_shape"): "as index_select with a negative dim (a reshaped input whose dim 1 is too short)",
    ("expand", "negative"): "PyTorch returns a tensor with a negative size (size=(-2, 0, 4)) when another size is "
                            "0; plugrad refuses a negative size other than -1",
    ("expand", "dim_out_of_range"): "as expand with a negative size",
    ("expand", "zero_d"): "as expand with a negative size",
    ("as_strided", "huge"): "as expand with a huge size: PyTorch makes a stride-0 view of 2**62 elements",
    ("repeat", "huge"): "the cpu device's NumPy arrays cannot describe a size-0 shape like [2**63 - 1, 0], which "
                        "PyTorch returns; PyTorch also wraps a negative count times the size in int64 (-2**62 x 3 "
                        "gives 2**62), where plugrad refuses the negative count",
    ("tile", "huge"): "as repeat: the cpu device cannot describe [2**63 - 1, 0]",
    ("cross_entropy", "nan_inf"): "PyTorch's range check of label_smoothing lets NaN through; plugrad refuses it",
    ("var_mean", "nan_inf"): "PyTorch is inconsistent: var_mean's mean of a slice holding +-inf is NaN (its "
                             "Welford update subtracts inf from inf) where torch.mean gives +-inf; plugrad "
                             "gives torch.mean's answer",
    ("std_mean", "nan_inf"): "as var_mean",
    ("dropout", "nan_inf"): "PyTorch is inconsistent: its Python check raises ValueError for p outside [0, 1], "
                            "but p=NaN passes that check and fails in C++ with RuntimeError; plugrad's check "
                            "raises ValueError for both",
    ("ctc_loss", "nan_inf"): "PyTorch's CTC recursion adds log-probabilities to a running maximum and skips "
                             "terms by comparisons, so a NaN among the log-probabilities gives NaN, -0 or a finite "
                             "loss depending on where it lies; plugrad's log-sum-exp carries a NaN on every path "
                             "through it (and +-inf as IEEE arithmetic does)",
    ("pdist", "huge"): "PyTorch is inconsistent: for a huge p its float32 kernel gives the largest coordinate "
                       "difference (the limit as p grows), its float64 kernel overflows |d|**p to inf; plugrad gives "
                       "the limit in every dtype",
    ("adaptive_avg_pool2d", "string"): "PyTorch takes a string output_size for a sequence of sizes (ValueError "
                                       "about the input's dims); plugrad raises TypeError naming the argument",
}
OPEN_BY_OP.update({
    ("bitwise_right_shift", "huge"): "PyTorch wraps a shift amount past the tensor dtype's range into it (an int32 "
                                     "shifted by 2**40 is shifted by 0, by 2**31 as by a negative amount); plugrad "
                                     "refuses a scalar its dtype cannot hold with RuntimeError, as every int op does",
    ("bitwise_left_shift", "huge"): "as bitwise_right_shift with a huge shift amount",
    ("adaptive_avg_pool3d", "string"): "as adaptive_avg_pool2d with a string",
    ("adaptive_max_pool1d", "string"): "as adaptive_avg_pool2d with a string",
    ("adaptive_max_pool2d", "string"): "as adaptive_avg_pool2d with a string",
    ("adaptive_max_pool3d", "string"): "as adaptive_avg_pool2d with a string",
    ("conv_transpose1d", "int_tensor"): "as conv_transpose2d with an int64 tensor",
    ("conv_transpose1d", "bool_tensor"): "as conv_transpose2d with an int64 tensor",
    ("conv_transpose3d", "int_tensor"): "as conv_transpose2d with an int64 tensor",
    ("conv_transpose3d", "bool_tensor"): "as conv_transpose2d with an int64 tensor",
    ("lp_pool1d", "huge"): "open: with a norm_type near 2**63 the power of the input overflows or underflows and "
                           "plugrad's result differs from PyTorch's (0 there)",
    ("lp_pool2d", "huge"): "as lp_pool1d with a huge norm_type",
    ("lp_pool3d", "huge"): "as lp_pool1d with a huge norm_type",
    ("lp_pool2d", "string"): "PyTorch unpacks a string kernel_size into its characters (ValueError: too many values "
                             "to unpack); plugrad raises TypeError naming the argument",
    ("lp_pool3d", "string"): "as lp_pool2d with a string",
    ("lp_pool3d", "ragged"): "as lp_pool2d with a string: PyTorch unpacks the ragged kernel_size (ValueError)",
    ("lp_pool2d", "ragged"): "as lp_pool3d with a ragged kernel_size",
    ("max_unpool2d", "float_for_int"): "PyTorch computes max_unpool's default output size in Python from any "
                                       "kernel_size (a float gives a float size that its kernel truncates); "
                                       "plugrad refuses a kernel_size that is not ints with TypeError",
    ("max_unpool2d", "string"): "PyTorch reads a string kernel_size as a sequence of characters (IndexError); "
                                "plugrad raises TypeError naming the argument",
    ("max_unpool1d", "float_for_int"): "as max_unpool2d with a float kernel_size",
    ("max_unpool1d", "string"): "as max_unpool2d with a string",
    ("max_unpool3d", "float_for_int"): "as max_unpool2d with a float kernel_size",
    ("max_unpool3d", "string"): "as max_unpool2d with a string",
})


def _count_open(stats, name, op_key, label, ours, theirs):
    """Count a call that met an open divergence; with ``PLUGRAD_FUZZ_OPEN_LOG=<path>`` also
    append the call and both outcomes there (the way to see what a category holds)."""
    if stats is not None:
        stats["open", name, op_key] += 1
    path = os.environ.get("PLUGRAD_FUZZ_OPEN_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{name}\t{label}\tplugrad: {_brief(ours)}\ttorch: {_brief(theirs)}\n")


def _brief(outcome) -> str:
    """One line for an outcome: an exception's class and message, or a result's description."""
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}".replace("\n", " ")[:200]
    return repr(describe(outcome)).replace("\n", " ")[:200]


def _method_of_a_non_tensor(op, form, args, our_exc, their_call) -> bool:
    """Whether the call is a method-only op called on something that is not a Tensor
    (``None.view_as(x)``): Python itself raises AttributeError there, in both libraries.
    plugrad's internal helpers (:data:`NO_ORACLE`) count as methods: only the engine
    calls them, always with tensors."""
    if type(our_exc) is not AttributeError or not args or isinstance(args[0], T):
        return False
    if op.key in NO_ORACLE:
        return True
    has_function_form = form == "function" and public_function(op) not in (op.function, _TORCH_SPECIAL.get(op.name))
    return not has_function_form and their_call is not None and type(their_call[1]) is AttributeError


def check_call(op, args, kwargs, kind, device, other, form="function", stats=None, where=None):
    """Run the mutated call in plugrad and PyTorch and hold plugrad to the rules:

    * a plugrad exception is a built-in class PyTorch uses (RuntimeError, TypeError,
      ValueError, IndexError), from plugrad or builtins (never NumPy or pyopencl), with
      a message; a failed call leaves every input tensor as it was (values, shape,
      version counter); the process survives;
    * when PyTorch raises, plugrad raises the same built-in class; when PyTorch
      succeeds, plugrad succeeds with the same dtype, shape and values;
    * a tensor on the other device among two or more tensors: RuntimeError naming
      both devices (PyTorch here has one device, so it is no oracle for this).
    """
    moved = kind == "other_device"
    ours_args = [build(a, plugrad, device, other) for a in args]
    ours_kwargs = {k: build(v, plugrad, device, other) for k, v in kwargs.items()}
    inputs = leaves(ours_args) + leaves(ours_kwargs)
    before = _state(inputs)
    if form == "function":
        fn = public_function(op)
    else:
        fn = lambda x, *a, **k: getattr(x, form)(*a, **k)  # noqa: E731 - the in-place method form
    ours, our_exc = _outcome(fn, ours_args, ours_kwargs)
    if stats is not None:
        stats[op.key, kind, form] += 1
    label = f"{op.key} [{form}] on {device} with {KINDS[kind]}" + (f" at {where}" if where else "")
    tfn = torch_function(op) if form == "function" else (lambda x, *a, **k: getattr(x, form)(*a, **k))
    their_call = None
    if tfn is not None and not moved:
        their_call = _outcome(tfn, [build(a, torch, "cpu", None) for a in args],
                              {k: build(v, torch, "cpu", None) for k, v in kwargs.items()})
    if our_exc is not None:
        cls = type(our_exc)
        if not _method_of_a_non_tensor(op, form, args, our_exc, their_call):
            assert isinstance(our_exc, TORCH_CLASSES), f"{label}: plugrad raised {cls.__name__}: {our_exc}"
            assert cls.__module__ == "builtins" or cls.__module__.startswith("plugrad"), \
                f"{label}: an exception from {cls.__module__} leaked: {cls.__name__}: {our_exc}"
            assert str(our_exc).strip(), f"{label}: {cls.__name__} without a message"
        _assert_same_state(before, _state(inputs), f"{label}, failing,")
    elif form == "function" and op.call is None:
        _assert_same_state(before, _state(inputs), label)
    if moved:
        _check_mixed_devices(label, ours_args, ours_kwargs, our_exc, device, other, op)
        return
    if their_call is None:
        return
    theirs, their_exc = their_call
    if their_exc is not None and not isinstance(their_exc, TORCH_CLASSES):
        # PyTorch's Python-level code failed on its own (AttributeError, AssertionError):
        # plugrad must refuse the call, with one of PyTorch's classes (checked above)
        assert our_exc is not None, f"{label}: torch raised {their_exc!r}; plugrad returned {ours!r}"
        return
    if isinstance(their_exc, NotImplementedError) and our_exc is None:
        return  # PyTorch has no kernel for that dtype; plugrad may compute it
    try:
        _same_outcome(label, op, ours, our_exc, theirs, their_exc)
    except AssertionError:
        if (op.key, kind) not in OPEN_BY_OP:
            raise
        _count_open(stats, f"{op.key}:{kind}", op.key, label, our_exc or ours, their_exc or theirs)


def _same_outcome(label, op, ours, our_exc, theirs, their_exc):
    """Assert that plugrad's outcome is PyTorch's: the same built-in exception class, or
    results of the same dtype, shape and values."""
    if their_exc is not None:
        assert our_exc is not None, (f"{label}: torch raised {type(their_exc).__name__}: {their_exc}; "
                                     f"plugrad returned {ours!r}")
        assert isinstance(our_exc, _wanted(their_exc)), (
            f"{label}: plugrad raised {type(our_exc).__name__}: {our_exc}; "
            f"torch raised {type(their_exc).__name__}: {their_exc}")
        return
    assert our_exc is None, (f"{label}: plugrad raised {type(our_exc).__name__}: {our_exc}; "
                             f"torch returned {theirs!r}")
    compare(describe(ours), describe(theirs), random=op.key in RANDOM_OPS, where=label)


def _wanted(their_exc) -> type:
    """The class plugrad must raise where PyTorch raised ``their_exc``."""
    return RuntimeError if isinstance(their_exc, NotImplementedError) else builtin_class(their_exc)


def _check_mixed_devices(label, args, kwargs, our_exc, device, other, op):
    tensors = leaves(args) + leaves(kwargs)
    devices = {t.device.type for t in tensors}
    if len(devices) < 2:
        return  # the only tensor moved: an ordinary call on the other device
    if our_exc is None:
        # PyTorch lets 0-d cpu tensors (numbers to it) and index tensors of the cpu meet another device's tensors
        rest = [t for t in tensors if not (t.device.type == "cpu" and t.dim() == 0)]
        on_cpu = [t for t in rest if t.device.type == "cpu"]
        indices_on_cpu = (op.family == "plugrad.ops.indexing" or op.key in INDEX_TAKING) and all(
            not t.dtype.is_floating_point for t in on_cpu)
        assert len({t.device.type for t in rest}) < 2 or indices_on_cpu or op.key in CROSS_DEVICE_OK, \
            f"{label}: mixed devices {sorted(devices)} were accepted"
        return
    assert isinstance(our_exc, RuntimeError), f"{label}: mixed devices gave {type(our_exc).__name__}: {our_exc}"
    assert _names_devices(str(our_exc), device, other), \
        f"{label}: the message does not name both devices ({device}, {other}): {our_exc}"


def new_stats() -> Counter:
    """A counter of calls tried, by (op key, kind, form), and of open divergences met,
    by ("open", divergence name, op key)."""
    return Counter()


def figures(stats: Counter) -> dict:
    """The figures of a fuzzing run: ops fuzzed, kinds of bad input, (op, kind) pairs
    covered, calls tried, and the calls that met each open divergence."""
    calls = {k: n for k, n in stats.items() if k[0] not in ("open", "invalid-sample")}
    opened = {}
    for k, n in stats.items():
        if k[0] == "open":
            entry = opened.setdefault(k[1], {"calls": 0, "ops": set()})
            entry["calls"] += n
            entry["ops"].add(k[2])
    opened = {name: {"calls": e["calls"], "ops": sorted(e["ops"])} for name, e in opened.items()}
    return {"ops": len({k[0] for k in calls}), "kinds": len({k[1] for k in calls}),
            "kinds_total": len(KINDS), "op_kind_pairs": len({k[:2] for k in calls}),
            "calls": sum(calls.values()), "open_divergences": dict(sorted(opened.items())),
            "samples_outside_torch_api": sum(n for k, n in stats.items() if k[0] == "invalid-sample")}


# the spatial transformer ops and gumbel_softmax (random) are torch.nn.functional's
_FUNCTIONAL_FAMILIES += ("plugrad.ops.sampling_grid", "plugrad.ops.gumbel")
RANDOM_OPS |= {"gumbel_softmax"}
