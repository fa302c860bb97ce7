"""Random number generators with PyTorch's CPU semantics: ``Generator``, ``manual_seed``,
``fork_rng``.

A :class:`Generator` is PyTorch's CPU generator: an mt19937 stream seeded as PyTorch
seeds it, plus the normal sample PyTorch caches between scalar draws
(``plugrad._torchrng.MTState``). Every random op asks it for ``n`` values of one of
PyTorch's CPU streams (:func:`draw`) and gets PyTorch's bits: after
``manual_seed(0)``, ``rand(3)`` is ``[0.4963, 0.7682, 0.0885]`` as in PyTorch.

The values are made on the host and uploaded, so every device gets the same numbers for
the same seed and call sequence, whatever device the tensor lives on. The engine is the
optional kernel ``Backend.random_stream``: a device that overrides it computes its own
streams (the conformance suite holds it to the reference); any other device draws
through the cpu device's vectorised NumPy engine when the cpu plugin is installed, else
through the pure-Python reference. One default generator serves every device, as
PyTorch's ``manual_seed`` seeds all of its devices at once.

``get_state``/``set_state`` use PyTorch's byte layout (a uint8 tensor of 5056 bytes), so
a state saved by PyTorch restores here and the other way round.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading

from ._torchrng import MTState
from .backend import Backend
from .device import device as _device
from .dtypes import int64, uint8
from .optable import ops
from .plugins.registry import backend_for

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state",
           "set_rng_state", "fork_rng", "draw"]

#: PyTorch's seed of a generator nobody seeded (``default_rng_seed_val``)
DEFAULT_SEED = 67280421310721
_STATE_SIZE = 5056                      # sizeof(CPUGeneratorImplState)
_HEAD = struct.Struct("<QiiQ")          # the_initial_seed, left, seeded, next
_WORDS = struct.Struct("<624Q")         # the 624 state words, widened to 64 bits
_NORMAL = struct.Struct("<dddi")        # normal_x, normal_y (the cached double), normal_rho, normal_is_valid
_FLOAT_NORMAL = struct.Struct("<f?")    # the cached float sample and its flag
_WORDS_AT, _NORMAL_AT, _FLOAT_AT = 24, 24 + 624 * 8, 24 + 624 * 8 + 32


def _check_seed(seed) -> int:
    """A seed as PyTorch takes it: an int in [-2**63, 2**64); negatives wrap to uint64."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}") from None
    if not -(1 << 63) <= seed < 1 << 64:
        raise RuntimeError(f"Overflow when unpacking long long: a seed must be in [-2**63, 2**64), got {seed}")
    return seed & ((1 << 64) - 1)


class Generator:
    """A seeded random stream with PyTorch's CPU semantics (``Generator().manual_seed(0)``).

    ``device`` is kept for PyTorch's API: the stream is the same on every device."""

    def __init__(self, device="cpu"):
        self.device = device if isinstance(device, _device) else _device(device)
        self._initial = DEFAULT_SEED
        self._state = MTState(DEFAULT_SEED)
        self._lock = threading.Lock()

    def manual_seed(self, seed) -> "Generator":
        """Seed the stream (``mt19937(seed)`` takes the low 32 bits; ``initial_seed``
        returns the whole seed) and drop the cached normal sample."""
        seed = _check_seed(seed)
        with self._lock:
            self._initial = seed
            self._state.reseed(seed)
        return self

    def seed(self) -> int:
        """Seed with a non-deterministic 64-bit value and return it."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._initial

    def next_seed(self) -> int:
        """``torch.empty((), dtype=torch.int64).random_(generator=self).item()``: the seed
        PyTorch's DataLoader and samplers draw (one ``random64()`` modulo 2**63)."""
        return int(ops.empty((), dtype=int64).random_(generator=self).item())

    def get_state(self):
        """The state as PyTorch's uint8 tensor (``CPUGeneratorImplState``, 5056 bytes)."""
        with self._lock:
            st = self._state
            data = bytearray(_STATE_SIZE)
            left = 625 - st.pos
            _HEAD.pack_into(data, 0, self._initial, left, 1, 0 if st.fresh else st.pos)
            _WORDS.pack_into(data, _WORDS_AT, *[int(k) for k in st.key])
            cached = st.normal_double
            _NORMAL.pack_into(data, _NORMAL_AT, 0.0, 0.0 if cached is None else cached, 0.0, cached is not None)
            fcached = st.normal_float
            _FLOAT_NORMAL.pack_into(data, _FLOAT_AT, 0.0 if fcached is None else fcached, fcached is not None)
        return ops.tensor(list(data), dtype=uint8)

    def set_state(self, new_state) -> "Generator":
        """Restore a state from :meth:`get_state` (plugrad's or PyTorch's)."""
        if not hasattr(new_state, "dtype") or not hasattr(new_state, "numel"):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got a tensor of dtype {new_state.dtype}")
        size = new_state.numel()
        if size != _STATE_SIZE:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState of "
                               f"size 5056 but found the input RNG state size to be {size}")
        data = bytes(new_state.contiguous().tolist())
        initial, left, _seeded, nxt = _HEAD.unpack_from(data, 0)
        if not 1 <= left <= 624:
            raise RuntimeError(f"The RNG state's 'left' must be in [1, 624], but got {left}")
        state = MTState.__new__(MTState)
        state.key = [w & 0xFFFFFFFF for w in _WORDS.unpack_from(data, _WORDS_AT)]
        state.pos = 625 - left
        state.fresh = left == 1 and nxt == 0
        _x, normal_y, _rho, valid = _NORMAL.unpack_from(data, _NORMAL_AT)
        state.normal_double = normal_y if valid else None
        fvalue, fvalid = _FLOAT_NORMAL.unpack_from(data, _FLOAT_AT)
        state.normal_float = fvalue if fvalid else None
        with self._lock:
            self._initial, self._state = initial, state
        return self

    def clone_state(self) -> "Generator":
        """A new generator on the same device in this one's state (PyTorch's ``clone_state``)."""
        return Generator(self.device).set_state(self.get_state())

    def __getstate__(self):
        """Pickled as its device and PyTorch's state bytes (the lock is not state)."""
        return {"device": self.device, "state": bytes(self.get_state().tolist())}

    def __setstate__(self, saved):
        self.__init__(saved["device"])
        self.set_state(ops.tensor(list(saved["state"]), dtype=uint8))

    def __repr__(self) -> str:
        return f"<plugrad.Generator object at {id(self):#x}>"


def _cpu_engine():
    """The cpu device's backend when its plugin is installed and starts, else None."""
    try:
        return backend_for(_device("cpu"))
    except RuntimeError:
        return None


def draw(generator, kind: str, n: int, dtype_, args: tuple, backend):
    """``n`` values of PyTorch's CPU stream ``kind`` from ``generator`` (the default one
    when None) for a tensor of ``dtype_`` on ``backend``'s device, as bytes for
    ``backend.from_bytes``. The engine is ``backend``'s own ``random_stream`` when it
    overrides the kernel, else the cpu device's, else the reference (see the module
    docstring): the bits are the same whichever runs."""
    gen = default_generator if generator is None else generator
    engine = backend
    if type(backend).random_stream is Backend.random_stream:
        engine = _cpu_engine() or backend
    with gen._lock:
        return engine.random_stream(kind, gen._state, n, dtype_, args)


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator: every random op after it gives PyTorch's numbers."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (a uint8 tensor in PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Run a block whose random draws do not move the default generator: its state is
    saved on entry and restored on exit (one generator serves every device, so
    ``devices`` and ``device_type`` select nothing more). ``enabled=False`` does nothing."""
    if not enabled:
        yield
        return
    saved = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(saved)
