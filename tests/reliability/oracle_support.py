"""One call run in plugrad and in PyTorch (the oracle): the same exception class, or a
result of the same dtype, shape and values. Shared by the focused bad-input tests."""

from __future__ import annotations

import warnings

import numpy as np
import plugrad
import torch

#: PyTorch's exception classes, most specific first: plugrad must raise the one PyTorch raised
CLASSES = (TypeError, IndexError, ValueError, OverflowError, RuntimeError)


def describe(r):
    """A result in comparable form: tensors by dtype, shape and values."""
    if isinstance(r, (plugrad.Tensor, torch.Tensor)):
        return ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape), r.detach().cpu().numpy())
    if isinstance(r, (tuple, list)):
        return tuple(describe(e) for e in r)
    return r


def assert_same(ours, theirs, where, rtol=1e-6):
    """Described results equal (tensor values within ``rtol``; 0 asks for exact equality)."""
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert ours[:3] == theirs[:3], f"{where}: plugrad gave {ours[:3]}, torch {theirs[:3]}"
        if rtol:
            np.testing.assert_allclose(ours[3], theirs[3], rtol=rtol, atol=0, err_msg=where)
        else:
            np.testing.assert_array_equal(ours[3], theirs[3], err_msg=where)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{where}: {ours!r} vs {theirs!r}"
        for a, b in zip(ours, theirs):
            assert_same(a, b, where, rtol)
    else:
        assert ours == theirs, f"{where}: plugrad gave {ours!r}, torch {theirs!r}"


def _outcome(run, m):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return describe(run(m)), None
    except Exception as e:  # noqa: BLE001 - the exception is the outcome under test
        return None, e


def same_as_torch(run, where, rtol=1e-6):
    """``run(m)`` in plugrad and in torch: the same exception class (with a message), or the
    same result. Returns plugrad's exception, or None."""
    ours, our_exc = _outcome(run, plugrad)
    theirs, their_exc = _outcome(run, torch)
    if their_exc is not None:
        want = next(c for c in CLASSES if isinstance(their_exc, c))
        assert isinstance(our_exc, want), (f"{where}: torch raised {type(their_exc).__name__}: {their_exc}; "
                                           + (f"plugrad raised {our_exc!r}" if our_exc else f"plugrad gave {ours!r}"))
        assert str(our_exc), f"{where}: {type(our_exc).__name__} without a message"
        return our_exc
    assert our_exc is None, f"{where}: plugrad raised {type(our_exc).__name__}: {our_exc}; torch returned {theirs!r}"
    assert_same(ours, theirs, where, rtol)
    return None
