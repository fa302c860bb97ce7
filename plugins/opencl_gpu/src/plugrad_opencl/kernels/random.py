"""Random numbers from a counter-based generator (Philox-4x32-10).

The element at row-major position ``lin`` of the output gets the block
``philox(key = seed, counter = lin)``, so the values depend only on the seed and the
position: the same seed gives the same tensor on every run, whatever the work-group
size or device, and any output layout (strided views included) is filled alike.
The streams do not match PyTorch's generator (no device's do).
"""

from __future__ import annotations

from .common import Operand
from .ctype import CTYPES, CType, convert
from .elementwise import pair

PHILOX = """
uint4 pg_philox(const uint k0, const uint k1, const ulong lin) {
    uint4 x = (uint4)((uint)lin, (uint)(lin >> 32), 0u, 0u);
    uint a = k0, b = k1;
    for (int r = 0; r < 10; ++r) {
        const uint lo0 = 0xD2511F53u * x.s0, hi0 = mul_hi(0xD2511F53u, x.s0);
        const uint lo1 = 0xCD9E8D57u * x.s2, hi1 = mul_hi(0xCD9E8D57u, x.s2);
        x = (uint4)(hi1 ^ x.s1 ^ a, lo1, hi0 ^ x.s3 ^ b, lo0);
        a += 0x9E3779B9u;
        b += 0xBB67AE85u;
    }
    return x;
}
"""


def _unit(ct: CType, hi: str, lo: str) -> str:
    """A uniform value in [0, 1) exactly representable in ct (53, 24 or 11 random bits)."""
    if ct.name == "float64":
        return f"((double)((ulong)({hi} >> 5) * 67108864UL + ({lo} >> 6)) * 0x1.0p-53)"
    if ct.is_half:
        return f"((float)({hi} >> 21) * 0x1.0p-11f)"
    return f"((float)({hi} >> 8) * 0x1.0p-24f)"


def random_kernels(ct: CType, idx, fp64: bool) -> list:
    """``rand_uniform``/``rand_normal`` (floats), ``rand_randint`` and ``rand_bernoulli``
    (every dtype). Scalars: the seed's two halves, then the distribution's parameters."""
    c = ct.compute
    out = [Operand("o", ct.storage, True)]
    key = [("uint", "k0", "uint32"), ("uint", "k1", "uint32")]
    draw = "const uint4 r = pg_philox(k0, k1, (ulong)lin); "
    specs = []
    if ct.is_float:
        specs += pair("rand_uniform", out, key + [(c, "lo", ct.scalar_np), (c, "hi", ct.scalar_np)],
                      draw + ct.store("p_o", "i_o", f"lo + (hi - lo) * {_unit(ct, 'r.s0', 'r.s1')}"), idx)
        if ct.name == "float64":
            u1 = f"(1.0 - {_unit(ct, 'r.s0', 'r.s1')})"
            u2 = _unit(ct, "r.s2", "r.s3")
            z = f"sqrt(-2.0 * log({u1})) * cospi(2.0 * {u2})"
        else:
            u1 = "((float)((r.s0 >> 8) + 1u) * 0x1.0p-24f)"
            u2 = "((float)(r.s1 >> 8) * 0x1.0p-24f)"
            z = f"sqrt(-2.0f * log({u1})) * cospi(2.0f * {u2})"
        specs += pair("rand_normal", out, key + [(c, "mean", ct.scalar_np), (c, "std", ct.scalar_np)],
                      draw + ct.store("p_o", "i_o", f"mean + std * ({z})"), idx)
    value = convert("(lo + (long)((((ulong)r.s0 << 32) | r.s1) % span))", CTYPES["int64"], ct)
    specs += pair("rand_randint", out, key + [("long", "lo", "int64"), ("ulong", "span", "uint64")],
                  draw + ct.store("p_o", "i_o", value), idx)
    unit = _unit(ct if fp64 and ct.name == "float64" else CTYPES["float32"], "r.s0", "r.s1")
    prob_t, prob_np = ("double", "float64") if fp64 and ct.name == "float64" else ("float", "float32")
    specs += pair("rand_bernoulli", out, key + [(prob_t, "prob", prob_np)],
                  draw + ct.store("p_o", "i_o", f"({c})({unit} < prob)"), idx)
    return specs

