"""``plugrad.nn.functional`` (``torch.nn.functional``): the layers as functions.

Every op here lives in ``plugrad.ops`` (convolution, pooling, dense, normalization,
loss, padding, activation) and is re-exported. The functions defined below only
forward their arguments: the activations that share a name with a ``plugrad`` op
(``relu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``) take the extra
arguments of their ``torch.nn.functional`` forms (``inplace``, an implicit ``dim``).
"""

from __future__ import annotations

from ..ops.attention import (canonical_mask as _canonical_mask, multi_head_attention_forward,  # noqa: F401
                             none_or_dtype as _none_or_dtype, scaled_dot_product_attention)  # (F._canonical_mask...)
from ..ops.activation import (dropout, elu, gelu, hardtanh, implicit_dim as _implicit_dim, leaky_relu, logsigmoid,
                              normalize, one_hot, relu6, silu, softmin, softplus)
from ..ops.activation import (celu, celu_, elu_, glu, hardshrink, hardsigmoid, hardswish, hardtanh_, leaky_relu_,
                              mish, prelu, rrelu, rrelu_, selu, selu_, softshrink, softsign, tanhshrink, threshold,
                              threshold_)
from ..ops.activation import bilinear, channel_shuffle, embedding_bag
from ..ops.activation import alpha_dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from ..ops.convolution import conv1d, conv2d, conv_transpose2d, fold, unfold
from ..ops.dense import embedding, linear
from ..ops.guard import guard_function_forms
from ..ops.gumbel import gumbel_softmax
from ..ops.sampling_grid import affine_grid, grid_sample
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, l1_loss,
                        mse_loss, nll_loss, smooth_l1_loss)
from ..ops.loss import ctc_loss, pdist
from ..ops.loss import (cosine_embedding_loss, cosine_similarity, gaussian_nll_loss, hinge_embedding_loss, kl_div,
                        margin_ranking_loss, multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss,
                        pairwise_distance, poisson_nll_loss, soft_margin_loss, triplet_margin_loss,
                        triplet_margin_with_distance_loss)
from ..ops.normalization import batch_norm, layer_norm
from ..ops.normalization import group_norm, instance_norm, local_response_norm, rms_norm
from ..ops.padding import pad
from ..ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_pool2d_with_indices
from ..ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,
                           adaptive_max_pool3d, avg_pool1d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d,
                           max_pool1d_with_indices, max_pool3d, max_pool3d_with_indices)
from ..ops.pooling import max_unpool1d, max_unpool2d, max_unpool3d
from ..ops.convolution import conv3d, conv_transpose1d, conv_transpose3d
from ..ops.upsampling import interpolate, pixel_shuffle, pixel_unshuffle
from .._missing import missing_attribute as _missing_attribute
from ..ops import elementwise as _ew
from ..ops import reduction as _rd
from ..tensor import Tensor

__all__ = [
    "linear", "conv1d", "conv2d", "conv_transpose2d", "unfold", "fold", "max_pool2d", "max_pool2d_with_indices",
    "avg_pool2d", "adaptive_avg_pool2d", "dropout", "batch_norm", "layer_norm", "embedding", "one_hot", "pad", "relu",
    "relu_", "relu6", "leaky_relu", "elu", "softplus", "silu", "gelu", "hardtanh", "logsigmoid", "sigmoid", "tanh",
    "softmax", "log_softmax", "softmin", "normalize", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "selu", "selu_", "celu",
    "celu_", "mish", "hardswish", "hardsigmoid", "prelu", "glu", "softsign", "tanhshrink", "softshrink", "hardshrink",
    "threshold", "threshold_", "rrelu", "rrelu_", "elu_", "leaky_relu_", "hardtanh_", "group_norm", "instance_norm",
    "rms_norm", "local_response_norm", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss",
    "pairwise_distance", "cosine_similarity", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "embedding_bag", "bilinear", "ctc_loss", "pdist", "channel_shuffle", "conv3d",
    "conv_transpose1d", "conv_transpose3d", "max_pool1d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool3d_with_indices", "avg_pool1d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "gumbel_softmax", "affine_grid", "grid_sample", "max_unpool1d", "max_unpool2d", "max_unpool3d", "interpolate",
    "pixel_shuffle", "pixel_unshuffle", "scaled_dot_product_attention", "multi_head_attention_forward"
]

# ---- the nn.functional forms of plugrad ops ------------------------------------------------

def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return input.relu_() if inplace else _ew.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def sigmoid(input: Tensor) -> Tensor:
    return _ew.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _ew.tanh(input)


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    return _rd.softmax(input, _implicit_dim("softmax", input, dim), dtype=dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    return _rd.log_softmax(input, _implicit_dim("log_softmax", input, dim), dtype=dtype)


guard_function_forms(globals())


def __getattr__(name):
    """A name PyTorch has here and plugrad lacks says so (``plugrad._missing``)."""
    _missing_attribute(__name__, name)
