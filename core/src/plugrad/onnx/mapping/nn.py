"""Mappings of dense layers, convolution, pooling, normalization, embedding and resampling."""

from __future__ import annotations

from ... import creation
from ...dtypes import float32
from .table import filled, maps, out_dtype, pair


@maps("linear")
def map_linear(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    if len(cx.shape(x)) == 2:
        return cx.g.op("Gemm", cx.value(x), cx.value(w), *([cx.value(b)] if b is not None else []), transB=1)
    r = cx.g.op("MatMul", cx.value(x), cx.g.op("Transpose", cx.value(w), perm=[1, 0]))
    return r if b is None else cx.g.op("Add", r, cx.value(b))


@maps("matmul", "mm", "bmm")
def map_matmul(cx, call):
    other = call.args.get("other", call.args.get("mat2"))
    return cx.g.op("MatMul", cx.value(call.args["input"]), cx.value(other))


@maps("addmm", "baddbmm")
def map_addmm(cx, call):
    dt = out_dtype(cx, call)
    first, second = ("mat1", "mat2") if call.name == "addmm" else ("batch1", "batch2")
    a, b = call.args[first], call.args[second]
    prod = cx.g.op("MatMul", cx.value(a), cx.value(b))
    beta, alpha = call.args["beta"], call.args["alpha"]
    if alpha != 1:
        prod = cx.g.op("Mul", prod, cx.scalar(alpha, dt))
    if beta == 0:
        return prod
    c = cx.value(call.args["input"], dt)
    if beta != 1:
        c = cx.g.op("Mul", c, cx.scalar(beta, dt))
    return cx.g.op("Add", c, prod)


@maps("conv1d", "conv2d", "conv3d")
def map_conv(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    n = len(cx.shape(w)) - 2
    kernel = list(cx.shape(w)[2:])
    dilation = pair(call.args["dilation"], n)
    padding = call.args["padding"]
    if padding == "valid":
        begin = end = [0] * n
    elif padding == "same":   # PyTorch puts the odd one at the end
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        begin = [t // 2 for t in total]
        end = [t - s for t, s in zip(total, begin)]
    else:
        begin = end = pair(padding, n)
    inputs = [cx.value(x), cx.value(w)] + ([cx.value(b)] if b is not None else [])
    return cx.g.op("Conv", *inputs, kernel_shape=kernel, strides=pair(call.args["stride"], n), pads=begin + end,
                   dilations=dilation, group=int(call.args["groups"]))


@maps("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def map_conv_transpose(cx, call):
    x, w, b = call.args["input"], call.args["weight"], call.args["bias"]
    n = len(cx.shape(w)) - 2
    pads = pair(call.args["padding"], n)
    inputs = [cx.value(x), cx.value(w)] + ([cx.value(b)] if b is not None else [])
    return cx.g.op("ConvTranspose", *inputs, kernel_shape=list(cx.shape(w)[2:]), strides=pair(call.args["stride"], n),
                   pads=pads + pads, dilations=pair(call.args["dilation"], n), group=int(call.args["groups"]),
                   output_padding=pair(call.args["output_padding"], n))


def _pool_window(cx, call, n):
    kernel = pair(call.args["kernel_size"], n)
    stride = call.args["stride"]
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else pair(stride, n)
    pads = pair(call.args["padding"], n)
    return kernel, stride, pads + pads


@maps("max_pool1d", "max_pool2d", "max_pool3d")
def map_max_pool(cx, call):
    if call.args.get("return_indices"):
        return None
    n = int(call.name[-2])
    kernel, stride, pads = _pool_window(cx, call, n)
    return cx.g.op("MaxPool", cx.value(call.args["input"]), kernel_shape=kernel, strides=stride, pads=pads,
                   dilations=pair(call.args["dilation"], n), ceil_mode=int(bool(call.args["ceil_mode"])))


@maps("avg_pool1d", "avg_pool2d", "avg_pool3d")
def map_avg_pool(cx, call):
    if call.args.get("divisor_override") is not None:
        return None
    n = int(call.name[-2])
    kernel, stride, pads = _pool_window(cx, call, n)
    return cx.g.op("AveragePool", cx.value(call.args["input"]), kernel_shape=kernel, strides=stride, pads=pads,
                   ceil_mode=int(bool(call.args["ceil_mode"])),
                   count_include_pad=int(bool(call.args["count_include_pad"])))


@maps("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d")
def map_adaptive_avg_pool(cx, call):
    x = call.args["input"]
    n = int(call.name[-2])
    size_in = list(cx.shape(x)[-n:])
    size_out = list(cx.shape(call.output)[-n:])
    if all(o == 1 for o in size_out):
        return cx.g.op("GlobalAveragePool", cx.value(x))
    if any(i % o for i, o in zip(size_in, size_out)):
        return None   # windows of unequal sizes: no single ONNX pooling node
    kernel = [i // o for i, o in zip(size_in, size_out)]
    return cx.g.op("AveragePool", cx.value(x), kernel_shape=kernel, strides=kernel)


@maps("batch_norm")
def map_batch_norm(cx, call):
    a = call.args
    mean, var = a["running_mean"], a["running_var"]
    if a["training"] or mean is None or var is None:
        return None
    x = a["input"]
    dt = cx.dtype(x)
    channels = cx.shape(x)[1]
    scale = cx.value(a["weight"]) if a["weight"] is not None else cx.g.constant(filled(channels, 1.0, dt))
    bias = cx.value(a["bias"]) if a["bias"] is not None else cx.g.constant(filled(channels, 0.0, dt))
    return cx.g.op("BatchNormalization", cx.value(x), scale, bias, cx.value(mean), cx.value(var),
                   epsilon=float(a["eps"]))


@maps("layer_norm")
def map_layer_norm(cx, call):
    a = call.args
    x = a["input"]
    shape = list(a["normalized_shape"]) if isinstance(a["normalized_shape"], (tuple, list)) else \
        [int(a["normalized_shape"])]
    dt = cx.dtype(x)
    n = 1
    for s in shape:
        n *= s
    scale = cx.value(a["weight"]) if a["weight"] is not None else \
        cx.g.op("Reshape", cx.g.constant(filled(n, 1.0, dt)), cx.ints(shape))
    inputs = [cx.value(x), scale] + ([cx.value(a["bias"])] if a["bias"] is not None else [])
    return cx.g.op("LayerNormalization", *inputs, axis=-len(shape), epsilon=float(a["eps"]))


@maps("instance_norm")
def map_instance_norm(cx, call):
    a = call.args
    if not a["use_input_stats"]:
        return None
    x = a["input"]
    dt, channels = cx.dtype(x), cx.shape(x)[1]
    scale = cx.value(a["weight"]) if a["weight"] is not None else cx.g.constant(filled(channels, 1.0, dt))
    bias = cx.value(a["bias"]) if a["bias"] is not None else cx.g.constant(filled(channels, 0.0, dt))
    return cx.g.op("InstanceNormalization", cx.value(x), scale, bias, epsilon=float(a["eps"]))


@maps("group_norm")
def map_group_norm(cx, call):
    """Normalized over each group of channels (with the rest of the sample), then scaled
    per channel: ONNX's GroupNormalization scales per group before opset 21, so this is
    written with InstanceNormalization over the groups."""
    a = call.args
    x = a["input"]
    shape, dt = cx.shape(x), cx.dtype(x)
    groups = int(a["num_groups"])
    grouped = cx.g.op("Reshape", cx.value(x), cx.ints([0, groups, -1]))
    normed = cx.g.op("InstanceNormalization", grouped, cx.g.constant(filled(groups, 1.0, dt)),
                     cx.g.constant(filled(groups, 0.0, dt)), epsilon=float(a["eps"]))
    r = cx.g.op("Reshape", normed, cx.ints([0, shape[1]] + [-1 if i == 0 else n for i, n in enumerate(shape[2:])]
                                           if len(shape) > 2 else [0, shape[1]]))
    per_channel = [shape[1]] + [1] * (len(shape) - 2)
    if a["weight"] is not None:
        r = cx.g.op("Mul", r, cx.g.op("Reshape", cx.value(a["weight"]), cx.ints(per_channel)))
    if a["bias"] is not None:
        r = cx.g.op("Add", r, cx.g.op("Reshape", cx.value(a["bias"]), cx.ints(per_channel)))
    return r


@maps("embedding")
def map_embedding(cx, call):
    if call.args.get("max_norm") is not None:
        return None
    return cx.g.op("Gather", cx.value(call.args["weight"]), cx.value(call.args["input"]), axis=0)


@maps("interpolate")
def map_interpolate(cx, call):
    """ONNX's Resize with PyTorch's coordinates: ``nearest`` floors source positions
    (asymmetric), the linear and cubic modes use half pixels (or the corners with
    ``align_corners``); a ``scale_factor`` is given as Resize's scales, so it holds at
    other input sizes."""
    a = call.args
    x, mode = a["input"], a["mode"]
    modes = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
             "bicubic": "cubic"}
    if mode not in modes or a["antialias"]:
        return None
    attrs = {"mode": modes[mode]}
    if mode == "nearest":
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        attrs["coordinate_transformation_mode"] = "align_corners" if a["align_corners"] else "pytorch_half_pixel"
    if mode == "bicubic":
        attrs["cubic_coeff_a"] = -0.75
    rank = len(cx.shape(x))
    factor = a["scale_factor"]
    if factor is not None and not a["recompute_scale_factor"]:
        factors = [float(f) for f in factor] if isinstance(factor, (tuple, list)) else [float(factor)] * (rank - 2)
        scales = cx.g.constant(creation.tensor([1.0, 1.0] + factors, dtype=float32))
        return cx.g.op("Resize", cx.value(x), "", scales, **attrs)
    return cx.g.op("Resize", cx.value(x), "", "", cx.ints(cx.shape(call.output)), **attrs)


@maps("pixel_shuffle")
def map_pixel_shuffle(cx, call):
    x = call.args["input"]
    if len(cx.shape(x)) != 4:
        return None
    return cx.g.op("DepthToSpace", cx.value(x), blocksize=int(call.args["upscale_factor"]), mode="CRD")


@maps("pixel_unshuffle")
def map_pixel_unshuffle(cx, call):
    """(N, C, H*r, W*r) -> (N, C*r*r, H, W), each channel's r x r blocks in row-major
    order: a reshape, a transpose and a reshape (ONNX's SpaceToDepth orders them
    otherwise)."""
    x, r = call.args["input"], int(call.args["downscale_factor"])
    if len(cx.shape(x)) != 4:
        return None
    n, c, h, w = cx.shape(x)
    split = cx.g.op("Reshape", cx.value(x), cx.ints([0, c, h // r, r, w // r, r]))
    moved = cx.g.op("Transpose", split, perm=[0, 1, 3, 5, 2, 4])
    return cx.g.op("Reshape", moved, cx.ints([0, c * r * r, h // r, w // r]))
