"""Mappings of shapes, views, dtype casts, indexing and joining."""

from __future__ import annotations

from ...dtypes import bool_, int64
from ...tensor import Tensor
from ..errors import OnnxExporterError
from ..graph import ONNX_TYPES
from .table import END, axes_of, axis_of, maps, out_dtype, scalar_index


@maps("view", "reshape", "flatten", "unflatten", "view_as", "reshape_as", "ravel")
def map_reshape(cx, call):
    """A reshape to the traced result shape. The dims that follow a dynamic axis
    (``cx.dynamic_dims``) are not fixed: one is inferred (ONNX's -1), and one at the
    same position and size as the input's is copied (ONNX's 0). Without dynamic axes,
    leading dims equal to the input's are copied and the next one inferred, so that a


    batch dim in front still may change."""
    x = call.args["input"]
    old, new = cx.shape(x), list(cx.shape(call.output))
    if old == tuple(new):
        return cx.value(x)
    target = list(new)
    if 0 in new:
        return cx.g.op("Reshape", cx.value(x), cx.ints(target), allowzero=1)
    dynamic = cx.dynamic_dims(call.output)
    if cx.dynamic_dims(x) or dynamic:
        copied = [i for i in dynamic if i < len(old) and i in cx.dynamic_dims(x) and old[i] == new[i]]
        inferred = [i for i in dynamic if i not in copied]
        if len(inferred) > 1:
            raise OnnxExporterError(
                f"plugrad.onnx.export: '{call.name}' to shape {new} has {len(inferred)} dims ({inferred}) that follow "
                f"dynamic axes and are not the input's own dims; ONNX's Reshape can infer one. Keep those dims "
                f"apart in the model, or make fewer input dims dynamic")
        for i in copied:
            target[i] = 0
        if inferred:
            target[inferred[0]] = -1
    else:
        k = 0
        while k < min(len(old), len(new)) and old[k] == new[k]:
            target[k] = 0
            k += 1
        if k < len(new):
            target[k] = -1
    return cx.g.op("Reshape", cx.value(x), cx.ints(target))


@maps("transpose")
def map_transpose(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    if rank < 2:
        return cx.value(x)
    perm = list(range(rank))
    d0, d1 = axis_of(call.args["dim0"], rank), axis_of(call.args["dim1"], rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return cx.g.op("Transpose", cx.value(x), perm=perm)


@maps("t")
def map_t(cx, call):
    x = call.args["input"]
    return cx.value(x) if len(cx.shape(x)) < 2 else cx.g.op("Transpose", cx.value(x), perm=[1, 0])


@maps("permute")
def map_permute(cx, call):
    x = call.args["input"]
    dims = call.args["dims"]
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    rank = len(cx.shape(x))
    return cx.g.op("Transpose", cx.value(x), perm=[axis_of(d, rank) for d in dims])


@maps("unsqueeze")
def map_unsqueeze(cx, call):
    x = call.args["input"]
    return cx.g.op("Unsqueeze", cx.value(x), cx.ints([axis_of(call.args["dim"], len(cx.shape(x)) + 1)]))


@maps("squeeze")
def map_squeeze(cx, call):
    x = call.args["input"]
    shape = cx.shape(x)
    axes = [d for d in axes_of(call.args["dim"], len(shape)) if shape and shape[d] == 1]
    return cx.g.op("Squeeze", cx.value(x), cx.ints(axes)) if axes else cx.value(x)


@maps("expand", "expand_as", "broadcast_to")
def map_expand(cx, call):
    x = call.args["input"]
    old, new = cx.shape(x), list(cx.shape(call.output))
    if old == tuple(new):
        return cx.value(x)
    lead = len(new) - len(old)   # a dim the input already has stays the input's (1 broadcasts to it)
    target = [1 if i >= lead and old[i - lead] == n else n for i, n in enumerate(new)]
    return cx.g.op("Expand", cx.value(x), cx.ints(target))


@maps("repeat")
def map_repeat(cx, call):
    x, sizes = call.args["input"], call.args["sizes"]
    sizes = list(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else list(sizes)
    r = cx.value(x)
    extra = len(sizes) - len(cx.shape(x))
    if extra:
        r = cx.g.op("Unsqueeze", r, cx.ints(range(extra)))
    return cx.g.op("Tile", r, cx.ints(sizes))


@maps("flip")
def map_flip(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    dims = axes_of(call.args["dims"], rank) if call.args["dims"] != () else []
    if not dims:
        return cx.value(x)
    n = len(dims)
    return cx.g.op("Slice", cx.value(x), cx.ints([-1] * n), cx.ints([-END] * n), cx.ints(dims), cx.ints([-1] * n))


@maps("to", "type_as")
def map_to(cx, call):
    x, dt = call.args["input"], out_dtype(cx, call)
    return cx.value(x) if cx.dtype(x) is dt else cx.g.op("Cast", cx.value(x), to=ONNX_TYPES[dt])


@maps("select")
def map_select(cx, call):
    x = call.args["input"]
    shape = cx.shape(x)
    d = axis_of(call.args["dim"], len(shape))
    # a negative index stays negative (Gather counts it from the end): still right when the dim is dynamic
    return cx.g.op("Gather", cx.value(x), cx.g.constant(scalar_index(call.args["index"])), axis=d)


@maps("narrow")
def map_narrow(cx, call):
    x = call.args["input"]
    d = axis_of(call.args["dim"], len(cx.shape(x)))
    start = int(call.args["start"])
    stop = start + int(call.args["length"])
    stop = END if start < 0 and stop == 0 else stop   # counted from the end up to it
    return cx.g.op("Slice", cx.value(x), cx.ints([start]), cx.ints([stop]), cx.ints([d]))



@maps("split", "chunk", "unbind", "tensor_split")
def map_split(cx, call):
    x = call.args["input"]
    rank = len(cx.shape(x))
    d = axis_of(call.args.get("dim", 0), rank)
    parts = list(call.output)
    sizes = [cx.shape(p)[d] if call.name != "unbind" else 1 for p in parts]
    if len(parts) == 1:
        outs = [cx.value(x)]
    elif len(set(sizes)) == 1 and cx.opset >= 18:   # equal parts: still equal when the dim is dynamic
        outs = cx.g.op("Split", cx.value(x), axis=d, num_outputs=len(parts), outputs=len(parts))
    else:
        outs = cx.g.op("Split", cx.value(x), cx.ints(sizes), axis=d, outputs=len(parts))
    if call.name == "unbind":
        outs = [cx.g.op("Squeeze", o, cx.ints([d])) for o in outs]
    return outs


@maps("cat")
def map_cat(cx, call):
    tensors = [t for t in call.args["tensors"] if not (len(cx.shape(t)) == 1 and cx.shape(t)[0] == 0)]
    dt = out_dtype(cx, call)
    rank = len(cx.shape(call.output))
    return cx.g.op("Concat", *(cx.value(t, dt) for t in tensors), axis=axis_of(call.args["dim"], rank))


@maps("stack")
def map_stack(cx, call):
    dt = out_dtype(cx, call)
    d = axis_of(call.args["dim"], len(cx.shape(call.output)))
    axes = cx.ints([d])
    return cx.g.op("Concat", *(cx.g.op("Unsqueeze", cx.value(t, dt), axes) for t in call.args["tensors"]), axis=d)


@maps("getitem")
def map_getitem(cx, call):
    """``x[key]`` for keys of ints, slices, None, ``...`` and one integer index tensor."""
    x, key = call.args["x"], call.args["key"]
    key = key if isinstance(key, tuple) else (key,)
    shape = list(cx.shape(x))
    if sum(isinstance(k, Tensor) for k in key) > 1 or \
            any(isinstance(k, Tensor) and (k.dtype is bool_ or k.dtype.is_floating_point) for k in key):
        return None
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (len(shape) - consumed) + key[i + 1:]
    r, axis = cx.value(x), 0
    for k in key:
        if k is None:
            r = cx.g.op("Unsqueeze", r, cx.ints([axis]))
            shape.insert(axis, 1)
            axis += 1
        elif isinstance(k, slice):
            # bounds as written (negative ones count from the end, ONNX clamps them), so that a
            # slice of a dynamic dim still holds at other sizes
            step = 1 if k.step is None else int(k.step)
            if (k.start, k.stop, step) != (None, None, 1):
                bounds = [0 if k.start is None else int(k.start), END if k.stop is None else int(k.stop)]
                r = cx.g.op("Slice", r, cx.ints(bounds[:1]), cx.ints(bounds[1:]), cx.ints([axis]), cx.ints([step]))
                shape[axis] = len(range(*k.indices(shape[axis])))
            axis += 1
        elif isinstance(k, Tensor):
            r = cx.g.op("Gather", r, cx.value(k, int64), axis=axis)
            new = list(cx.shape(k))
            shape[axis:axis + 1] = new
            axis += len(new)
        else:
            r = cx.g.op("Gather", r, cx.g.constant(scalar_index(int(k))), axis=axis)
            del shape[axis]
    return r


# ---- reductions ---------------------------------------------------------------------------------------
