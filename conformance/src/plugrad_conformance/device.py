"""The device under test: what it advertises, what its plugin expects, and how the
suite moves NumPy data onto it and back.

Only public plugrad API is used to build tensors (``plugrad.tensor`` from Python
lists, ``tolist`` back), so the host transfer path of the device is exercised by
every check, and nothing here assumes a dtype the device does not advertise.
"""

from __future__ import annotations

import numpy as np
import plugrad
from plugrad.plugins import registry

from .opinfo import Arr

__all__ = ["DeviceUnderTest", "to_numpy", "NP_DTYPE", "LAYOUTS", "ref_array", "reference_args"]

#: the NumPy dtype of each dtype the suite checks; bfloat16 (which NumPy lacks) is not
#: in its matrix: 8 mantissa bits need their own tolerances, tests/test_bfloat16.py has them
NP_DTYPE = {d.name: np.dtype(d.name) for d in plugrad.dtypes.ALL_DTYPES if d.name != "bfloat16"}

#: memory layouts a data tensor can be given in, besides contiguous ("expanded"
#: needs values that repeat along dim 0)
LAYOUTS = ("strided", "transposed", "offset", "expanded")


def to_numpy(t) -> np.ndarray:
    """A plugrad tensor's values as a NumPy array of the same dtype (any device)."""
    return np.array(t.detach().tolist(), dtype=NP_DTYPE[t.dtype.name]).reshape(tuple(t.shape))


def ref_array(arr: np.ndarray, dtype_name: str) -> np.ndarray:
    """The values a tensor of ``dtype_name`` holds, as the reference sees them:
    float64 for floats (after rounding to the dtype), int64 for integers, bool."""
    if dtype_name in ("float16", "float32", "float64"):
        return np.asarray(arr).astype(dtype_name).astype(np.float64)
    if dtype_name == "bool":
        return np.asarray(arr).astype(bool)
    return np.asarray(arr).astype(dtype_name).astype(np.int64)


class DeviceUnderTest:
    """A plugrad device as the suite sees it."""

    def __init__(self, name: str):
        self.name = str(name)
        self.device = plugrad.device(name)
        self.backend = registry.backend_for(self.device)
        # the device's dtypes that the suite checks (bfloat16 is left out: see NP_DTYPE)
        self.dtypes = {d.name: d for d in self.backend.dtypes if d.name in NP_DTYPE}
        self.deterministic = bool(getattr(self.backend, "deterministic", True))
        self.expectations = registry.expectations_for(self.device.type)
        self.has_float64 = "float64" in self.dtypes
        self.compile_mode = False   # --compile: the suite runs the ops through plugrad.compile

    def __repr__(self):
        return f"<device under test '{self.name}'>"

    @property
    def grad_dtype(self):
        """The dtype gradients are checked in: float64, else float32 (see the grad check)."""
        for name in ("float64", "float32"):
            if name in self.dtypes:
                return self.dtypes[name]
        return None

    def supports(self, dtype_name: str) -> bool:
        return dtype_name in self.dtypes

    def reference_device(self):
        """The ``cpu`` device, when it is installed and is not the device under test:
        the oracle for error classes and the far end of round trips."""
        if self.device.type == "cpu" or "cpu" not in registry.device_types():
            return None
        return plugrad.device("cpu")

    # ---- data ------------------------------------------------------------------------
    def tensor(self, arr, dtype, layout: str | None = None, device=None):
        """A tensor holding ``arr``'s values in ``dtype``, contiguous or in ``layout``."""
        device = self.device if device is None else device
        arr = np.asarray(arr)
        flat = plugrad.tensor(arr.reshape(-1).tolist(), dtype=dtype, device=device)
        if layout is None or arr.ndim == 0 or arr.size == 0:
            return flat.reshape(arr.shape)
        if layout == "transposed" and arr.ndim >= 2:
            perm = tuple(reversed(range(arr.ndim)))
            inverse = tuple(int(i) for i in np.argsort(perm))
            stored = np.transpose(arr, perm)
            t = plugrad.tensor(stored.reshape(-1).tolist(), dtype=dtype, device=device).reshape(stored.shape)
            return t.permute(*inverse)
        if layout == "expanded":
            # a stride-0 view along dim 0: the values must repeat along it
            return self.tensor(arr[:1], dtype, None, device).expand(*arr.shape)
        if layout == "offset":
            padded = np.concatenate([arr.reshape(-1)[:1], arr.reshape(-1)])
            t = plugrad.tensor(padded.tolist(), dtype=dtype, device=device)
            return t[1:].view(arr.shape)
        # strided: every other element of a buffer twice as long in the last dim
        wide = np.repeat(arr, 2, axis=-1)
        t = plugrad.tensor(wide.reshape(-1).tolist(), dtype=dtype, device=device).reshape(wide.shape)
        return t[..., ::2]

    def materialize(self, sample, dtype, *, requires_grad=False, layout=None, dtypes=None, device=None):
        """The sample's arguments as tensors on this device.

        Returns ``(args, kwargs, data_tensors)``: ``data_tensors`` are the tensors made
        from the sample's data arrays, in :func:`~plugrad_conformance.opinfo.data_arrays`
        order. ``dtypes`` (one per data array) overrides ``dtype`` for mixed-dtype calls.
        """
        made = []
        counter = iter(range(1 << 30))

        def conv(v):
            if isinstance(v, np.ndarray):
                i = next(counter)
                d = dtype if dtypes is None else dtypes[i]
                t = self.tensor(v, d, layout, device)
                if requires_grad and d.is_floating_point and i not in sample.nograd:
                    t.requires_grad_(True)
                made.append(t)
                return t
            if isinstance(v, Arr):
                return self.tensor(v.value, plugrad.dtypes.dtype_from_name(v.dtype), device=device)
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, tuple) and any(isinstance(x, (np.ndarray, Arr)) for x in v):
                return tuple(conv(x) for x in v)
            return v
        args = tuple(conv(a) for a in sample.args)
        kwargs = {k: conv(v) for k, v in sample.kwargs.items()}
        return args, kwargs, made


def reference_args(sample, dtype_names):
    """The sample's arguments as the reference receives them (see :func:`ref_array`)."""
    counter = iter(range(1 << 30))

    def conv(v):
        if isinstance(v, np.ndarray):
            return ref_array(v, dtype_names[next(counter)])
        if isinstance(v, Arr):
            return v.value
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, tuple) and any(isinstance(x, (np.ndarray, Arr)) for x in v):
            return tuple(conv(x) for x in v)
        return v
    return tuple(conv(a) for a in sample.args), {k: conv(v) for k, v in sample.kwargs.items()}
