"""The in-place forms that are also functions of ``plugrad``'s namespace.

PyTorch has ``torch.exp_(x)`` and ``torch.relu_(x)`` beside ``x.exp_()``, but only
for some ops (there is no ``torch.add_``). This is that list, checked against
PyTorch's namespace name by name; each name's declaration exports it
(``plugrad.ops.declare.export_inplace``). Loaded after every op family.
"""

from __future__ import annotations

from .declare import export_inplace

#: every in-place form of a declared op that PyTorch also has as ``torch.<name>``
INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "index_put_", "lcm_",
    "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_",
)

export_inplace(*INPLACE_FUNCTIONS)
