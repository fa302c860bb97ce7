"""``plugrad.special`` (``torch.special``): special functions under SciPy's names.

Most names are the very ops of ``plugrad`` (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``, ``multigammaln`` is ``mvlgamma``...); the few that
only this namespace has (``xlog1py``, ``entr``, ``erfcx``, ``ndtr``, ``ndtri``, ``log_ndtr``,
``i0e``, ``i1``, ``i1e``) are compositions defined with the other special functions in
``plugrad.ops.elementwise`` (``special``, ``special_binary``, ``bessel``).
"""

from __future__ import annotations

from ..ops.elementwise import (digamma, erf, erfc, erfinv, exp2, expm1, i0, lgamma as gammaln, log1p, logit,
                               mvlgamma, polygamma, round, sigmoid as expit, sinc, xlogy)
from ..ops.elementwise.bessel import i0e, i1, i1e
from ..ops.elementwise.special import entr, erfcx, log_ndtr, ndtr, ndtri
from ..ops.elementwise.special_binary import xlog1py
from ..ops.reduction import log_softmax, logsumexp, softmax

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e", "i1",
           "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]

psi = digamma
multigammaln = mvlgamma
