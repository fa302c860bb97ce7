"""Random number generation state: ``manual_seed``, ``Generator``.

The core owns the generator; each random op draws a fresh 64-bit seed from it and
hands it to the device's kernel. A seeded program is therefore reproducible on a
device, and the devices' streams are independent of each other's internals.
Values differ from PyTorch's (its generator is not part of the contract).
"""

from __future__ import annotations

import random as _pyrandom

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state",
           "set_rng_state"]


class Generator:
    """A seeded source of random streams (``plugrad.Generator().manual_seed(0)``)."""

    def __init__(self, device="cpu"):
        self.device = device
        self._initial = 67280421310721
        self._rng = _pyrandom.Random(self._initial)

    def manual_seed(self, seed) -> "Generator":
        seed = int(seed)
        self._initial = seed
        self._rng.seed(seed)
        return self

    def seed(self) -> int:
        s = _pyrandom.SystemRandom().getrandbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._initial

    def next_seed(self) -> int:
        """A 64-bit seed for one kernel call."""
        return self._rng.getrandbits(64)

    def get_state(self):
        return self._rng.getstate()

    def set_state(self, state) -> None:
        self._rng.setstate(state)

    def shuffle(self, n: int) -> list:
        """A random permutation of ``range(n)``."""
        perm = list(range(n))
        self._rng.shuffle(perm)
        return perm


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator: every random op after it is reproducible."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)
