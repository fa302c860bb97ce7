"""Automatic differentiation: ``backward``, ``grad``, grad modes, custom Functions,
gradient checking, and graph inspection.

The package holds two layers. ``grad_mode``, ``anomaly_mode`` and ``graph`` sit below
``Tensor``, which imports them; the engine and everything here sit above it. So
``plugrad/__init__`` loads this package before ``plugrad.tensor``: the lower modules
load first, then the engine and the API can import the Tensor.
"""

from __future__ import annotations

from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .graph import Node
from .api import Variable, backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import functional, graphviz

__all__ = ["backward", "grad", "Variable", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly", "Function",
           "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError", "functional", "graphviz", "Node"]
