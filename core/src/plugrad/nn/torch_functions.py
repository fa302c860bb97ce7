"""The ``torch.<name>`` forms of ``nn.functional`` ops (``torch.conv2d``,
``torch.dropout``, ``torch.batch_norm``...), with PyTorch's signatures at that level.

They are the ops ``nn.functional`` wraps, so their argument lists are the native
ones: ``torch.dropout(input, p, train)`` takes ``train`` positionally,
``torch.embedding(weight, indices)`` takes the weight first, ``torch.batch_norm``
takes the affine parameters before the running statistics, and the losses take
``reduction`` as PyTorch's enum (0 none, 1 mean, 2 sum; left out, PyTorch's bindings
give 0 at this level). Each forwards to the
``nn.functional`` op, so values and gradients are that op's.
"""

from __future__ import annotations

import warnings

from . import functional as F

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
           "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "dropout",
           "embedding", "batch_norm", "layer_norm", "instance_norm", "binary_cross_entropy_with_logits", "kl_div",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "poisson_nll_loss", "pixel_shuffle", "pixel_unshuffle"]

# same signatures as nn.functional's
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d
pixel_shuffle, pixel_unshuffle = F.pixel_shuffle, F.pixel_unshuffle

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value, fname):
    """PyTorch's reduction enum (0 none, 1 mean, 2 sum) as ``nn.functional``'s string."""
    if type(value) is not int:
        raise TypeError(f"{fname}(): argument 'reduction' must be int, not {type(value).__name__}")
    if value not in _REDUCTIONS:
        raise ValueError(f"{fname}(): {value} is not a valid value for reduction (0 none, 1 mean, 2 sum)")
    return _REDUCTIONS[value]


def _max_pool(f):
    def pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return f(input, kernel_size, stride if stride != () and stride != [] else None, padding, dilation, ceil_mode)
    pool.__name__ = pool.__qualname__ = f.__name__
    pool.__doc__ = f"``nn.functional.{f.__name__}`` without ``return_indices`` (PyTorch's top-level form)."
    return pool


max_pool1d, max_pool2d, max_pool3d = _max_pool(F.max_pool1d), _max_pool(F.max_pool2d), _max_pool(F.max_pool3d)


def adaptive_max_pool1d(input, output_size):
    """``(values, indices)`` of the adaptive max pool (PyTorch's top level always returns both)."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def dropout(input, p, train):
    """``nn.functional.dropout(input, p, training=train)``."""
    return F.dropout(input, p, train)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` at ``indices`` (weight first; ``padding_idx`` -1: none)."""
    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """``nn.functional.batch_norm`` with the native argument order."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """``nn.functional.layer_norm`` (``cudnn_enable`` is accepted and has no effect)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    """``nn.functional.instance_norm`` with the native argument order."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight,
                                              reduction=_reduction(reduction, "binary_cross_entropy_with_logits"))


def kl_div(input, target, reduction=0, *, log_target=False):
    """``reduction`` 0 (none, the default here), 1 (the mean over every element, as the
    native op computes it) or 2 (sum); without
    ``nn.functional``'s warning about it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F.kl_div(input, target, reduction=_reduction(reduction, "kl_div"), log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction,
                                                                                       "margin_ranking_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction,
                                                                                            "poisson_nll_loss"))


for _f in (binary_cross_entropy_with_logits, margin_ranking_loss, hinge_embedding_loss, cosine_embedding_loss,
           triplet_margin_loss, poisson_nll_loss):
    _f.__doc__ = f"``nn.functional.{_f.__name__}`` with ``reduction`` as PyTorch's enum (0 none, 1 mean, 2 sum)."
del _f
