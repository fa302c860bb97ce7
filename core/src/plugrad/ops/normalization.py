"""Normalisation: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm`` (batch norm
of the input folded to one sample), ``rms_norm`` and ``local_response_norm``.

``batch_norm``, ``layer_norm`` and ``group_norm`` normalise ``x`` over some axes,
``x_hat = (x - mean) / sqrt(var + eps)`` with the biased variance, then apply an
elementwise affine ``x_hat * w + b``. Their
backward is the classic closed form, written with plugrad ops from the saved
input, so it is differentiable again:

    dx = invstd * (gw - mean(gw) - x_hat * mean(gw * x_hat)),   gw = g * w
"""

from __future__ import annotations

from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..dtypes import float32, get_default_dtype, opmath
from ..tensor import Tensor
from .checks import check_bool, check_floating, check_int, check_tensor
from .declare import declare
from .join import cat

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _normalized_grad(g, x, w_b, axes, eps):
    """dx of ``x_hat * w`` for ``x_hat`` normalised over ``axes`` with batch statistics."""
    mu = x.mean(axes, keepdim=True)
    xc = x - mu
    invstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    x_hat = xc * invstd
    gw = g * w_b if w_b is not None else g
    return invstd * (gw - gw.mean(axes, keepdim=True) - x_hat * (gw * x_hat).mean(axes, keepdim=True)), x_hat


class NativeBatchNormBackward0(Node):
    """d batch_norm: dx by the closed form (batch statistics) or g*w*invstd (running
    statistics); dw = sum(g * x_hat); db = sum(g)"""
    __slots__ = ("axes", "param_shape", "eps", "training")

    def backward(self, g):
        x, w, mean, invstd = self.saved_tensors
        w_b = w.reshape(self.param_shape) if w is not None else None
        need = [f is not None for f, _ in self.next_functions]
        if self.training:
            gx, x_hat = _normalized_grad(g, x, w_b, self.axes, self.eps)
        else:
            x_hat = (x - mean) * invstd
            gx = g * (invstd if w_b is None else w_b * invstd)
        gw = (g * x_hat).sum(self.axes) if need[1] else None
        gb = g.sum(self.axes) if need[2] else None
        return (gx if need[0] else None), gw, gb


def _check_param_dtype(t, input):
    """A parameter (weight, bias, running statistic) has the input's dtype, or float32 for a
    float16 input (PyTorch's mixed precision); RuntimeError otherwise."""
    if t._dtype is not input._dtype and not (t._dtype is float32 and opmath(input._dtype) is float32):
        raise RuntimeError(f"{t._dtype!r} parameter for a {input._dtype!r} input: expected parameters of the "
                           f"input's dtype (mixed dtype: expect parameter to have scalar type of the input)")


def _check_param(t, name, c, fname):
    if t is None:
        return
    check_tensor(t, fname, name)
    if t.numel() != c:
        raise RuntimeError(f"{fname}(): expected {name} to have {c} elements (one per channel), got shape "
                           f"{list(t._shape)}")


def _check_batch_size(input: Tensor) -> None:
    """Training statistics need more than one value per channel (a 0-d input has no batch
    dim to count: IndexError, as in PyTorch)."""
    if not input._shape:
        raise IndexError("batch_norm(): expected an input with a batch dim (N, C, ...), got a 0-d input")
    count = input._shape[0]
    for n in input._shape[2:]:
        count *= n
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape!r}")


def _empty_batch_norm(input: Tensor, weight, bias) -> Tensor:
    """An empty input normalises to an empty result, as in PyTorch: a copy scaled and shifted
    by the first weight and bias (so those must have one), the running statistics untouched."""
    out = input.clone()
    if weight is not None:
        out = out * check_tensor(weight, "batch_norm", "weight")[0]
    if bias is not None:
        out = out + check_tensor(bias, "batch_norm", "bias")[0]
    return out


@declare(public=False)
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5) -> Tensor:
    """Normalise each channel (dim 1) of ``input`` over the batch and spatial dims.

    In training the batch statistics are used and the running ones (when given) move
    toward them by ``momentum``, with the unbiased variance; in evaluation the
    running statistics are used."""
    check_tensor(input, "batch_norm", "input")
    if type(training) is not bool:
        check_bool(training, "batch_norm", "training")
    if training:
        _check_batch_size(input)
    if (eps <= 0) if training else (eps < 0):   # NaN passes, as in PyTorch
        raise ValueError(f"batch_norm eps must be {'positive during training' if training else 'non-negative'}, "
                         f"but got {eps}")
    if not input.numel():
        return _empty_batch_norm(input, weight, bias)
    if input.dim() < 2:   # PyTorch reads the missing channel dim: IndexError when training
        raise (IndexError if training else RuntimeError)(
            f"batch_norm(): expected an input with at least 2 dims (N, C, ...), got shape {list(input._shape)}")
    check_floating(input, "batch_norm")
    c = input._shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_param(t, name, c, "batch_norm")
    if training and (running_mean is None) is not (running_var is None):
        raise ValueError("batch_norm(): running_mean and running_var must both be given or both be None, "
                         "got only one of them")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):   # weight and bias: any shape
        if t is not None and len(t._shape) != 1:
            raise RuntimeError(f"batch_norm(): expected {name} to be 1-d with {c} elements, got shape "
                               f"{list(t._shape)}")
    for t in (running_mean, running_var, weight, bias):
        if t is not None and t._dtype is not input._dtype:
            _check_param_dtype(t, input)
    axes = (0,) + tuple(range(2, input.dim()))
    count = input.numel() // c if c else 0
    param_shape = (1, c) + (1,) * (input.dim() - 2)
    with no_grad():
        x = input.detach()
        if training:
            mean = x.mean(axes, keepdim=True)
            xc = x - mean
            var = (xc * xc).mean(axes, keepdim=True)
            invstd = (var + eps).rsqrt()
            if running_mean is not None and running_var is not None:
                m = momentum
                running_mean.mul_(1 - m).add_(mean.reshape(running_mean._shape).to(running_mean._dtype) * m)
                unbiased = var.reshape(running_var._shape).to(running_var._dtype) * (count / (count - 1))
                running_var.mul_(1 - m).add_(unbiased * m)
        else:
            if running_mean is None or running_var is None:
                raise RuntimeError("batch_norm(): running_mean and running_var must be given when training=False")
            mean = running_mean.detach().reshape(param_shape).to(x._dtype)
            invstd = (running_var.detach().reshape(param_shape).to(x._dtype) + eps).rsqrt()
        # one scale and one shift per channel, y = x * scale + shift: PyTorch's form, which also
        # decides where an infinite parameter gives NaN rather than an infinity
        scale = invstd if weight is None else invstd * weight.detach().reshape(param_shape).to(x._dtype)
        shift = -(mean * scale) if bias is None else bias.detach().reshape(param_shape).to(x._dtype) - mean * scale
        y = x * scale + shift
    if STATE.enabled and (input._requires_grad or (weight is not None and weight._requires_grad) or
                          (bias is not None and bias._requires_grad)):
        node = NativeBatchNormBackward0()
        node.axes, node.param_shape, node.eps, node.training = axes, param_shape, eps, bool(training)
        node.save(input, weight, None if training else mean, None if training else invstd)
        record(node, (input, weight, bias), y)
    return y


class NativeLayerNormBackward0(Node):
    """d layer_norm: dx by the closed form over the normalised dims; dw = sum(g * x_hat); db = sum(g)"""
    __slots__ = ("axes", "batch_axes", "eps")

    def backward(self, g):
        x, w = self.saved_tensors
        need = [f is not None for f, _ in self.next_functions]
        gx, x_hat = _normalized_grad(g, x, w, self.axes, self.eps)
        # (an empty tuple of batch axes means no batch: sum(()) would reduce every dim)
        gw = _batch_sum(g * x_hat, self.batch_axes) if len(need) > 1 and need[1] else None
        gb = _batch_sum(g, self.batch_axes) if len(need) > 2 and need[2] else None
        return ((gx if need[0] else None), gw, gb)


def _batch_sum(t, batch_axes):
    return t.sum(batch_axes) if batch_axes else t


def _int_tuple(normalized_shape) -> tuple:
    """``normalized_shape`` (a sequence of ints) as a tuple; PyTorch's TypeError for anything
    else: a string is not a sequence of sizes here, and a bare int is refused by the function
    (only ``nn.LayerNorm`` takes one, and makes it a tuple)."""
    if isinstance(normalized_shape, (tuple, list)):
        try:
            return tuple(check_int(v, "layer_norm", "normalized_shape") for v in normalized_shape)
        except TypeError:
            pass
    raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                    f"{type(normalized_shape).__name__}")


@declare(public=False)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims of ``input``."""
    check_tensor(input, "layer_norm", "input")
    shape = _int_tuple(normalized_shape)
    k = len(shape)
    if not k:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if input.dim() < k or tuple(input._shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size {list(input._shape)}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is None:
            continue
        check_tensor(t, "layer_norm", name)
        if tuple(t._shape) != shape:
            raise RuntimeError(f"layer_norm(): expected {name} of shape {list(shape)}, got {list(t._shape)}")
        if t._dtype is not input._dtype:
            _check_param_dtype(t, input)
    axes = tuple(range(input.dim() - k, input.dim()))
    with no_grad():
        x = input.detach()
        xc = x - x.mean(axes, keepdim=True)
        y = xc * ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
        if weight is not None:
            y = y * weight.detach().to(x._dtype)
        if bias is not None:
            y = y + bias.detach().to(x._dtype)
    if STATE.enabled and (input._requires_grad or (weight is not None and weight._requires_grad) or
                          (bias is not None and bias._requires_grad)):
        node = NativeLayerNormBackward0()
        node.axes, node.batch_axes, node.eps = axes, tuple(range(input.dim() - k)), eps
        node.save(input, weight)
        record(node, (input, weight, bias), y)
    return y


# ---- group, instance, RMS and local response normalisation -------------------------------------

class NativeGroupNormBackward0(Node):
    """d group_norm: dx by the closed form over each (sample, group); dw = sum(g * x_hat) and
    db = sum(g) over every dim but the channel dim"""
    __slots__ = ("groups", "eps", "param_shape", "axes")

    def backward(self, g):
        x, w = self.saved_tensors
        need = [f is not None for f, _ in self.next_functions]
        shape = x._shape
        grouped = (shape[0], self.groups, -1)
        gw_in = g if w is None else g * w.reshape(self.param_shape)
        gx, x_hat = _normalized_grad(gw_in.reshape(grouped), x.reshape(grouped), None, (2,), self.eps)
        x_hat = x_hat.reshape(shape)
        gw = (g * x_hat).sum(self.axes) if need[1] else None
        gb = g.sum(self.axes) if need[2] else None
        return (gx.reshape(shape) if need[0] else None), gw, gb


@declare
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:
    """Normalise ``input`` (N, C, ...) over each group of ``C / num_groups`` channels (and
    the spatial dims) of each sample, then scale and shift per channel."""
    check_tensor(input, "group_norm", "input")
    num_groups = check_int(num_groups, "group_norm", "num_groups")
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input._shape[0], input._shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input._shape)} and num_groups={num_groups}")
    check_floating(input, "group_norm")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None:
            check_tensor(t, "group_norm", name)
            if t.dim() != 1 or t.numel() != c:
                raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                                   f"input, but got {name} of shape {list(t._shape)} and input of shape "
                                   f"{list(input._shape)}")
            if t._dtype is not input._dtype:
                _check_param_dtype(t, input)
    param_shape = (1, c) + (1,) * (input.dim() - 2)
    axes = (0,) + tuple(range(2, input.dim()))
    if not input.numel():
        return _empty_batch_norm(input, weight, bias) if n else input.clone()
    with no_grad():
        x = input.detach().reshape(n, num_groups, -1)
        mean = x.mean((2,), keepdim=True)
        xc = x - mean
        invstd = ((xc * xc).mean((2,), keepdim=True) + eps).rsqrt()
        # one scale and one shift per (sample, channel), y = x * scale + shift: PyTorch's form,
        # which also decides where an infinite parameter gives NaN rather than an infinity
        per_channel = (n, num_groups, c // num_groups)
        scale = invstd.expand(per_channel).reshape(n, c)
        mean_c = mean.expand(per_channel).reshape(n, c)
        if weight is not None:
            scale = scale * weight.detach().to(x._dtype)
        shift = -(mean_c * scale) if bias is None else bias.detach().to(x._dtype) - mean_c * scale
        full = (n, c) + (1,) * (input.dim() - 2)
        y = input.detach() * scale.reshape(full) + shift.reshape(full)
    if STATE.enabled and (input._requires_grad or (weight is not None and weight._requires_grad) or
                          (bias is not None and bias._requires_grad)):
        node = NativeGroupNormBackward0()
        node.groups, node.eps, node.param_shape, node.axes = num_groups, eps, param_shape, axes
        node.save(input, weight)
        record(node, (input, weight, bias), y)
    return y


def _repeat_per_sample(t, n):
    """A per-channel tensor repeated for each of ``n`` samples (instance norm's channels)."""
    return None if t is None else t.repeat(n)


@declare(public=False)   # torch.instance_norm takes its arguments in another order: nn.functional's only
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims: ``batch_norm`` of the
    input seen as one sample of N * C channels (PyTorch's own composition). The running
    statistics, when given, move toward the batch's mean over the samples."""
    check_tensor(input, "instance_norm", "input")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        if t is not None:
            check_tensor(t, "instance_norm", name)
    if use_input_stats:
        size = 1
        for s in input._shape[2:]:
            size *= s
        if size == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape!r}")
    if input.dim() < 2:
        raise RuntimeError(f"instance_norm(): expected an input with at least 2 dims (N, C, ...), got shape "
                           f"{list(input._shape)}")
    n, c = input._shape[0], input._shape[1]
    mean_r, var_r = _repeat_per_sample(running_mean, n), _repeat_per_sample(running_var, n)
    folded = input.reshape((1, n * c) + tuple(input._shape[2:]))
    out = batch_norm(folded, mean_r, var_r, _repeat_per_sample(weight, n), _repeat_per_sample(bias, n),
                     use_input_stats, momentum, eps)
    if use_input_stats:   # (evaluation leaves the repeated statistics as they were)
        with no_grad():
            if running_mean is not None:
                running_mean.copy_(mean_r.reshape(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(var_r.reshape(n, c).mean(0))
    return out.reshape(input._shape)


#: the machine epsilon of each floating dtype (``torch.finfo(dtype).eps``): rms_norm's default eps
_MACHINE_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}


@declare
def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps)`` over the last ``len(normalized_shape)`` dims, times
    ``weight`` (a composition, as in PyTorch); ``eps=None`` is the dtype's machine epsilon."""
    check_tensor(input, "rms_norm", "input")
    shape = _int_tuple(normalized_shape)
    k = len(shape)
    if input.dim() < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.dim()}")
    if tuple(input._shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*"
                           f"{', '.join(map(str, shape))}], but got input of size{list(input._shape)}")
    if weight is not None:
        check_tensor(weight, "rms_norm", "weight")
        if tuple(weight._shape) != shape:
            raise RuntimeError(f"rms_norm(): expected weight of shape {list(shape)}, got {list(weight._shape)}")
    check_floating(input, "rms_norm")
    if eps is None:
        eps = _MACHINE_EPS[input._dtype.name]
    axes = tuple(range(input.dim() - k, input.dim()))
    r = input * (input.pow(2).mean(axes, keepdim=True) + eps).rsqrt()
    return r if weight is None else r * weight


@declare(public=False)
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0) -> Tensor:
    """Each element divided by ``(k + alpha * mean of the squares of the ``size`` channels
    around it) ** beta`` (the window is zero-padded at the channel dim's ends)."""
    check_tensor(input, "local_response_norm", "input")
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    size = check_int(size, "local_response_norm", "size")
    if not input.numel():
        return input
    sq = input * input
    c = input._shape[1]
    lo, hi = size // 2, (size - 1) // 2
    pad_shape = list(input._shape)
    parts = []
    if lo:
        pad_shape[1] = lo
        parts.append(sq.new_zeros(tuple(pad_shape)))
    parts.append(sq)
    if hi:
        pad_shape[1] = hi
        parts.append(sq.new_zeros(tuple(pad_shape)))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    window = padded.narrow(1, 0, c)
    for i in range(1, size):
        window = window + padded.narrow(1, i, c)
    # PyTorch averages with its pooling, which divides an integer input's sums in integers
    mean = window / size if input._dtype.is_floating_point else (window // size).to(get_default_dtype())
    return input / (mean * alpha + k).pow(beta)
