"""The deprecation warnings plugrad gives, as PyTorch gives them: the same class and
message for the same call (other tests that call these forms filter them out)."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
import warnings

import plugrad
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle


def _warnings_of(call, module) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(module)
    return [(w.category, str(w.message)) for w in caught]


#: the calls, as source: PyTorch runs them in a fresh interpreter, because some of its deprecation warnings
#: are TORCH_WARN_ONCE (once per process), so an earlier test in this process may have used them up
SOURCES = {
    "chain_matmul": "m.chain_matmul(m.ones(2, 3), m.ones(3, 4), m.ones(4, 2))",
    "kl_div-mean": "m.nn.functional.kl_div(m.zeros(2, 3), m.full((2, 3), 0.5), reduction='mean')",
}


def _torch_warnings(name) -> list:
    code = ("import json, warnings, torch as m\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            f"    {SOURCES[name]}\n"
            "print(json.dumps([[w.category.__name__, str(w.message)] for w in caught]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [(getattr(builtins, category), message) for category, message in json.loads(out)]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_deprecated_forms_warn_as_pytorch_does(name):
    ours = _warnings_of(lambda m: eval(SOURCES[name], {"m": m}), plugrad)  # noqa: S307 - the table's own source
    theirs = _torch_warnings(name)
    assert ours and [category for category, _ in ours] == [category for category, _ in theirs]
    assert [message for _, message in ours] == [message.split(" (Triggered internally")[0] for _, message in theirs]
