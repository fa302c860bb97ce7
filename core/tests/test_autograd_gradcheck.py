"""gradcheck and gradgradcheck themselves: they pass correct gradients and catch
each kind of wrong backward (wrong values, not linear in the upstream gradient,
nondeterministic, mutating its inputs, wrong second derivative), with an error
that names the input, the output and both Jacobians."""

import pytest

import plugrad
from plugrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def f64(*values, shape=None):
    t = plugrad.tensor(values, dtype=plugrad.float64)
    return (t.reshape(shape) if shape else t).requires_grad_()


def make_function(forward, backward):
    """A custom Function from two plain callables (backward gets ctx, g)."""
    class Custom(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return backward(x, g)
    return Custom


def test_passes_correct_gradients(device):
    x = plugrad.tensor([[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]], dtype=plugrad.float64, device=device,
                       requires_grad=True)
    y = plugrad.tensor([0.5, 1.5, -2.0], dtype=plugrad.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a, b: (a * b).tanh().sum(1), (x, y))
    assert gradcheck(lambda a, b: (a * b, a.exp()), (x, y), check_batched_grad=True)
    assert gradgradcheck(lambda a, b: (a * b).sin(), (x, y))
    assert gradcheck(lambda a, b: a @ b, (x, y), fast_mode=True)


def test_accepts_a_single_tensor_non_tensor_arguments_and_inputs_without_grad():
    x = f64(0.5, 1.5)
    c = plugrad.tensor([2.0, 3.0], dtype=plugrad.float64)
    assert gradcheck(lambda a: a.sin(), x)
    assert gradcheck(lambda a, k, b: a * k + b, (x, 3.0, c))


def test_non_contiguous_inputs_keep_their_layout():
    base = plugrad.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], dtype=plugrad.float64)
    xt = base.t().requires_grad_()
    seen = []

    def f(a):
        seen.append(a.is_contiguous())
        return a.exp()
    assert gradcheck(f, (xt,))
    assert not any(seen)


def test_wrong_gradient_names_input_output_and_jacobians():
    Wrong = make_function(lambda x: x.sin(), lambda x, g: g * x.sin())
    x = f64(0.3, 1.2)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a * 2, Wrong.apply(b)), (f64(1.0), x))
    msg = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "Jacobian mismatch for output 1 with respect to input 1" in msg
    assert "numerical:" in msg and "analytical:" in msg and "device cpu" in msg
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_backward_not_linear_in_the_upstream_gradient_is_caught():
    # right for unit upstream gradients, wrong for any other: g*g instead of g
    Squared = make_function(lambda x: x * 3, lambda x, g: g * g * 3)
    with pytest.raises(GradcheckError, match="not linear in the upstream gradient"):
        gradcheck(Squared.apply, (f64(0.5, -0.5),))
    # ignores g: right only for a scalar output and upstream 1
    Ignores = make_function(lambda x: (x * x).sum(), lambda x, g: 2 * x)
    with pytest.raises(GradcheckError, match="not linear"):
        gradcheck(Ignores.apply, (f64(0.5, -0.5),))


def test_nondeterministic_backward_is_caught():
    calls = []

    def noisy(x, g):
        calls.append(1)
        return g * 2 + (1e-3 if len(calls) % 2 == 0 else 0.0)
    Noisy = make_function(lambda x: x * 2, noisy)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (f64(0.5),), atol=1e-2)
    calls.clear()
    assert gradcheck(Noisy.apply, (f64(0.5),), atol=1e-2, nondet_tol=1e-2, check_undefined_grad=False)


def test_function_mutating_its_input_is_caught():
    def mutates(a):
        with plugrad.no_grad():
            a.mul_(1.0)  # same values, but an in-place write
        return a * 2
    with pytest.raises(GradcheckError, match="modified input 0 in place"):
        gradcheck(mutates, (f64(0.5, 1.0),))


def test_wrong_second_derivative_is_caught_by_gradgradcheck():
    # first derivative right (cos x), but its own backward treats x as a constant
    class SinNoSecond(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.detach().cos()
    x = f64(0.3, 1.2)
    assert gradcheck(SinNoSecond.apply, (x,))
    with pytest.raises(GradcheckError, match="first derivatives of"):
        gradgradcheck(SinNoSecond.apply, (x,))
    assert gradgradcheck(SinNoSecond.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(lambda a: a.sin(), (x,), gen_non_contig_grad_outputs=True)


def test_gradgradcheck_with_given_grad_outputs():
    x = f64(0.3, 1.2)
    g = plugrad.tensor([1.0, -2.0], dtype=plugrad.float64, requires_grad=True)
    assert gradgradcheck(lambda a: a ** 3, (x,), (g,))


def test_fast_mode_catches_wrong_gradients():
    Wrong = make_function(lambda x: x.exp(), lambda x, g: g * x.exp() * 1.01)
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(Wrong.apply, (f64(0.1, 0.2, 0.3),), fast_mode=True)


def test_argument_errors():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (plugrad.ones(2, dtype=plugrad.float64),))
    expanded = plugrad.tensor([1.0], dtype=plugrad.float64).expand(3).requires_grad_()
    with pytest.raises(RuntimeError, match="stride 0"):
        gradcheck(lambda a: a * 2, (expanded,))
    with pytest.raises(ValueError, match="forward-mode"):
        gradcheck(lambda a: a * 2, (f64(1.0),), check_forward_ad=True)


def test_float32_inputs_warn():
    x = plugrad.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not of double precision"):
        gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2)


def test_integer_outputs_are_ignored():
    x = f64(0.5, -1.0, 2.0)
    assert gradcheck(lambda a: (a.exp(), a.argmax()), (x,))
