"""Custom autograd Functions: forward/backward, ctx.save_for_backward and
saved_tensors, needs_input_grad, mark_non_differentiable, mark_dirty,
materialize_grads, setup_context, once_differentiable."""

import numpy as np
import pytest

import plugrad
from plugrad.autograd import Function, gradcheck, gradgradcheck
from plugrad.autograd.function import once_differentiable

from autograd_support import assert_same_values, run_both, to_np


def exp_function(lib):
    class Exp(lib.autograd.Function):
        """d exp(x) = exp(x): saves its output"""

        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r
    return Exp


class ScaledMul(Function):
    """x * k * y with a number k, and a bool mask output that is not differentiable"""

    @staticmethod
    def forward(ctx, x, k, y):
        ctx.k = k
        ctx.save_for_backward(x, y)
        return x * k * y, x > 0

    @staticmethod
    def backward(ctx, g, g_mask):
        x, y = ctx.saved_tensors
        gx = g * ctx.k * y if ctx.needs_input_grad[0] else None
        gy = g * ctx.k * x if ctx.needs_input_grad[2] else None
        return gx, None, gy


def test_grad_fn_name_and_repr():
    Exp = exp_function(plugrad)
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert y.grad_fn.name() == "ExpBackward"
    assert repr(y.grad_fn).startswith("<torch.autograd.function.ExpBackward object at 0x")
    assert y.grad_fn.next_functions[0][0].variable is x


def test_forward_runs_without_recording_and_backward_is_used():
    Exp = exp_function(plugrad)
    x = plugrad.tensor([0.5, -1.0, 2.0], dtype=plugrad.float64, requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), np.exp([0.5, -1.0, 2.0]), rtol=1e-12)
    assert gradcheck(Exp.apply, (x,))
    assert gradgradcheck(Exp.apply, (x,))  # backward written with plugrad ops: differentiable


def test_needs_input_grad_non_tensor_arguments_and_non_differentiable_outputs():
    x = plugrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = plugrad.tensor([0.5, 0.5, 2.0])
    calls = []

    class Spy(ScaledMul):
        @staticmethod
        def backward(ctx, g, g_mask):
            calls.append(ctx.needs_input_grad)
            return ScaledMul.backward(ctx, g, g_mask)

    p, mask = Spy.apply(x, 2.5, y)
    assert p.requires_grad and not mask.requires_grad and mask.dtype is plugrad.bool
    p.sum().backward()
    assert calls == [(True, False, False)]
    np.testing.assert_allclose(to_np(x.grad), 2.5 * np.array([0.5, 0.5, 2.0]))


def test_mark_non_differentiable_and_materialized_grads():
    class ArgMax(Function):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            v = x.max()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(x, i)
            return v, i

        @staticmethod
        def backward(ctx, g, g_i):
            assert g_i is None or float(g_i.abs().sum()) == 0.0  # never a real gradient for i
            x, i = ctx.saved_tensors
            z = plugrad.zeros_like(x)
            z[i] = g
            return z

    x = plugrad.tensor([0.5, 3.0, 1.0], requires_grad=True)
    v, i = ArgMax.apply(x)
    assert v.requires_grad and not i.requires_grad
    v.backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 1.0, 0.0])


def test_unused_output_gradients_are_zeros_or_none():
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            seen.append((a is None, b is None))
            a = a if a is not None else plugrad.zeros(3)
            b = b if b is not None else plugrad.zeros(3)
            return a * 2 + b * 3

    x = plugrad.ones(3, requires_grad=True)
    Two.apply(x)[0].sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0] * 3)

    class TwoLazy(Two):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

    TwoLazy.apply(x)[1].sum().backward()
    assert seen == [(False, False), (True, False)]


def test_mark_dirty_rewrites_the_input_history():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    b = x * 3
    c = AddOne_.apply(b)
    assert c is b and type(b.grad_fn).__name__ == "AddOne_Backward"
    (c * c).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), 2 * 3 * np.array([4.0, 7.0]))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        AddOne_.apply(x)
    v_base = x * 1
    AddOne_.apply(v_base[1:])  # a view: the base's history becomes CopySlices
    assert type(v_base.grad_fn).__name__ == "CopySlices"


def test_setup_context_style():
    class Mul(Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x

    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    y = plugrad.tensor([3.0, 4.0], requires_grad=True)
    Mul.apply(x, y).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 4.0])
    np.testing.assert_array_equal(to_np(y.grad), [1.0, 2.0])


def test_wrong_number_of_gradients_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    x = plugrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()

    class Extra(Bad):
        @staticmethod
        def backward(ctx, g):
            return g, g, None  # trailing Nones are allowed

    Extra.apply(x, x).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])

    class NonTensorGrad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="forward input was not a Variable"):
        NonTensorGrad.apply(x, 2.0).sum().backward()


def test_save_for_backward_accepts_only_tensors():
    class Saves(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    with pytest.raises(TypeError, match="save_for_backward can only save variables"):
        Saves.apply(plugrad.ones(1, requires_grad=True))


def test_saved_tensor_modified_in_place_is_detected():
    Exp = exp_function(plugrad)
    x = plugrad.ones(2, requires_grad=True)
    y = Exp.apply(x)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_apply_under_no_grad_records_nothing():
    Exp = exp_function(plugrad)
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.no_grad():
        y = Exp.apply(x)
    assert not y.requires_grad and y.grad_fn is None


def test_returning_an_input_gives_a_new_alias_with_history():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = plugrad.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.data_ptr() == x.data_ptr()
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [5.0, 5.0])


def test_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = plugrad.tensor([3.0], requires_grad=True)
    (g,) = plugrad.autograd.grad(Square.apply(x), x)
    assert g.item() == 6.0
    (g,) = plugrad.autograd.grad(Square.apply(x), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


def test_gradcheck_catches_a_wrong_custom_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.sin()  # should be cos

    x = plugrad.tensor([0.3, 1.2], dtype=plugrad.float64, requires_grad=True)
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


@pytest.mark.torch_oracle
def test_custom_function_program_matches_pytorch():
    def program(lib):
        Exp = exp_function(lib)
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = Exp.apply(x * 2)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return type(y.grad_fn).__name__, y, g, h
    ours, theirs = run_both(program)
    assert_same_values(ours, theirs, rtol=1e-12)
