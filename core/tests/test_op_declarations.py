"""One declaration per op, and what follows from it: the function, the method, the
in-place method, the op table entry; the elementwise mechanism's nodes and plans."""

from __future__ import annotations

import pytest

import plugrad
from plugrad.ops.declare import DECLARATIONS, declared
from plugrad.ops.pointwise import node_class
from plugrad.optable import ops


def _unwrapped(fn):
    return getattr(fn, "__wrapped__", fn)


def test_every_declaration_gives_its_forms():
    for decl in DECLARATIONS.values():
        if decl.public:
            for name in (decl.name, *decl.aliases):
                assert _unwrapped(getattr(plugrad, name)) is decl.fn, name
        for name in decl.methods:
            assert getattr(plugrad.Tensor, name) is decl.fn, name
        for name in decl.inplace:
            assert getattr(plugrad.Tensor, name) is decl.inplace_fn, name
        assert getattr(ops, decl.name) is decl.fn


def test_declarations_know_their_family():
    assert DECLARATIONS["erf"].family == "plugrad.ops.elementwise.unary"
    assert {d.name for d in declared("plugrad.ops.elementwise.logic")} >= {"eq", "bitwise_and", "isclose"}
    assert DECLARATIONS["transpose"].inplace == ("transpose_", "swapaxes_", "swapdims_")


def test_a_node_saves_only_what_the_needed_formulas_read():
    x = plugrad.ones(3, requires_grad=True)
    w = plugrad.full((3,), 2.0)
    node = (x * w).grad_fn          # d/dx reads w; d/dw is not needed, so x is not kept
    assert node.saved_tensors[0] is None and node.saved_tensors[1] is w
    assert (x + w).grad_fn._saved is None   # add's formulas read no tensor
    assert (x * 2.0).grad_fn._saved is None   # the number is kept on the node, not saved


def test_a_formula_must_read_known_names():
    with pytest.raises(TypeError, match=r"reads \['y'\]"):
        node_class("WrongBackward0", (lambda g, y: g * y, None))


def test_plans_follow_the_default_dtype():
    ints = plugrad.arange(3)
    assert (ints / 2).dtype is plugrad.float32
    plugrad.set_default_dtype(plugrad.float64)
    try:
        assert (ints / 2).dtype is plugrad.float64
        assert (ints * 0.5).dtype is plugrad.float64
    finally:
        plugrad.set_default_dtype(plugrad.float32)
    assert (ints / 2).dtype is plugrad.float32


def test_operator_forms_step_aside_for_foreign_operands():
    x = plugrad.ones(2)
    assert x.__add__("text") is NotImplemented and x.__eq__(None) is NotImplemented
    with pytest.raises(TypeError):
        plugrad.add(x, "text")


def test_in_place_forms_write_through_the_kernel_or_the_op():
    x = plugrad.tensor([1.0, 2.0])
    storage = x.untyped_storage()
    assert x.mul_(3) is x and x.tolist() == [3.0, 6.0] and x.untyped_storage() is storage
    i = plugrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)                      # a float result cannot go into an int tensor
    assert i.tolist() == [1, 2]        # and the failed op left it unchanged
