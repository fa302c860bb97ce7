"""The deprecation warnings plugrad gives, as PyTorch gives them: the same class and
message for the same call (other tests that call these forms filter them out)."""

from __future__ import annotations

import warnings

import plugrad
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

CALLS = {
    "chain_matmul": lambda m: m.chain_matmul(m.ones(2, 3), m.ones(3, 4), m.ones(4, 2)),
    "kl_div-mean": lambda m: m.nn.functional.kl_div(m.zeros(2, 3), m.full((2, 3), 0.5), reduction="mean"),
}


def _warnings_of(call, module) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(module)
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_deprecated_forms_warn_as_pytorch_does(name):
    ours, theirs = _warnings_of(CALLS[name], plugrad), _warnings_of(CALLS[name], torch)
    assert ours and [category for category, _ in ours] == [category for category, _ in theirs]
    assert [message for _, message in ours] == [message.split(" (Triggered internally")[0] for _, message in theirs]
