"""plugrad: tensors and autograd with PyTorch's programming model, computed by device
plugins (``cpu`` with NumPy, ``opencl`` with pyopencl, or your own).

``import plugrad as torch`` runs ordinary PyTorch-style code.
"""

from __future__ import annotations

from ._version import __version__
from .dtypes import (bool_ as bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32, int64,
                     promote_types, set_default_dtype, uint8)
from .dtypes import float16 as half, float32 as float, float64 as double, int16 as short, int32 as int, \
    int64 as long
from .dtypes import bfloat16
from .device import device
from .layout import Size
# autograd before tensor: the package's lower modules (grad_mode, graph) are what
# Tensor imports, while its __init__ (the engine's API, a layer above) imports Tensor
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .tensor import Tensor
from . import ops as _ops  # noqa: F401  (binds the Tensor methods)
from .backend import OutOfMemoryError, UnsupportedOperation
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, get_default_device,
                       legacy_new as _legacy_new, linspace, normal, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, scalar_tensor, set_default_device, tensor, zeros,
                       zeros_like)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .printing import set_printoptions
from .plugins import registry as _registry
from ._missing import missing_attribute as _missing_attribute
from .ops.guard import guard_function_forms as _guard_function_forms
from .ops.declare import public_functions as _public_functions
from . import backends, nn, optim, utils
from . import onnx  # torch.onnx: export (loads the optional onnx package when it runs)
from .compiler import compile  # noqa: A001 (torch.compile)
from . import amp, cuda
from .utils.dlpack import from_dlpack, to_dlpack
from .amp import GradScaler, autocast
from .amp.autocast_mode import (clear_autocast_cache, is_autocast_cache_enabled, is_autocast_enabled,
                                set_autocast_cache_enabled, set_autocast_enabled)
from ._runtime import (get_float32_matmul_precision, get_num_interop_threads, get_num_threads,
                       set_float32_matmul_precision, set_num_interop_threads, set_num_threads)
from . import linalg, special
# ``layout`` is torch.layout, the class of plugrad.strided: it takes the attribute name of the
# internal module plugrad.layout, which stays importable as ``from plugrad.layout import ...``
from .typeinfo import (channels_last, channels_last_3d, contiguous_format, finfo, iinfo, layout, memory_format,
                       preserve_format, strided)
from .factories import (asarray, bartlett_window, blackman_window, empty_strided, hamming_window, hann_window,
                        kaiser_window, logspace, range, tril_indices, triu_indices)
from .ops.conversion import fill_, zero_
from .nn.torch_functions import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, batch_norm,  # noqa: F401
                                 binary_cross_entropy_with_logits, conv1d, conv2d, conv3d, conv_transpose1d,
                                 conv_transpose2d, conv_transpose3d, cosine_embedding_loss, dropout, embedding,
                                 hinge_embedding_loss, instance_norm, kl_div, layer_norm, margin_ranking_loss,
                                 max_pool1d, max_pool2d, max_pool3d, pixel_shuffle, pixel_unshuffle,
                                 poisson_nll_loss, triplet_margin_loss)
from ._misc_api import (are_deterministic_algorithms_enabled, can_cast, get_device,
                        is_deterministic_algorithms_warn_only_enabled, is_nonzero, is_same_size, is_signed,
                        resize_as_, result_type, typename, use_deterministic_algorithms)

def _legacy_type(name, default):
    def __new__(cls, *args, **kwargs):
        return _legacy_new(Tensor, default, *args, **kwargs)
    return type(name, (), {"__new__": __new__, "__doc__": f"Legacy constructor of {default!r} tensors."})


FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
HalfTensor = _legacy_type("HalfTensor", float16)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
ByteTensor = _legacy_type("ByteTensor", uint8)
BoolTensor = _legacy_type("BoolTensor", bool)
CharTensor = _legacy_type("CharTensor", int8)
ShortTensor = _legacy_type("ShortTensor", int16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", bfloat16)


def is_tensor(obj):
    """True when ``obj`` is a plugrad Tensor."""
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()


def __getattr__(name):
    """``plugrad.save``/``plugrad.load`` (imported on first use: their hashing and JSON
    libraries add 4 MB to every process otherwise), and ``plugrad.<device type>``:
    availability modules (``plugrad.cuda`` is a module of its own). Any other name
    says whether PyTorch has it (``plugrad._missing``)."""
    if name in ("save", "load"):
        from . import serialization
        return getattr(serialization, name)
    module = _registry.device_module(name)
    if module is None:
        _missing_attribute(__name__, name)
    return module


def __dir__():
    return sorted(set(globals()) | {"save", "load"})


globals().update(_public_functions())   # every declared op and alias: plugrad.add, plugrad.exp... (ops.declare)
_guard_function_forms(globals())

if _registry.autoload_enabled():
    _registry.load_plugins()
