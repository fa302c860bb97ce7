"""Automatic differentiation: ``backward``, ``grad``, grad modes, custom Functions,
gradient checking, and graph inspection.

The package spans three layers. ``grad_mode``, ``anomaly_mode`` and ``graph`` sit below
``Tensor``, which imports them. ``engine`` and ``inplace`` sit above ``Tensor`` but
below the ops, which import them (so they call ops through ``plugrad.optable``).
``api``, ``function``, ``gradcheck``, ``functional`` and ``graphviz`` sit above the
ops and import them. Hence ``plugrad/__init__`` loads this package before
``plugrad.tensor``: the lower modules load first, then the upper ones import the
Tensor and the ops.
"""

from __future__ import annotations

import importlib

from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .graph import Node
from .api import Variable, backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Variable", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly", "Function",
           "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "graphviz", "Node"]


def __getattr__(name):
    # functional and graphviz load on first use: the engine never needs them, and
    # graphviz pulls in subprocess
    if name in ("functional", "graphviz"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'plugrad.autograd' has no attribute {name!r}")
