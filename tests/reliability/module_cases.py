"""One small call of every ``plugrad.nn`` module class, for checks that run every module.

:data:`MODULES` maps a class name of ``plugrad.nn`` to ``(make, inputs)``: ``make(nn)``
builds the module, ``inputs(t, i)`` its call's arguments, where ``t(*shape)`` is a float
tensor of random values that requires grad and ``i(high, *shape)`` an int64 tensor of
values in ``[0, high)`` (both on the device under test). A class whose forward is not
the call ``module(*inputs)`` (a container) is called through ``CALLS``.
:data:`NOT_CALLED` lists the classes that have no forward of their own, each with the
reason; :func:`uncovered` names every module class in neither table, so a new module
cannot escape the checks that use this table.
"""

from __future__ import annotations

import inspect

import plugrad.nn

__all__ = ["MODULES", "CALLS", "NOT_CALLED", "uncovered"]


def _pool_unpool(dims):
    """MaxPool then MaxUnpool: the unpool's indices come from a real pooling."""
    def call(m, x):
        pool = getattr(plugrad.nn.functional, f"max_pool{dims}d")
        out, idx = pool(x, 2, return_indices=True)
        return m(out, idx)
    return call


def _seq(nn):
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU())


X1, X2, X3 = (2, 3, 4), (2, 3, 4, 4), (1, 3, 4, 4, 4)

MODULES = {
    # ---- activations and shape layers
    **{name: (lambda nn, n=name: getattr(nn, n)(), lambda t, i: (t(2, 3, 4),))
       for name in ("CELU", "ELU", "GELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
                    "LogSigmoid", "Mish", "PReLU", "RReLU", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softplus",
                    "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Identity", "Flatten", "Softmax2d",
                    "AlphaDropout", "Dropout", "Dropout1d", "FeatureAlphaDropout")},
    "GLU": (lambda nn: nn.GLU(), lambda t, i: (t(2, 4),)),
    "LogSoftmax": (lambda nn: nn.LogSoftmax(dim=1), lambda t, i: (t(2, 3),)),
    "Softmax": (lambda nn: nn.Softmax(dim=1), lambda t, i: (t(2, 3),)),
    "Softmin": (lambda nn: nn.Softmin(dim=1), lambda t, i: (t(2, 3),)),
    "Threshold": (lambda nn: nn.Threshold(0.1, 20.0), lambda t, i: (t(2, 3),)),
    "Unflatten": (lambda nn: nn.Unflatten(1, (3, 1)), lambda t, i: (t(2, 3),)),
    "ChannelShuffle": (lambda nn: nn.ChannelShuffle(2), lambda t, i: (t(1, 4, 2, 2),)),
    "Dropout2d": (lambda nn: nn.Dropout2d(), lambda t, i: (t(*X2),)),
    "Dropout3d": (lambda nn: nn.Dropout3d(), lambda t, i: (t(*X3),)),
    # ---- padding, pooling, resampling
    **{f"{kind}Pad{d}d": (lambda nn, n=f"{kind}Pad{d}d", a=args: getattr(nn, n)(*a), lambda t, i, s=shape: (t(*s),))
       for kind, args in (("Circular", (1,)), ("Constant", (1, 0.5)), ("Reflection", (1,)), ("Replication", (1,)),
                          ("Zero", (1,)))
       for d, shape in ((1, X1), (2, X2), (3, X3))},
    **{f"{kind}{d}d": (lambda nn, n=f"{kind}{d}d", a=args: getattr(nn, n)(*a), lambda t, i, s=shape: (t(*s),))
       for kind, args in (("AdaptiveAvgPool", (2,)), ("AdaptiveMaxPool", (2,)), ("AvgPool", (2,)),
                          ("MaxPool", (2,)), ("LPPool", (2, 2)))
       for d, shape in ((1, X1), (2, X2), (3, X3))},
    **{f"MaxUnpool{d}d": (lambda nn, n=f"MaxUnpool{d}d": getattr(nn, n)(2), lambda t, i, s=shape: (t(*s),))
       for d, shape in ((1, X1), (2, X2), (3, X3))},
    "Fold": (lambda nn: nn.Fold(output_size=(3, 3), kernel_size=2), lambda t, i: (t(1, 12, 4),)),
    "Unfold": (lambda nn: nn.Unfold(2), lambda t, i: (t(*X2),)),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), lambda t, i: (t(1, 4, 2, 2),)),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), lambda t, i: (t(1, 1, 4, 4),)),
    "Upsample": (lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), lambda t, i: (t(*X2),)),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), lambda t, i: (t(*X2),)),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), lambda t, i: (t(*X2),)),
    # ---- convolutions, linear layers, embeddings
    **{f"{lazy}{kind}{d}d": (lambda nn, n=f"{lazy}{kind}{d}d", lz=lazy: getattr(nn, n)(*((4, 2) if lz else (3, 4, 2))),
                             lambda t, i, s=shape: (t(*s),))
       for lazy in ("", "Lazy") for kind in ("Conv", "ConvTranspose")
       for d, shape in ((1, X1), (2, X2), (3, X3))},
    "Linear": (lambda nn: nn.Linear(4, 3), lambda t, i: (t(2, 4),)),
    "LazyLinear": (lambda nn: nn.LazyLinear(3), lambda t, i: (t(2, 4),)),
    "Bilinear": (lambda nn: nn.Bilinear(4, 5, 3), lambda t, i: (t(2, 4), t(2, 5))),
    "Embedding": (lambda nn: nn.Embedding(10, 3), lambda t, i: (i(10, 2, 4),)),
    "EmbeddingBag": (lambda nn: nn.EmbeddingBag(10, 3), lambda t, i: (i(10, 2, 4),)),
    # ---- normalization
    **{f"{lazy}{kind}{d}d": (lambda nn, n=f"{lazy}{kind}{d}d", lz=lazy: getattr(nn, n)(*(() if lz else (3,))),
                             lambda t, i, s=shape: (t(*s),))
       for lazy in ("", "Lazy") for kind in ("BatchNorm", "InstanceNorm")
       for d, shape in ((1, X1), (2, X2), (3, X3))},
    "SyncBatchNorm": (lambda nn: nn.SyncBatchNorm(3), lambda t, i: (t(*X2),)),
    "GroupNorm": (lambda nn: nn.GroupNorm(1, 3), lambda t, i: (t(*X2),)),
    "LayerNorm": (lambda nn: nn.LayerNorm(4), lambda t, i: (t(2, 3, 4),)),
    "RMSNorm": (lambda nn: nn.RMSNorm(4), lambda t, i: (t(2, 3, 4),)),
    "LocalResponseNorm": (lambda nn: nn.LocalResponseNorm(2), lambda t, i: (t(*X2),)),
    "CrossMapLRN2d": (lambda nn: nn.CrossMapLRN2d(3), lambda t, i: (t(*X2),)),
    # ---- distances
    "CosineSimilarity": (lambda nn: nn.CosineSimilarity(), lambda t, i: (t(2, 4), t(2, 4))),
    "PairwiseDistance": (lambda nn: nn.PairwiseDistance(), lambda t, i: (t(2, 4), t(2, 4))),
    # ---- recurrent layers, attention, transformers
    "RNN": (lambda nn: nn.RNN(4, 5), lambda t, i: (t(3, 2, 4),)),
    "LSTM": (lambda nn: nn.LSTM(4, 5, num_layers=2, bidirectional=True), lambda t, i: (t(3, 2, 4),)),
    "GRU": (lambda nn: nn.GRU(4, 5), lambda t, i: (t(3, 2, 4),)),
    "RNNCell": (lambda nn: nn.RNNCell(4, 5), lambda t, i: (t(2, 4),)),
    "LSTMCell": (lambda nn: nn.LSTMCell(4, 5), lambda t, i: (t(2, 4),)),
    "GRUCell": (lambda nn: nn.GRUCell(4, 5), lambda t, i: (t(2, 4),)),
    "MultiheadAttention": (lambda nn: nn.MultiheadAttention(4, 2), lambda t, i: (t(3, 2, 4), t(3, 2, 4), t(3, 2, 4))),
    "Transformer": (lambda nn: nn.Transformer(4, 2, 1, 1, 8, dropout=0.1), lambda t, i: (t(3, 2, 4), t(2, 2, 4))),
    "TransformerEncoderLayer": (lambda nn: nn.TransformerEncoderLayer(4, 2, 8), lambda t, i: (t(3, 2, 4),)),
    "TransformerEncoder": (lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 2),
                           lambda t, i: (t(3, 2, 4),)),
    "TransformerDecoderLayer": (lambda nn: nn.TransformerDecoderLayer(4, 2, 8), lambda t, i: (t(2, 2, 4), t(3, 2, 4))),
    "TransformerDecoder": (lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), 2),
                           lambda t, i: (t(2, 2, 4), t(3, 2, 4))),
    # ---- losses
    **{name: (lambda nn, n=name: getattr(nn, n)(), lambda t, i: (t(2, 3), t(2, 3)))
       for name in ("BCEWithLogitsLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss", "SmoothL1Loss",
                    "MultiLabelSoftMarginLoss", "SoftMarginLoss", "PoissonNLLLoss")},
    "BCELoss": (lambda nn: nn.BCELoss(), lambda t, i: (t(2, 3).sigmoid(), t(2, 3).sigmoid())),
    "CrossEntropyLoss": (lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), lambda t, i: (t(4, 3), i(3, 4))),
    "NLLLoss": (lambda nn: nn.NLLLoss(), lambda t, i: (t(4, 3).log_softmax(1), i(3, 4))),
    "NLLLoss2d": (lambda nn: nn.NLLLoss2d(), lambda t, i: (t(2, 3, 2, 2).log_softmax(1), i(3, 2, 2, 2))),
    "MultiMarginLoss": (lambda nn: nn.MultiMarginLoss(), lambda t, i: (t(4, 3), i(3, 4))),
    "MultiLabelMarginLoss": (lambda nn: nn.MultiLabelMarginLoss(), lambda t, i: (t(2, 3), i(3, 2, 3))),
    "GaussianNLLLoss": (lambda nn: nn.GaussianNLLLoss(), lambda t, i: (t(2, 3), t(2, 3), t(2, 3).exp())),
    "CosineEmbeddingLoss": (lambda nn: nn.CosineEmbeddingLoss(),
                            lambda t, i: (t(2, 4), t(2, 4), i(2, 2) * 2 - 1)),
    "HingeEmbeddingLoss": (lambda nn: nn.HingeEmbeddingLoss(), lambda t, i: (t(2, 3), i(2, 2, 3) * 2 - 1)),
    "MarginRankingLoss": (lambda nn: nn.MarginRankingLoss(), lambda t, i: (t(4), t(4), i(2, 4) * 2 - 1)),
    "TripletMarginLoss": (lambda nn: nn.TripletMarginLoss(), lambda t, i: (t(2, 4), t(2, 4), t(2, 4))),
    "TripletMarginWithDistanceLoss": (lambda nn: nn.TripletMarginWithDistanceLoss(),
                                      lambda t, i: (t(2, 4), t(2, 4), t(2, 4))),
    "CTCLoss": (lambda nn: nn.CTCLoss(),
                lambda t, i: (t(6, 2, 4).log_softmax(2), i(3, 2, 3) + 1, i(1, 2) + 6, i(1, 2) + 3)),
    "AdaptiveLogSoftmaxWithLoss": (lambda nn: nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5]),
                                   lambda t, i: (t(3, 4), i(10, 3))),
    # ---- containers and wrappers
    "Sequential": (_seq, lambda t, i: (t(2, 4),)),
    "ModuleList": (lambda nn: nn.ModuleList([nn.Linear(4, 3), nn.Tanh()]), lambda t, i: (t(2, 4),)),
    "ModuleDict": (lambda nn: nn.ModuleDict({"fc": nn.Linear(4, 3)}), lambda t, i: (t(2, 4),)),
    "ParameterList": (lambda nn: nn.ParameterList([nn.Parameter(t) for t in (plugrad.ones(4), plugrad.ones(4))]),
                      lambda t, i: (t(2, 4),)),
    "ParameterDict": (lambda nn: nn.ParameterDict({"w": nn.Parameter(plugrad.ones(4))}), lambda t, i: (t(2, 4),)),
    "DataParallel": (lambda nn: nn.DataParallel(_seq(nn)), lambda t, i: (t(2, 4),)),
}

#: containers have no forward: how a program calls what they hold
CALLS = {
    **{f"MaxUnpool{d}d": _pool_unpool(d) for d in (1, 2, 3)},
    "ModuleList": lambda m, x: m[1](m[0](x)),
    "ModuleDict": lambda m, x: m["fc"](x),
    "ParameterList": lambda m, x: x * m[0] + m[1],
    "ParameterDict": lambda m, x: x * m["w"],
}

#: module classes that are never called themselves, each with the reason
NOT_CALLED = {
    "Module": "the base class: its forward is what subclasses define",
    "Container": "deprecated base class (PyTorch warns on creation); its forward is the subclass's",
    "RNNBase": "the base class of RNN, LSTM and GRU, which define forward (as in PyTorch)",
    "RNNCellBase": "the cells' base class: it holds the parameters, RNNCell/LSTMCell/GRUCell define forward",
}


def uncovered() -> list:
    """Module classes of ``plugrad.nn`` that are in neither table."""
    names = [n for n, v in vars(plugrad.nn).items() if inspect.isclass(v) and issubclass(v, plugrad.nn.Module)]
    return sorted(n for n in names if n not in MODULES and n not in NOT_CALLED)
