"""``plugrad.nn.functional`` with bad arguments and edge dtypes, against the PyTorch oracle
on every device: each call either succeeds with PyTorch's result (dtype, shape, values)
or raises PyTorch's exception class.

A case is ``(name, call)``: ``call(F, t)`` runs in both libraries, ``F`` being the
library's ``nn.functional`` and ``t(values, dtype="float32")`` building a tensor (on the
device under test for plugrad). PyTorch's ``NotImplementedError`` (no kernel for a dtype)
asks for a ``RuntimeError``, its base class.
"""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import plugrad.nn.functional as PF
import pytest

import fuzz_support as fz

torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.nn.functional")
pytestmark = pytest.mark.torch_oracle

X = [[-1.5, 0.0], [2.0, 7.0]]
IX = [[-3, 0], [2, 7]]
B = [[True, False], [True, True]]
IMG = [[[[-1, 2, 7], [-3, -6, 4], [9, 9, 8]]]]
LOGITS = [[0.5, 2.0, 1.0]]
HUGE_F = 1e289          # a float beyond float32's range
GRID16 = np.arange(16.0).reshape(1, 1, 4, 4).tolist()

CASES = [
    # ---- activations: parameters beyond float32, integer and bool inputs, bound order
    ("elu alpha huge", lambda F, t: F.elu(t(X), alpha=HUGE_F)),
    ("elu alpha 2**62", lambda F, t: F.elu(t(X), alpha=2 ** 62)),
    ("elu float64 alpha 1e300", lambda F, t: F.elu(t(X, "float64"), alpha=1e300)),
    ("elu alpha nan keeps zeros", lambda F, t: F.elu(t(X), alpha=float("nan"))),
    ("elu alpha inf keeps zeros", lambda F, t: F.elu(t(X), alpha=float("inf"))),
    ("elu alpha -inf keeps zeros", lambda F, t: F.elu(t(X), alpha=float("-inf"))),
    ("leaky_relu slope huge", lambda F, t: F.leaky_relu(t(X), HUGE_F)),
    ("softplus beta huge", lambda F, t: F.softplus(t(X), beta=HUGE_F)),
    ("softplus threshold huge", lambda F, t: F.softplus(t(X), threshold=-HUGE_F)),
    ("softplus threshold nan", lambda F, t: F.softplus(t(X), threshold=float("nan"))),
    ("softplus threshold inf", lambda F, t: F.softplus(t(X), threshold=float("-inf"))),
    ("hardtanh int64", lambda F, t: F.hardtanh(t(IX, "int64"))),
    ("hardtanh int64 fractional bounds", lambda F, t: F.hardtanh(t(IX, "int64"), -0.5, 2.5)),
    ("relu6 int64", lambda F, t: F.relu6(t(IX, "int64"))),
    ("relu6 uint8", lambda F, t: F.relu6(t([[3, 0], [2, 7]], "uint8"))),
    ("hardtanh uint8 negative bound", lambda F, t: F.hardtanh(t([[3, 0], [2, 7]], "uint8"))),
    ("hardtanh int8 bound overflows", lambda F, t: F.hardtanh(t(IX, "int8"), -300, 300)),
    ("hardtanh int64 nan bound", lambda F, t: F.hardtanh(t(IX, "int64"), float("nan"), 2)),
    ("hardtanh bool", lambda F, t: F.hardtanh(t(B, "bool"))),
    ("relu6 bool", lambda F, t: F.relu6(t(B, "bool"))),
    ("hardtanh min None", lambda F, t: F.hardtanh(t(X), min_val=None)),
    ("hardtanh max None", lambda F, t: F.hardtanh(t(X), max_val=None)),
    ("hardtanh min > max", lambda F, t: F.hardtanh(t(X), 2.0, 1.0)),
    ("hardtanh min > max bool", lambda F, t: F.hardtanh(t(B, "bool"), 2.0, 1.0)),
    ("hardtanh huge min", lambda F, t: F.hardtanh(t(X), 2 ** 62)),
    ("hardtanh bounds beyond float32", lambda F, t: F.hardtanh(t(X), -HUGE_F, HUGE_F)),
    ("hardtanh float16 bounds beyond float16", lambda F, t: F.hardtanh(t(X, "float16"), -1e5, 1e5)),
    # ---- softmax and normalize: dims of a 0-d tensor
    ("softmax 0-d dim -2", lambda F, t: F.softmax(t(1.0), dim=-2)),
    ("log_softmax 0-d dim 1", lambda F, t: F.log_softmax(t(1.0), dim=1)),
    ("softmin 0-d dim 1", lambda F, t: F.softmin(t(1.0), dim=1)),
    ("softmax 0-d dim 0", lambda F, t: F.softmax(t(1.0), dim=0)),
    ("normalize 0-d", lambda F, t: F.normalize(t(1.0))),
    ("normalize 0-d dim -1", lambda F, t: F.normalize(t(1.0), dim=-1)),
    # ---- pointwise losses: bool and mixed dtypes
    ("mse_loss bool target", lambda F, t: F.mse_loss(t(X), t(B, "bool"))),
    ("mse_loss bool input", lambda F, t: F.mse_loss(t(B, "bool"), t(X), reduction="none")),
    ("mse_loss 0-d float64 input", lambda F, t: F.mse_loss(t(1.0, "float64"), t(X))),
    ("mse_loss bool both", lambda F, t: F.mse_loss(t(B, "bool"), t(B, "bool"))),
    ("smooth_l1_loss bool target", lambda F, t: F.smooth_l1_loss(t(X), t(B, "bool"))),
    ("smooth_l1_loss bool input", lambda F, t: F.smooth_l1_loss(t(B, "bool"), t(X), reduction="none")),
    ("huber_loss bool target", lambda F, t: F.huber_loss(t(X), t(B, "bool"))),
    ("huber_loss bool input", lambda F, t: F.huber_loss(t(B, "bool"), t(X))),
    ("huber_loss int64 input", lambda F, t: F.huber_loss(t(IX, "int64"), t(X))),
    ("huber_loss float64 target", lambda F, t: F.huber_loss(t(X), t(X, "float64"))),
    # ---- class losses: weight, ignore_index, target shapes
    ("cross_entropy int64 weight", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"),
                                                                 weight=t([1, 2, 3], "int64"))),
    ("cross_entropy bool weight", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"),
                                                                weight=t([True, False, True], "bool"))),
    ("cross_entropy float64 weight", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"),
                                                                   weight=t([1.0, 2.0, 3.0], "float64"))),
    ("cross_entropy string weight", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"), weight="bogus")),
    ("cross_entropy list weight", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"), weight=[1.0, 2.0, 3.0])),
    ("cross_entropy probabilities int64 weight", lambda F, t: F.cross_entropy(
        t(LOGITS), t([[0.2, 0.3, 0.5]]), weight=t([1, 2, 3], "int64"))),
    ("cross_entropy ignore_index float", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"), ignore_index=1.5)),
    ("cross_entropy ignore_index bool", lambda F, t: F.cross_entropy(t(LOGITS), t([1], "int64"), ignore_index=True)),
    ("cross_entropy 0-d target", lambda F, t: F.cross_entropy(t(LOGITS), t(1, "int64"))),
    ("cross_entropy target of 4", lambda F, t: F.cross_entropy(t(LOGITS), t([1, 2, 0, 1], "int64"))),
    ("cross_entropy 2-d target", lambda F, t: F.cross_entropy(t(LOGITS), t([[1]], "int64"))),
    ("cross_entropy 1-d input, target (1,)", lambda F, t: F.cross_entropy(t(LOGITS[0]), t([1], "int64"),
                                                                           reduction="none")),
    ("cross_entropy 1-d input, target (2,)", lambda F, t: F.cross_entropy(t(LOGITS[0]), t([1, 2], "int64"))),
    ("cross_entropy 1-d input, int64 target (3,)", lambda F, t: F.cross_entropy(t(LOGITS[0]), t([1, 2, 0], "int64"))),
    ("cross_entropy 0-d input", lambda F, t: F.cross_entropy(t(0.5), t(1, "int64"))),
    ("nll_loss int64 weight", lambda F, t: F.nll_loss(t(LOGITS), t([1], "int64"), weight=t([1, 2, 3], "int64"))),
    ("nll_loss float32 weight, float64 input", lambda F, t: F.nll_loss(t(LOGITS, "float64"), t([1], "int64"),
                                                                       weight=t([1.0, 2.0, 3.0]))),
    ("nll_loss string weight", lambda F, t: F.nll_loss(t(LOGITS), t([1], "int64"), weight="bogus")),
    ("nll_loss ignore_index float", lambda F, t: F.nll_loss(t(LOGITS), t([1], "int64"), ignore_index=1.5)),
    ("nll_loss ignore_index None", lambda F, t: F.nll_loss(t(LOGITS), t([1], "int64"), ignore_index=None)),
    ("nll_loss 0-d target", lambda F, t: F.nll_loss(t(LOGITS), t(1, "int64"))),
    ("nll_loss 3-d input, 0-d target", lambda F, t: F.nll_loss(t([LOGITS]), t(1, "int64"))),
    ("nll_loss 4-d input, 2-d target", lambda F, t: F.nll_loss(t([[[[0.5, 2.0, 1.0]]]]), t([[1, 2, 0]], "int64"))),
    ("nll_loss 1-d input, target (1,)", lambda F, t: F.nll_loss(t(LOGITS[0]), t([1], "int64"))),
    ("binary_cross_entropy string weight", lambda F, t: F.binary_cross_entropy(t([0.5, 0.2]), t([1.0, 0.0]),
                                                                               weight="bogus")),
    ("binary_cross_entropy float64 weight", lambda F, t: F.binary_cross_entropy(t([0.5, 0.2]), t([1.0, 0.0]),
                                                                                weight=t([1.0, 2.0], "float64"))),
    ("bce_with_logits ragged pos_weight", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2]), t([1.0, 0.0]), pos_weight=[[1.0], [2.0, 3.0]])),
    ("bce_with_logits string weight", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2]), t([1.0, 0.0]), weight="bogus")),
    ("bce_with_logits bool pos_weight", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2]), t([1.0, 0.0]), pos_weight=t([True, False], "bool"))),
    ("bce_with_logits float64 target", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2]), t([1.0, 0.0], "float64"))),
    ("bce_with_logits float64 input", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2], "float64"), t([1.0, 0.0]))),
    ("bce_with_logits float64 weight", lambda F, t: F.binary_cross_entropy_with_logits(
        t([0.5, 0.2]), t([1.0, 0.0]), weight=t([1.0, 2.0], "float64"))),
    # ---- batch_norm and layer_norm
    ("batch_norm training float", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0]), t([1.0, 1.0]),
                                                             training=1.5)),
    ("batch_norm training None", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0]), t([1.0, 1.0]),
                                                            training=None)),
    ("batch_norm bool weight", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0]), t([1.0, 1.0]),
                                                          weight=t([True, False], "bool"))),
    ("batch_norm bool bias", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0]), t([1.0, 1.0]),
                                                        bias=t([True, False], "bool"))),
    ("batch_norm float64 running_mean", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0], "float64"),
                                                                   t([1.0, 1.0]))),
    ("batch_norm float64 input", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1)), "float64"), t([0.0, 0.0]),
                                                            t([1.0, 1.0]))),
    ("batch_norm string weight", lambda F, t: F.batch_norm(t(np.ones((3, 2, 1))), t([0.0, 0.0]), t([1.0, 1.0]),
                                                            weight="bogus")),
    ("batch_norm 0-d training", lambda F, t: F.batch_norm(t(1.0), None, None, training=True)),
    ("batch_norm 1-d training", lambda F, t: F.batch_norm(t([1.0, 2.0, 3.0]), None, None, training=True)),
    ("batch_norm 0-d eval", lambda F, t: F.batch_norm(t(1.0), t([0.0, 0.0]), t([1.0, 1.0]))),
    ("layer_norm string shape", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), "bogus")),
    ("layer_norm float in shape", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), [3.0])),
    ("layer_norm int shape", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), 3)),
    ("layer_norm empty shape", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), ())),
    ("layer_norm string weight", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), (3,), weight="bogus")),
    ("layer_norm int64 weight", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), (3,), weight=t([1, 2, 3], "int64"))),
    ("layer_norm bool bias", lambda F, t: F.layer_norm(t([1.0, 2.0, 3.0]), (3,), bias=t([True] * 3, "bool"))),
    # ---- embedding, linear, convolution
    ("embedding padding_idx float", lambda F, t: F.embedding(t([0, 1], "int64"), t(np.ones((3, 2))),
                                                              padding_idx=1.5)),
    ("embedding padding_idx bool", lambda F, t: F.embedding(t([0, 1], "int64"), t(np.ones((3, 2))),
                                                             padding_idx=True)),
    ("embedding weight None", lambda F, t: F.embedding(t([0, 1], "int64"), None)),
    ("embedding weight string", lambda F, t: F.embedding(t([0, 1], "int64"), "bogus")),
    ("conv1d string bias", lambda F, t: F.conv1d(t(np.ones((1, 2, 5))), t(np.ones((4, 2, 3))), "bogus")),
    ("conv2d list bias", lambda F, t: F.conv2d(t(np.ones((1, 2, 5, 5))), t(np.ones((4, 2, 3, 3))), [1.0] * 4)),
    ("conv_transpose2d string bias", lambda F, t: F.conv_transpose2d(t(np.ones((1, 2, 5, 5))),
                                                                     t(np.ones((2, 4, 3, 3))), "bogus")),
    ("conv2d huge stride", lambda F, t: F.conv2d(t(np.arange(50.0).reshape(1, 2, 5, 5)), t(np.ones((4, 2, 3, 3))),
                                                 stride=2 ** 62)),
    ("conv2d huge padding", lambda F, t: F.conv2d(t(np.ones((1, 2, 5, 5))), t(np.ones((4, 2, 3, 3))),
                                                  padding=2 ** 62)),
    ("conv_transpose2d huge stride", lambda F, t: F.conv_transpose2d(t(np.ones((1, 2, 5, 5))),
                                                                     t(np.ones((2, 4, 3, 3))), stride=2 ** 62)),
    ("unfold huge stride", lambda F, t: F.unfold(t(np.arange(18.0).reshape(1, 2, 3, 3)), 2, stride=2 ** 62)),
    ("unfold 0-d", lambda F, t: F.unfold(t(1.0), 2)),
    ("unfold 1-d", lambda F, t: F.unfold(t([1.0, 2.0, 3.0]), 2)),
    ("fold size-0 channels", lambda F, t: F.fold(t(np.zeros((2, 0, 1))), (2, 2), 1)),
    ("fold size-0 blocks", lambda F, t: F.fold(t(np.zeros((2, 4, 0))), (2, 2), 2)),
    # ---- pooling
    ("avg_pool2d int64", lambda F, t: F.avg_pool2d(t(IMG, "int64"), 2, 1)),
    ("avg_pool2d int64 negative sums", lambda F, t: F.avg_pool2d(t([[[[-1, -2], [-3, -5]]]], "int64"), 2)),
    ("avg_pool2d int64 padding", lambda F, t: F.avg_pool2d(t(IMG, "int64"), 2, 1, padding=1)),
    ("avg_pool2d int64 padding excluded", lambda F, t: F.avg_pool2d(t(IMG, "int64"), 2, 1, padding=1,
                                                                    count_include_pad=False)),
    ("avg_pool2d int64 ceil_mode", lambda F, t: F.avg_pool2d(t(IMG, "int64"), 2, 2, ceil_mode=True)),
    ("avg_pool2d int64 divisor", lambda F, t: F.avg_pool2d(t(IMG, "int64"), 2, 1, divisor_override=3)),
    ("avg_pool2d int64 unbatched", lambda F, t: F.avg_pool2d(t(IMG[0], "int64"), 2, 1)),
    ("avg_pool2d int32", lambda F, t: F.avg_pool2d(t(IMG, "int32"), 2, 1)),
    ("avg_pool2d divisor float", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2, divisor_override=1.5)),
    ("avg_pool2d huge kernel", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2 ** 62)),
    ("avg_pool2d huge stride", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2, stride=2 ** 62)),
    ("max_pool2d huge stride", lambda F, t: F.max_pool2d(t(np.ones((1, 2, 3, 3))), 2, stride=2 ** 63 - 1)),
    ("max_pool2d huge kernel", lambda F, t: F.max_pool2d(t(np.ones((1, 2, 3, 3))), (2, 2 ** 62))),
    ("max_pool2d_with_indices huge stride", lambda F, t: F.max_pool2d_with_indices(
        t(np.ones((1, 2, 3, 3))), 2, stride=2 ** 62)),
    ("avg_pool2d 0-d", lambda F, t: F.avg_pool2d(t(1.0), 2)),
    ("avg_pool2d 2-d", lambda F, t: F.avg_pool2d(t(np.ones((3, 3))), 2)),
    ("adaptive_avg_pool2d 0-d", lambda F, t: F.adaptive_avg_pool2d(t(1.0), (2, 2))),
    ("adaptive_avg_pool2d 2-d", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((3, 3))), (2, 2))),
    ("adaptive_avg_pool2d int64", lambda F, t: F.adaptive_avg_pool2d(t(IMG, "int64"), 2)),
    # ---- circular padding with negative sizes: crop, then wrap
    ("pad circular crop both sides", lambda F, t: F.pad(t(GRID16), [-1, -1, 1, 1], mode="circular")),
    ("pad circular crop and wrap", lambda F, t: F.pad(t(GRID16), [-1, 2, 1, -2], mode="circular")),
    ("pad circular crop to empty", lambda F, t: F.pad(t(GRID16), [-4, 0, 0, 0], mode="circular")),
    ("pad circular crop past empty", lambda F, t: F.pad(t(GRID16), [-5, 0, 0, 0], mode="circular")),
    ("pad circular 1-d", lambda F, t: F.pad(t([[[0.0, 1.0, 2.0, 3.0]]]), [-1, 3], mode="circular")),
    ("pad circular sizes cancel", lambda F, t: F.pad(t([[[0.0, 1.0]]]), [-3, 1], mode="circular")),
    ("pad circular sizes cancel, positive left", lambda F, t: F.pad(t([[[0.0, 1.0]]]), [2, -4], mode="circular")),
    ("pad circular crop past empty, 1-d", lambda F, t: F.pad(t([[[0.0, 1.0]]]), [-2, -1], mode="circular")),
    # ---- reflect/replicate with negative sizes: crop, as long as a padded dim keeps an element
    ("pad replicate crop and pad", lambda F, t: F.pad(t(X), [-1, 1], mode="replicate")),
    ("pad reflect crop and pad", lambda F, t: F.pad(t([[1.0, 2.0, 3.0]]), [2, -1], mode="reflect")),
    ("pad replicate 2-d crop rows", lambda F, t: F.pad(t(GRID16), [1, 0, -1, 2], mode="replicate")),
    ("pad reflect 2-d crop rows", lambda F, t: F.pad(t(GRID16), [0, 0, -1, 2], mode="reflect")),
    ("pad replicate crop to empty", lambda F, t: F.pad(t(X), [-2, 0], mode="replicate")),
    ("pad replicate 2-d rows cropped to empty", lambda F, t: F.pad(t(GRID16), [0, 1, -4, 0], mode="replicate")),
    ("pad replicate 2-d both cropped to empty", lambda F, t: F.pad(t(GRID16), [-4, 0, -4, 0], mode="replicate")),
    ("pad replicate 2-d rows negative", lambda F, t: F.pad(t(GRID16), [0, 1, -4, -1], mode="replicate")),
    # ---- padding: argument types, empty dims, the fill value
    ("pad mode None", lambda F, t: F.pad(t(X), [1, 1], mode=None)),
    ("pad mode list", lambda F, t: F.pad(t(X), [1, 1], mode=["constant"])),
    ("pad mode unknown", lambda F, t: F.pad(t(X), [1, 1], mode="bogus")),
    ("pad value string", lambda F, t: F.pad(t(X), [1, 1], value="bogus")),
    ("pad value complex", lambda F, t: F.pad(t(X), [1, 1], value=1 + 2j)),
    ("pad value bool", lambda F, t: F.pad(t(X), [1, 1], value=True)),
    ("pad value int beyond int64", lambda F, t: F.pad(t(IX, "int64"), [1, 1], value=2 ** 70)),
    ("pad value beyond float32", lambda F, t: F.pad(t(X), [1, 1], value=HUGE_F)),
    ("pad float64 value 1e300", lambda F, t: F.pad(t(X, "float64"), [1, 1], value=1e300)),
    ("pad value inf", lambda F, t: F.pad(t(X), [1, 1], value=float("inf"))),
    ("pad int64 value inf", lambda F, t: F.pad(t(IX, "int64"), [1, 1], value=float("inf"))),
    ("pad uint8 value -1", lambda F, t: F.pad(t([[3, 0]], "uint8"), [1, 1], value=-1)),
    ("pad replicate empty channels", lambda F, t: F.pad(t(np.zeros((0, 2))), [0, 1], mode="replicate")),
    ("pad reflect empty batch", lambda F, t: F.pad(t(np.zeros((0, 2, 3))), [1, 1], mode="reflect")),
    ("pad reflect empty channels, batched", lambda F, t: F.pad(t(np.zeros((2, 0, 3))), [1, 1], mode="reflect")),
    ("pad circular empty channels", lambda F, t: F.pad(t(np.zeros((0, 2))), [0, 1], mode="circular")),
    # ---- pooling: flags, empty dims, ceil_mode windows wider than the input
    ("avg_pool2d ceil_mode None", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2, ceil_mode=None)),
    ("avg_pool2d ceil_mode 1", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2, ceil_mode=1)),
    ("avg_pool2d count_include_pad string", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 3, 3))), 2,
                                                                      count_include_pad="bogus")),
    ("max_pool2d ceil_mode float", lambda F, t: F.max_pool2d(t(np.ones((1, 2, 3, 3))), 2, ceil_mode=1.5)),
    ("max_pool2d_with_indices ceil_mode list", lambda F, t: F.max_pool2d_with_indices(
        t(np.ones((1, 2, 3, 3))), 2, ceil_mode=[True])),
    ("avg_pool2d empty channels", lambda F, t: F.avg_pool2d(t(np.zeros((1, 0, 2, 2))), 2)),
    ("avg_pool2d empty batch", lambda F, t: F.avg_pool2d(t(np.zeros((0, 2, 2, 2))), 2)),
    ("avg_pool2d unbatched empty channels", lambda F, t: F.avg_pool2d(t(np.zeros((0, 2, 2))), 2)),
    ("max_pool2d empty height", lambda F, t: F.max_pool2d(t(np.zeros((1, 2, 0, 3))), 2)),
    ("max_pool2d_with_indices empty channels", lambda F, t: F.max_pool2d_with_indices(t(np.zeros((2, 0, 4, 2))), 2)),
    ("avg_pool2d ceil_mode kernel wider than input", lambda F, t: F.avg_pool2d(
        t([[[[1.25, 0.5]], [[-2.0, 3.0]]]]), (6, 2), ceil_mode=True)),
    ("max_pool2d ceil_mode kernel wider than input", lambda F, t: F.max_pool2d(
        t([[[[1.25, 0.5]], [[-2.0, 3.0]]]]), 6, ceil_mode=True)),
    ("avg_pool2d ceil_mode one window down, two across", lambda F, t: F.avg_pool2d(
        t(np.arange(12.0).reshape(1, 2, 2, 3)), 3, stride=3, padding=1, ceil_mode=True)),
    ("avg_pool2d ceil_mode too small", lambda F, t: F.avg_pool2d(t(np.ones((1, 2, 1, 2))), 3, stride=1,
                                                                 ceil_mode=True)),
    ("max_pool2d dilated pad bound", lambda F, t: F.max_pool2d(t(GRID16), 3, stride=1, padding=2, dilation=2)),
    ("adaptive_avg_pool2d None", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 3, 3))), None)),
    ("adaptive_avg_pool2d float", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 3, 3))), 1.5)),
    ("adaptive_avg_pool2d bool", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 3, 3))), True)),
    ("adaptive_avg_pool2d one size", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 1, 3, 3))), (2,))),
    ("adaptive_avg_pool2d three sizes", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 1, 3, 3))), (2, 2, 3))),
    ("adaptive_avg_pool2d negative size", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 3, 3))), (-1, 1))),
    ("adaptive_avg_pool2d zero size", lambda F, t: F.adaptive_avg_pool2d(t(np.ones((2, 3, 3))), (0, 1))),
    ("adaptive_avg_pool2d 0-d to 1", lambda F, t: F.adaptive_avg_pool2d(t(1.0), 1)),
    ("adaptive_avg_pool2d 2-d to 1", lambda F, t: F.adaptive_avg_pool2d(t(X), 1)),
    ("adaptive_avg_pool2d empty height", lambda F, t: F.adaptive_avg_pool2d(t(np.zeros((2, 0, 3))), 2)),
    ("adaptive_avg_pool2d empty channels", lambda F, t: F.adaptive_avg_pool2d(t(np.zeros((2, 0, 4, 3))), (None, 1))),
    ("adaptive_avg_pool2d empty batch", lambda F, t: F.adaptive_avg_pool2d(t(np.zeros((0, 2, 3))), 2)),
    # ---- convolution: argument types, empty dims, a kernel of one with a huge dilation
    ("conv1d input None", lambda F, t: F.conv1d(None, t(np.ones((4, 2, 3))))),
    ("conv1d input list", lambda F, t: F.conv1d([[1.0, 2.0], [3.0]], t(np.ones((4, 2, 3))))),
    ("conv1d weight string", lambda F, t: F.conv1d(t(np.ones((1, 2, 5))), "bogus")),
    ("conv_transpose2d groups None", lambda F, t: F.conv_transpose2d(t(np.ones((1, 2, 1, 1))),
                                                                     t(np.ones((2, 2, 2, 1))), groups=None)),
    ("conv_transpose2d groups float", lambda F, t: F.conv_transpose2d(t(np.ones((1, 2, 1, 1))),
                                                                      t(np.ones((2, 2, 2, 1))), groups=1.5)),
    ("conv_transpose2d groups string", lambda F, t: F.conv_transpose2d(t(np.ones((1, 2, 1, 1))),
                                                                       t(np.ones((2, 2, 2, 1))), groups="bogus")),
    ("conv_transpose2d int64 bias, batch of 2", lambda F, t: F.conv_transpose2d(
        t(np.ones((2, 2, 3, 1))), t(np.ones((2, 1, 1, 1))), t([1, 2], "int64"), groups=2)),
    ("conv_transpose2d empty weight", lambda F, t: F.conv_transpose2d(t(np.ones((2, 1, 1, 2))),
                                                                      t(np.ones((1, 0, 2, 2))))),
    ("conv_transpose2d empty height", lambda F, t: F.conv_transpose2d(t(np.ones((2, 1, 0, 2))),
                                                                      t(np.ones((1, 2, 2, 2))))),
    ("conv2d empty height", lambda F, t: F.conv2d(t(np.ones((2, 2, 0, 2))), t(np.ones((1, 2, 2, 1))), padding=(1, 0))),
    ("conv2d empty batch", lambda F, t: F.conv2d(t(np.ones((0, 2, 3, 3))), t(np.ones((1, 2, 1, 1))))),
    ("conv2d no output channels", lambda F, t: F.conv2d(t(np.ones((2, 3, 4))), t(np.ones((0, 2, 2, 3))))),
    ("conv1d no output channels", lambda F, t: F.conv1d(t(np.ones((1, 2, 3))), t(np.ones((0, 2, 1))))),
    ("conv2d kernel of one, huge dilation", lambda F, t: F.conv2d(
        t(np.arange(6.0).reshape(2, 3, 1)), t([[[[0.5]]], [[[-2.0]]]]), t([1.0, 2.0]), stride=2,
        dilation=2 ** 63 - 1, groups=2)),
    ("unfold empty channels", lambda F, t: F.unfold(t(np.zeros((1, 0, 2, 2))), 1)),
    ("unfold empty height", lambda F, t: F.unfold(t(np.zeros((2, 1, 0, 1))), (1, 2), padding=1)),
    ("unfold empty batch", lambda F, t: F.unfold(t(np.zeros((0, 1, 2, 2))), 1)),
    ("unfold unbatched empty channels", lambda F, t: F.unfold(t(np.zeros((0, 2, 3))), 1)),
    # ---- normalization, dropout, embedding, normalize
    ("batch_norm eps -inf", lambda F, t: F.batch_norm(t(X), None, None, training=True, eps=float("-inf"))),
    ("batch_norm eps 0 training", lambda F, t: F.batch_norm(t(X), None, None, training=True, eps=0.0)),
    ("batch_norm eps nan training", lambda F, t: F.batch_norm(t(X), None, None, training=True, eps=float("nan"))),
    ("batch_norm eps 0 eval", lambda F, t: F.batch_norm(t(X), t([0.0, 0.0]), t([1.0, 1.0]), eps=0.0)),
    ("batch_norm eps negative eval", lambda F, t: F.batch_norm(t(X), t([0.0, 0.0]), t([1.0, 1.0]), eps=-1.0)),
    ("batch_norm empty channels", lambda F, t: F.batch_norm(t(np.zeros((3, 0, 1))), None, None, t([1.0, 2.0]),
                                                             t([3.0, 4.0]), training=True)),
    ("batch_norm empty channels, empty weight", lambda F, t: F.batch_norm(
        t(np.zeros((3, 0, 1))), None, None, t(np.zeros(0)), training=True)),
    ("batch_norm empty batch", lambda F, t: F.batch_norm(t(np.zeros((0, 2))), None, None, training=True)),
    ("batch_norm empty, eval", lambda F, t: F.batch_norm(t(np.zeros((3, 0, 1))), t(np.zeros(5)), t(np.ones(5)))),
    ("batch_norm one value per channel", lambda F, t: F.batch_norm(t([[1.0, 2.0]]), None, None, training=True)),
    ("dropout train None", lambda F, t: F.dropout(t(X), 0.5, None)),
    ("dropout train int", lambda F, t: F.dropout(t(X), 0.5, 1)),
    ("dropout train string", lambda F, t: F.dropout(t(X), 0.5, "bogus")),
    ("dropout not training", lambda F, t: F.dropout(t(X), 0.5, False)),
    ("embedding empty weight", lambda F, t: F.embedding(t([0, 0, 0], "int64"), t(np.zeros((0, 2))))),
    ("embedding empty weight, no indices", lambda F, t: F.embedding(t(np.zeros(0), "int64"), t(np.zeros((0, 2))))),
    ("embedding 0-d weight, padding_idx", lambda F, t: F.embedding(t(1, "int64"), t(-3.5), padding_idx=3)),
    ("embedding 0-d weight", lambda F, t: F.embedding(t(1, "int64"), t(-3.5))),
    ("normalize eps None", lambda F, t: F.normalize(t([-1.0, 2.0, 0.5]), dim=-1, eps=None)),
    ("normalize eps string", lambda F, t: F.normalize(t([-1.0, 2.0, 0.5]), dim=-1, eps="bogus")),
    ("normalize eps int", lambda F, t: F.normalize(t([-1.0, 2.0, 0.5]), dim=-1, eps=1)),
    # ---- losses: out-of-range probabilities, NaN parameters, class dims, weights that broadcast
    ("binary_cross_entropy NaN input", lambda F, t: F.binary_cross_entropy(t([float("nan"), 0.5]), t([1.0, 0.0]))),
    ("binary_cross_entropy NaN target", lambda F, t: F.binary_cross_entropy(t([0.25, 0.5]), t([float("nan"), 0.0]))),
    ("binary_cross_entropy target 2", lambda F, t: F.binary_cross_entropy(t([0.25, 0.5]), t([2.0, 0.0]))),
    ("binary_cross_entropy inf target", lambda F, t: F.binary_cross_entropy(t([0.25, 0.5]), t([float("inf"), 0.0]))),
    ("bce_with_logits weight grows the loss", lambda F, t: F.binary_cross_entropy_with_logits(
        t([[0.5, -1.0, 2.0]]), t([[1.0, 0.0, 0.5]]), weight=t(np.ones((3, 3))), reduction="none")),
    ("bce_with_logits pos_weight grows the loss", lambda F, t: F.binary_cross_entropy_with_logits(
        t([[0.5, -1.0, 2.0]]), t([[1.0, 0.0, 0.5]]), pos_weight=t(np.ones((3, 1))), reduction="sum")),
    ("bce_with_logits weight broadcasts", lambda F, t: F.binary_cross_entropy_with_logits(
        t([[0.5, -1.0, 2.0]]), t([[1.0, 0.0, 0.5]]), weight=t([1.0, 2.0, 3.0]), pos_weight=t(2.0),
        reduction="none")),
    ("huber_loss delta nan", lambda F, t: F.huber_loss(t(X), t(IX), delta=float("nan"))),
    ("huber_loss delta inf", lambda F, t: F.huber_loss(t(X), t(IX), delta=float("inf"))),
    ("smooth_l1_loss beta nan", lambda F, t: F.smooth_l1_loss(t(X), t(IX), beta=float("nan"))),
    ("smooth_l1_loss beta inf", lambda F, t: F.smooth_l1_loss(t(X), t(IX), beta=float("inf"))),
    ("cross_entropy 0-d input, target (1,)", lambda F, t: F.cross_entropy(t(-3.5), t([0], "int64"))),
    ("cross_entropy 0-d input, 0-d probabilities", lambda F, t: F.cross_entropy(t(-3.5), t(0.5))),
    ("nll_loss no classes, target ignored", lambda F, t: F.nll_loss(t(np.zeros((1, 0))), t([0], "int64"),
                                                                    ignore_index=0)),
    ("nll_loss no classes, target ignored, sum", lambda F, t: F.nll_loss(t(np.zeros((1, 0))), t([0], "int64"),
                                                                         ignore_index=0, reduction="sum")),
    ("nll_loss no classes, target kept", lambda F, t: F.nll_loss(t(np.zeros((1, 0))), t([1], "int64"),
                                                                 ignore_index=0)),
    ("nll_loss ignored target out of range", lambda F, t: F.nll_loss(t(LOGITS * 2), t([-5, 1], "int64"),
                                                                     ignore_index=-5)),
    ("cross_entropy no classes, target ignored", lambda F, t: F.cross_entropy(
        t(np.zeros((1, 0))), t([0], "int64"), ignore_index=0)),
    # ---- batch_norm: running statistics are 1-d, given both or neither; where infinities give NaN
    *[(f"batch_norm {shape}-shaped {name}, training={training}", lambda F, t, a=i, s=shape, tr=training:
       F.batch_norm(t(IMG), *[t(np.full(s if j == a else (1,), 1.0)) for j in range(4)], training=tr))
      for i, name in enumerate(("running_mean", "running_var", "weight", "bias"))
      for shape in ((), (1, 1)) for training in (False, True)],
    ("batch_norm 0-d running_mean, 3 channels", lambda F, t: F.batch_norm(
        t(np.ones((2, 3, 2))), t(0.0), t(np.ones(3)))),
    ("batch_norm training, running_mean only", lambda F, t: F.batch_norm(t(IMG), t([0.0]), None, training=True)),
    ("batch_norm training, running_var only", lambda F, t: F.batch_norm(t(IMG), None, t([1.0]), training=True)),
    ("batch_norm training, running_var only, 0-d", lambda F, t: F.batch_norm(t(IMG), None, t(1.0), training=True)),
    ("batch_norm empty input, 0-d running stats", lambda F, t: F.batch_norm(t(np.zeros((0, 1, 3))), t(0.0),
                                                                             t(1.0))),
    *[(f"batch_norm {name}={value}, training={training}", lambda F, t, i=i, v=value, tr=training: F.batch_norm(
        t(np.arange(12.0).reshape(3, 2, 2) - 5), *[t([v, 1.0] if j == i else [0.5, 2.0]) for j in range(4)],
        training=tr))
      for i, name in enumerate(("running_mean", "running_var", "weight", "bias"))
      for value in (float("inf"), float("-inf"), float("nan")) for training in (False, True)],
    # ---- conv_transpose2d: a bias is 1-d with one element per output channel
    *[(f"conv_transpose2d bias {shape}, groups={groups}", lambda F, t, s=shape, g=groups: F.conv_transpose2d(
        t(np.ones((1, 2, 2, 2))), t(np.ones((2, 2, 1, 1))), t(np.ones(s)), groups=g))
      for shape in ((), (1,), (2,), (4,), (1, 2), (0,)) for groups in (1, 2)],
    # ---- class losses: a 3-d or 5-d input without classes is refused before the targets' range
    *[(f"{fn} no classes {shape}, target {tshape} of {fill}", lambda F, t, fn=fn, s=shape, ts=tshape, v=fill:
       getattr(F, fn)(t(np.zeros(s)), t(np.full(ts, v), "int64")))
      for fn in ("cross_entropy", "nll_loss")
      for shape, tshape, fill in (((2, 0, 2), (2, 2), 1), ((2, 0, 2), (2, 2), -100), ((2, 0, 1, 2), (2, 1, 2), -100),
                                  ((2, 0, 2, 2), (2, 2, 2), 0), ((2, 0, 1, 2, 1), (2, 1, 2, 1), -100),
                                  ((2, 0, 0), (2, 0), 0), ((0, 0, 2), (0, 2), 0), ((2, 0, 3), (2, 2), 0))],
    ("cross_entropy no classes, label smoothing", lambda F, t: F.cross_entropy(
        t(np.zeros((2, 0, 2))), t([[0, 1], [1, 0]], "int64"), label_smoothing=0.1)),
    # ---- linear: the bias broadcasts to the product
    *[(f"linear input {xs}, weight ({o}, 3), bias {bs}", lambda F, t, xs=xs, o=o, bs=bs: F.linear(
        t(np.arange(np.prod(xs)).reshape(xs) / 4.0), t(np.arange(3.0 * o).reshape(o, 3) - 2), t(np.full(bs, 0.5))))
      for xs, o, bs in (((3,), 5, (1,)), ((3,), 5, ()), ((3,), 5, (1, 5)), ((3,), 5, (2, 5)), ((3,), 5, (0,)),
                        ((2, 3), 5, (1,)), ((2, 3), 0, (1,)), ((2, 3), 0, (0,)), ((2, 3), 5, (0,)),
                        ((2, 3), 5, (2, 5)), ((2, 3), 5, (2, 1)), ((2, 3), 5, (3,)), ((2, 3), 5, (1, 1, 5)),
                        ((4, 2, 3), 5, (1,)), ((4, 2, 3), 5, (1, 5)), ((4, 2, 3), 5, (2, 5)),
                        ((4, 2, 3), 5, (4, 1, 5)), ((4, 2, 3), 5, (4, 2, 1)), ((4, 2, 3), 5, (8, 5)),
                        ((4, 2, 3), 5, (3, 4, 2, 5)), ((0, 3), 5, (1,)), ((2, 0, 3), 5, (1, 5)))],
    # ---- constant pad: negative sizes crop before the positive ones pad, never past the dim's size
    *[(f"pad {shape} by {pads}", lambda F, t, s=shape, p=pads: F.pad(t(np.ones(s)), p, value=2.5))
      for shape, pads in (((2, 0), (-1, 2, 1, 1)), ((2, 0), (0, 2, 1, 1)), ((2, 0), (0, -1)), ((2, 1), (-2, 3)),
                          ((2, 1), (-1, 0)), ((2, 3), (-1, 0, 2, -4)), ((2, 3), (-1, 0, 2, -2)),
                          ((2, 3), (0, 0, -1, -1)), ((2, 3), (0, 0, -1, -2)), ((2,), (1, -3)), ((2,), (-3, 3)),
                          ((2,), (-2, 2)), ((2,), (1, -2)))],
    ("pad an empty input to a row-major stride past int64", lambda F, t: F.pad(t(np.zeros((0, 0, 0))),
                                                                              (0, 2, 0, 2 ** 62))),
]


def _outcome(lib, call, device):
    F = PF if lib is plugrad else TF

    def t(values, dtype="float32"):
        if lib is plugrad:
            return plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=device)
        return torch.tensor(values, dtype=getattr(torch, dtype))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(F, t), None
    except Exception as exc:  # the oracle compares exception classes
        return None, exc


def _wanted(exc) -> type:
    return RuntimeError if isinstance(exc, NotImplementedError) else fz.builtin_class(exc)


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, call, device):
    ours, our_exc = _outcome(plugrad, call, device)
    theirs, their_exc = _outcome(torch, call, device)
    if their_exc is not None:
        if not isinstance(their_exc, (RuntimeError, TypeError, ValueError, IndexError)):
            # PyTorch's own Python code failed (AttributeError on a non-Tensor): plugrad refuses, TypeError
            assert isinstance(our_exc, TypeError), f"{name}: plugrad gave {our_exc or ours!r}; torch {their_exc!r}"
            return
        assert our_exc is not None, f"{name}: torch raised {their_exc!r}; plugrad returned {ours!r}"
        assert isinstance(our_exc, _wanted(their_exc)), f"{name}: plugrad raised {our_exc!r}; torch {their_exc!r}"
        assert type(our_exc).__module__ == "builtins", f"{name}: {type(our_exc)} is not a built-in class"
        return
    assert our_exc is None, f"{name}: plugrad raised {our_exc!r}; torch returned {theirs!r}"
    fz.compare(fz.describe(ours), fz.describe(theirs), where=name)


GRAD_CASES = [
    ("mse_loss bool target", lambda F, x, t: F.mse_loss(x, t(B, "bool"))),
    ("smooth_l1_loss float64 target", lambda F, x, t: F.smooth_l1_loss(x, t(X, "float64") * 0.5)),
    ("hardtanh", lambda F, x, t: F.hardtanh(x, -0.5, 2.5).sum()),
    ("elu alpha 2", lambda F, x, t: F.elu(x + 1.0, alpha=2.0).sum()),
    ("pad replicate crop and pad", lambda F, x, t: (F.pad(x.reshape(1, 2, 2), [-1, 2], mode="replicate")
                                                    * t([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])).sum()),
    ("pad reflect crop and pad", lambda F, x, t: (F.pad(x.reshape(1, 1, 2, 2), [1, -1, 0, 1], mode="reflect")
                                                  * t([[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]])).sum()),
    ("avg_pool2d ceil_mode wide kernel", lambda F, x, t: (F.avg_pool2d(x.reshape(1, 1, 2, 2), 3, stride=2,
                                                                       padding=1, ceil_mode=True) * 3.0).sum()),
    ("pad circular negative", lambda F, x, t: (F.pad(x.reshape(1, 1, 2, 2), [-1, 1, 1, 0], mode="circular")
                                               * t([[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]])).sum()),
    ("linear bias (1,) broadcasts", lambda F, x, t: (F.linear(t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), x, x[1, :1])
                                                     * t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum()),
    ("linear bias (2, 1) of a 2-d input", lambda F, x, t: (F.linear(t([[1.0, 2.0], [3.0, -4.0]]), x, x[:, 1:])
                                                           * t([[1.0, 2.0], [3.0, 4.0]])).sum()),
    ("linear bias over a batch of matrices", lambda F, x, t: (F.linear(t(np.arange(12.0).reshape(3, 2, 2)),
                                                                       t([[1.0, 2.0], [3.0, -4.0]]), x)
                                                              * t(np.arange(12.0).reshape(3, 2, 2))).sum()),
    ("batch_norm training, x as weight", lambda F, x, t: (F.batch_norm(t(np.arange(8.0).reshape(2, 2, 2) ** 2),
                                                                       None, None, x[0], x[1], training=True)
                                                          * t(np.arange(8.0).reshape(2, 2, 2))).sum()),
]


@pytest.mark.parametrize("name,call", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_torch(name, call, device):
    """The inputs' gradients through the edge-dtype paths (casts, crops) are PyTorch's."""
    grads = []
    for lib in (plugrad, torch):
        F = PF if lib is plugrad else TF
        dev = {"device": device} if lib is plugrad else {}

        def t(values, dtype="float32", lib=lib, dev=dev):
            return lib.tensor(values, dtype=getattr(lib, dtype), **dev)

        x = lib.tensor(X, requires_grad=True, **dev)
        call(F, x, t).backward()
        grads.append(fz.describe(x.grad))
    fz.compare(grads[0], grads[1], where=name)
