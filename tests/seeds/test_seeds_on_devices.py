"""The tutorial programs of the other tests in this folder, run on every installed
device besides ``cpu`` (``plugrad.set_default_device``), print what they print on ``cpu``.

The programs are those tests' own sources, ported as a reader ports them to a GPU:
``.numpy()`` of a device tensor becomes ``.cpu().numpy()`` (unported, it raises
PyTorch's TypeError, checked below) and the ``cuda`` device of seed 000's device
block becomes the device under test. Random numbers come from the NumPy streams those
tests feed ``randn`` and the layer initialisation with, so both runs print the same
numbers, up to float32 rounding (compared to 1e-4).
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest
import test_seed_000_tensors as seed_000
import test_seed_autograd as seed_autograd
import test_seed_training as seed_training

import plugrad
from plugrad.plugins import device_types

DEVICES = [d for d in device_types() if d != "cpu" and getattr(plugrad, d).is_available()]

#: devices that skip the training programs, and why
NO_TRAINING = {"pylist": "the example device computes in pure Python: the 64x1000x100 training loops take minutes"}

PRINTING_PROGRAMS = {
    "000 autograd": seed_autograd.SEED_000, "000 retain_grad": seed_autograd.SEED_000_RETAIN,
    "000 no_grad": seed_autograd.SEED_000_NO_GRAD, "001 leaf": seed_autograd.SEED_001_LEAF,
    "001 grad_fn": seed_autograd.SEED_001_GRAD_FN, "002 Variable": seed_autograd.SEED_002_FULL,
    "003 sum": seed_autograd.SEED_003_SUM, "003 vector": seed_autograd.SEED_003_VECTOR, "004": seed_autograd.SEED_004,
}
TRAINING_PROGRAMS = {"001 nn.Sequential": seed_training.SEED_001_SEQUENTIAL,
                     "001 nn.Module + Adam": seed_training.SEED_001_MODULE_ADAM}
#: seed 001's loops written as functions, each giving its losses
LOOPS = {"001 autograd loop": lambda torch: seed_autograd.autograd_loop(torch)[0],
         "001 manual loop": seed_autograd.manual_loop}

_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e[+-]?\d+)?|nan|inf")


def ported(source: str) -> str:
    return source.replace(".numpy()", ".cpu().numpy()")


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@contextlib.contextmanager
def default_device(name):
    plugrad.set_default_device(name)
    try:
        yield
    finally:
        plugrad.set_default_device("cpu")


def on(name, fn):
    with default_device(name):
        return fn()


def plain(text: str) -> str:
    """Output without the device suffix of tensor reprs."""
    return re.sub(r",?\s*device='[a-z]+(?::\d+)?'", "", text)


def assert_same_output(expected: str, actual: str):
    """Equal text between the numbers; numbers equal to 1e-4 (relative)."""
    expected, actual = plain(expected), plain(actual)
    assert _NUMBER.sub("#", expected) == _NUMBER.sub("#", actual), f"cpu:\n{expected}\ndevice:\n{actual}"
    for e, a in zip(_NUMBER.findall(expected), _NUMBER.findall(actual)):
        assert np.isclose(float(a), float(e), rtol=1e-4, atol=1e-5, equal_nan=True), f"{a} != {e}"


def test_seed_000_tensor_chapter(device):
    device_block = seed_000.DEVICE.replace("torch.cuda.is_available()", "True").replace('"cuda"', repr(device))
    # `print(n1)` shows a cpu tensor's memory shared with NumPy after `t.add_(1)`; from a
    # device, `.cpu().numpy()` is a copy taken before it (as from a GPU): checked apart
    numpy_snippet = ported(seed_000.NUMPY).replace("print(n1)\n", "")
    snippets = [seed_000.CREATION, seed_000.VIEWS, seed_000.ARITHMETIC, numpy_snippet, device_block]
    expected, _ = on("cpu", lambda: seed_000.run_snippets(plugrad, snippets))
    actual, namespace = on(device, lambda: seed_000.run_snippets(plugrad, snippets))
    assert_same_output("\n".join(expected), "\n".join(actual))
    np.testing.assert_array_equal(namespace["n1"], np.ones(5, np.float32))
    assert namespace["z"].device.type == device       # the block moved its tensors to the device


@pytest.mark.parametrize("name", list(PRINTING_PROGRAMS))
def test_seed_printing_program(name, device, monkeypatch):
    source = ported(PRINTING_PROGRAMS[name])
    expected = on("cpu", lambda: seed_autograd.run_program(source, plugrad, monkeypatch))
    actual = on(device, lambda: seed_autograd.run_program(source, plugrad, monkeypatch))
    assert expected.strip(), "the program printed nothing"
    assert_same_output(expected, actual)


@pytest.mark.parametrize("name", list(TRAINING_PROGRAMS))
def test_seed_training_program(name, device, monkeypatch):
    if device in NO_TRAINING:
        pytest.skip(NO_TRAINING[device])
    source = ported(seed_training.for_library(TRAINING_PROGRAMS[name], "plugrad"))
    expected = seed_training.losses(on("cpu", lambda: seed_training.run(source, plugrad, monkeypatch)[0]))
    actual = seed_training.losses(on(device, lambda: seed_training.run(source, plugrad, monkeypatch)[0]))
    assert expected and expected[-1] < expected[0]     # it trained
    np.testing.assert_allclose(actual, expected, rtol=1e-4)


@pytest.mark.parametrize("name", list(LOOPS))
def test_seed_training_loop(name, device):
    if device in NO_TRAINING:
        pytest.skip(NO_TRAINING[device])
    expected = on("cpu", lambda: LOOPS[name](plugrad))
    actual = on(device, lambda: LOOPS[name](plugrad))
    assert expected[-1] < expected[0]                  # it trained
    np.testing.assert_allclose(actual, expected, rtol=1e-4)


def test_the_unported_numpy_call_raises_like_pytorch_on_a_gpu(device):
    """Seed 000's ``t.numpy()`` on a device tensor: PyTorch's TypeError, naming .cpu()."""
    with pytest.raises(TypeError, match=r"can't convert .* device type tensor to numpy. Use Tensor.cpu\(\)"):
        on(device, lambda: seed_000.run_snippets(plugrad, [seed_000.NUMPY]))
