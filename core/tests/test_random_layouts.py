"""Random draws into non-contiguous tensors follow PyTorch's order: ``bernoulli(p)``
draws into a row-major result whatever ``p``'s layout, and ``self.bernoulli_(p)`` draws
in ``self``'s memory order, each draw with the probability at its own element (the
conformance suite's layout check found 0/1 probabilities landing on other elements)."""

from __future__ import annotations

import plugrad
import pytest

torch = pytest.importorskip("torch")


def _both(fn):
    results = []
    for lib in (torch, plugrad):
        lib.manual_seed(7)
        results.append(fn(lib))
    return results


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_of_transposed_probabilities(dtype):
    theirs, ours = _both(lambda m: m.bernoulli(m.rand(5, 6, dtype=getattr(m, dtype)).mT).tolist())
    assert ours == theirs


def test_bernoulli_of_certain_probabilities_is_the_input_in_any_layout():
    x = plugrad.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]).mT
    assert plugrad.equal(plugrad.bernoulli(x), x)


@pytest.mark.parametrize("p_layout", ["contiguous", "transposed"])
def test_bernoulli_inplace_on_a_transposed_tensor(p_layout):
    def run(m):
        target = m.zeros(6, 5).mT
        p = m.rand(5, 6) if p_layout == "contiguous" else m.rand(6, 5).mT
        return target.bernoulli_(p).tolist()
    theirs, ours = _both(run)
    assert ours == theirs
