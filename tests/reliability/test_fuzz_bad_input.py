"""Bad-input fuzzing of every public op in the conformance op database, on every device.

Each example takes a valid sample of an op, replaces one argument with bad input
(see ``fuzz_support.KINDS``) and holds plugrad to PyTorch's outcome for the same call
(``fuzz_support.check_call``). Two drivers: a sweep that tries every kind of bad input
that fits each op once (fixed seeds: the same calls on every run), and a hypothesis
test that samples ops, samples, argument slots and kinds broadly (``ci``: a few
hundred calls per device; ``HYPOTHESIS_PROFILE=thorough``: sixteen times more).

``PLUGRAD_FUZZ_FIGURES=<path>`` writes the run's figures (ops, kinds, calls) there.
"""

from __future__ import annotations

import json
import zlib
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from plugrad.plugins import registry
from plugrad_conformance.opdb import OPS

import fuzz_support as fz
from fuzz_support import kinds_for, mutate, put_at, slots, tree_of

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

#: the dtypes samples are drawn in, by preference (float16 is left to the conformance suite)
SAMPLE_DTYPES = ("float32", "int64", "bool", "float64", "int32")

STATS = fz.new_stats()


@pytest.fixture(scope="module", autouse=True)
def _report_figures():
    yield
    path = os.environ.get("PLUGRAD_FUZZ_FIGURES")
    if path:
        with open(path, "w") as f:
            json.dump(fz.figures(STATS), f, indent=1)


def _devices():
    import plugrad
    return [d for d in ("cpu", "opencl") if d in registry.device_types() and getattr(plugrad, d).is_available()]


DEVICES = _devices()


def _other(device):
    others = [d for d in DEVICES if d != device]
    return others[0] if others else None


def _dtypes(op, device):
    supported = {d.name for d in registry.backend_for(__import__("plugrad").device(device)).dtypes}
    return [d for d in SAMPLE_DTYPES if d in op.dtypes and d in supported]


def _ndim(args):
    for a in args:
        if isinstance(a, fz.T):
            return a.value.ndim
    return 1


def _targets(op, args, kwargs, other):
    """Every (path, kind) a mutation can take for this sample."""
    ndim = _ndim(args)
    return [(path, kind) for path, value in slots(args, kwargs)
            for kind in kinds_for(value, ndim, other is not None)]


def _forms(op, args):
    forms = ["function"]
    name = op.inplace_name()
    if name and hasattr(torch.Tensor, name) and args and isinstance(args[0], fz.T):
        forms.append(name)
    return forms


def _valid(op, args, kwargs, device) -> bool:
    """Whether the unmutated sample is a call both libraries accept (some database samples
    use plugrad-only spellings, such as an int ``normalized_shape``, or an alias's extra
    keyword); only mutations of accepted calls say something about bad input."""
    if fz.torch_function(op) is None:
        return True
    for lib, dev, fn in ((__import__("plugrad"), device, op.function), (torch, "cpu", fz.torch_function(op))):
        try:
            fn(*[fz.build(a, lib, dev, None) for a in args], **{k: fz.build(v, lib, dev, None)
                                                                 for k, v in kwargs.items()})
        except Exception:
            STATS["invalid-sample", op.key, lib.__name__] += 1
            return False
    return True


def _run(op, args, kwargs, path, kind, device, pick, form="function"):
    ndim = _ndim(args)
    bad = mutate(_value_at(args, kwargs, path), kind, ndim, pick)
    margs, mkwargs = put_at(args, kwargs, path, bad)
    if form != "function" and not isinstance(margs[0], fz.T):
        form = "function"
    fz.check_call(op, margs, mkwargs, kind, device, _other(device), form=form, stats=STATS)


def _value_at(args, kwargs, path):
    holder = args[path[1]] if path[0] == "a" else kwargs[path[1]]
    return holder if len(path) == 2 else holder[path[2]]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("key", sorted(OPS))
def test_every_kind_of_bad_input_once(key, device):
    """Each kind of bad input that fits the op, once, in a seeded argument slot."""
    import plugrad
    op = OPS[key]
    dtypes = _dtypes(op, device)
    if not dtypes:
        pytest.skip(f"{key}: no sample dtype on {device}")
    sample = op.fixed_sample(getattr(plugrad, dtypes[0]), "forward", seed=0)
    assert sample is not None, f"{key}: the op database gave no sample"
    args, kwargs = tree_of(sample, dtypes[0])
    if not _valid(op, args, kwargs, device):
        pytest.skip(f"{key}: its seeded sample {sample!r} is not a call PyTorch accepts")
    rng = np.random.default_rng(zlib.crc32(key.encode()))

    def pick(lo, hi):
        return int(rng.integers(lo, hi, endpoint=True))
    by_kind = {}
    for path, kind in _targets(op, args, kwargs, _other(device)):
        by_kind.setdefault(kind, []).append(path)
    forms = _forms(op, args)
    failures = []
    for kind, paths in sorted(by_kind.items()):
        path = paths[pick(0, len(paths) - 1)]
        try:
            _run(op, args, kwargs, path, kind, device, pick, forms[pick(0, len(forms) - 1)])
        except AssertionError as exc:
            failures.append(str(exc).strip()[:600])
    assert not failures, "\n".join(failures)


def _examples():
    return settings().max_examples * 8


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=_examples())
@given(data=st.data())
def test_fuzz_bad_input(device, data):
    import plugrad
    key = data.draw(st.sampled_from(sorted(OPS)), label="op")
    op = OPS[key]
    dtypes = _dtypes(op, device)
    if not dtypes:
        return
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    sample = data.draw(op.strategy(getattr(plugrad, dtype), "forward"), label="sample")
    args, kwargs = tree_of(sample, dtype)
    if not _valid(op, args, kwargs, device):
        return
    targets = _targets(op, args, kwargs, _other(device))
    path, kind = data.draw(st.sampled_from(targets), label="mutation")
    form = data.draw(st.sampled_from(_forms(op, args)), label="form")

    def pick(lo, hi):
        return data.draw(st.integers(lo, hi))
    _run(op, args, kwargs, path, kind, device, pick, form)
