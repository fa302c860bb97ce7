"""Every differentiable op of the library, checked by gradcheck and gradgradcheck
(float64, on every device that has it), and against PyTorch for its ``grad_fn``
name and gradient values, including the non-differentiable points where a
convention decides (ties of max, abs at 0, clamp at its bounds).

One table drives the three tests. Each case is written against a library ``t``
(plugrad or torch) so the same expression runs in both; its inputs are NumPy
arrays made in float64 from a fixed seed."""

import numpy as np
import pytest

import plugrad
from plugrad.autograd import gradcheck, gradgradcheck

from autograd_support import assert_same_values, supports_float64, to_np

RNG = np.random.default_rng(1234)


def anyv(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return np.abs(RNG.standard_normal(shape)) + 0.5


def unit(*shape):
    return RNG.uniform(-0.9, 0.9, shape)


def apart(*shape):
    """Distinct values 0.3 apart, offset so that none is 0, a tie, an integer or a half
    (the kinks of abs, max, clamp, round...): of the form 0.15 m + 0.037."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.3 - 0.15 * n + 0.037).reshape(shape)


def ix(t, like, values):
    """An int64 index tensor on the device of ``like``."""
    return like.new_tensor(values, dtype=t.int64)


# name: (ops it covers, fn(t, *inputs), input arrays, flags)
# flags: "no_gg" skips gradgradcheck (piecewise-constant first derivative is still
# checked), "no_oracle" skips the PyTorch comparison (reason in the comment).
CASES = {
    # ---- elementwise arithmetic
    "add": ("add", lambda t, a, b: a + b, (anyv(3, 4), anyv(4)), ()),
    "add alpha": ("add", lambda t, a, b: t.add(a, b, alpha=2.5), (anyv(3, 4), anyv(3, 1)), ()),
    "add scalar": ("add", lambda t, a: 2 + a, (anyv(3),), ()),
    "sub": ("sub subtract", lambda t, a, b: t.subtract(a, b), (anyv(3, 4), anyv(1, 4)), ()),
    "rsub": ("rsub", lambda t, a: t.rsub(a, 2.0), (anyv(3),), ()),
    "mul": ("mul multiply", lambda t, a, b: t.multiply(a, b), (anyv(2, 3), anyv(3)), ()),
    "mul scalar": ("mul", lambda t, a: a * 3.5, (anyv(2, 3),), ()),
    "div": ("div divide true_divide", lambda t, a, b: t.true_divide(a, b), (anyv(2, 3), pos(3)), ()),
    "div scalar": ("div", lambda t, a: a / 3.0, (anyv(4),), ()),
    "rdiv": ("reciprocal", lambda t, a: 2.0 / a, (pos(4),), ()),
    "pow scalar": ("pow", lambda t, a: a ** 3, (anyv(4),), ()),
    "pow fractional": ("pow", lambda t, a: a ** 2.5, (pos(4),), ()),
    "pow tensor": ("pow", lambda t, a, b: a ** b, (pos(4), anyv(4)), ()),
    "rpow": ("pow", lambda t, a: 2.0 ** a, (anyv(4),), ()),
    "square": ("square", lambda t, a: t.square(a), (anyv(4),), ()),
    "neg": ("neg negative", lambda t, a: t.negative(a), (anyv(3),), ()),
    "abs": ("abs absolute", lambda t, a: t.absolute(a), (apart(5),), ()),
    "remainder": ("remainder", lambda t, a, b: t.remainder(a, b), (apart(5) + 0.02, pos(5)), ("no_gg",)),
    "fmod": ("fmod", lambda t, a: t.fmod(a, 0.7), (apart(5) + 0.02,), ("no_gg",)),
    # torch has no derivative for floor_divide; plugrad gives the a.e. derivative, zero
    "floor_divide": ("floor_divide", lambda t, a, b: t.floor_divide(a, b), (apart(5) + 0.02, pos(5)),
                     ("no_oracle",)),
    "maximum": ("maximum", lambda t, a, b: t.maximum(a, b), (apart(5), apart(5) + 0.01), ()),
    "minimum": ("minimum", lambda t, a, b: t.minimum(a, b), (apart(5), apart(1) + 0.01), ()),
    "atan2": ("atan2", lambda t, a, b: t.atan2(a, b), (anyv(5), anyv(5)), ()),
    "lerp": ("lerp", lambda t, a, b: t.lerp(a, b, 0.3), (anyv(4), anyv(4)), ()),
    "lerp tensor weight": ("lerp", lambda t, a, b, w: t.lerp(a, b, w), (anyv(4), anyv(4), anyv(4)), ()),
    "addcmul": ("addcmul", lambda t, a, b, c: t.addcmul(a, b, c, value=0.5), (anyv(4), anyv(4), anyv(4)), ()),
    "addcdiv": ("addcdiv", lambda t, a, b, c: t.addcdiv(a, b, c, value=0.5), (anyv(4), anyv(4), pos(4)), ()),
    "where": ("where", lambda t, a, b: t.where(a > 0, a, b), (anyv(3, 4), anyv(4)), ()),
    "where scalar": ("where", lambda t, a: t.where(a > 0, a, 0.0), (anyv(3, 4),), ()),
    "clamp": ("clamp clip", lambda t, a: t.clip(a, -0.5, 0.5), (apart(8) / 4,), ()),
    "clamp min": ("clamp", lambda t, a: a.clamp(min=0.1), (apart(8),), ()),
    "clamp tensor bounds": ("clamp", lambda t, a, lo, hi: t.clamp(a, lo, hi),
                            (apart(6), apart(6) - 0.5, apart(6) + 0.55), ()),
    # ---- unary math
    **{f"{name}": (name, (lambda n: lambda t, a: getattr(t, n)(a))(name), (dom(5),), flags)
       for name, dom, flags in [
           ("exp", anyv, ()), ("log", pos, ()), ("sqrt", pos, ()), ("rsqrt", pos, ()), ("sin", anyv, ()),
           ("cos", anyv, ()), ("tan", unit, ()), ("tanh", anyv, ()), ("sigmoid", anyv, ()),
           ("reciprocal", pos, ()), ("log1p", pos, ()), ("expm1", anyv, ()), ("asin", unit, ()),
           ("acos", unit, ()), ("atan", anyv, ()), ("sinh", anyv, ()), ("cosh", anyv, ()), ("log2", pos, ()),
           ("exp2", anyv, ()), ("relu", apart, ()), ("arcsin", unit, ()), ("arccos", unit, ()),
           ("arctan", anyv, ()), ("floor", apart, ()), ("ceil", apart, ()), ("round", apart, ()),
           ("trunc", apart, ()), ("sign", apart, ()),
       ]},
    # ---- reductions
    "sum": ("sum", lambda t, a: a.sum(), (anyv(3, 4),), ()),
    "sum dims keepdim": ("sum", lambda t, a: a.sum((0, 2), keepdim=True), (anyv(2, 3, 4),), ()),
    "mean": ("mean", lambda t, a: a.mean(), (anyv(3, 4),), ()),
    "mean dim": ("mean", lambda t, a: a.mean(-1, keepdim=True), (anyv(3, 4),), ()),
    "prod": ("prod", lambda t, a: a.prod(), (anyv(3, 2),), ()),
    "prod dim": ("prod", lambda t, a: a.prod(1), (anyv(3, 4),), ()),
    "prod with zeros": ("prod", lambda t, a: a.prod(1), (np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]),), ()),
    "max": ("max", lambda t, a: a.max(), (apart(3, 4),), ()),
    "max dim": ("max", lambda t, a: a.max(1)[0], (apart(3, 4),), ()),
    "max ties": ("max", lambda t, a: a.max(), (np.array([1.0, 3.0, 3.0, -2.0]),), ("no_grad_check",)),
    "min dim keepdim": ("min", lambda t, a: a.min(0, keepdim=True).values, (apart(3, 4),), ()),
    "amax": ("amax", lambda t, a: a.amax(1), (apart(3, 4),), ()),
    "amin": ("amin", lambda t, a: a.amin((0, 1)), (apart(3, 4),), ()),
    "aminmax": ("aminmax", lambda t, a: t.aminmax(a, dim=1), (apart(3, 4),), ()),
    "var": ("var", lambda t, a: a.var(), (anyv(3, 4),), ()),
    "var dim": ("var", lambda t, a: a.var(1, unbiased=False), (anyv(3, 4),), ()),
    "std": ("std", lambda t, a: a.std(), (anyv(3, 4),), ()),
    "std dim": ("std", lambda t, a: a.std(0, keepdim=True), (anyv(3, 4),), ()),
    "var_mean": ("var_mean", lambda t, a: t.var_mean(a, 1), (anyv(3, 4),), ()),
    "std_mean": ("std_mean", lambda t, a: t.std_mean(a, 0), (anyv(3, 4),), ()),
    "cumsum": ("cumsum", lambda t, a: a.cumsum(1), (anyv(3, 4),), ()),
    "cumprod": ("cumprod", lambda t, a: a.cumprod(1), (anyv(3, 4),), ()),
    "cumprod with zeros": ("cumprod", lambda t, a: a.cumprod(0), (np.array([1.5, 0.0, 2.0, 0.5]),), ()),
    "logsumexp": ("logsumexp", lambda t, a: a.logsumexp(1), (anyv(3, 4),), ()),
    "softmax": ("softmax", lambda t, a: a.softmax(1), (anyv(3, 4),), ()),
    "log_softmax": ("log_softmax", lambda t, a: a.log_softmax(0), (anyv(3, 4),), ()),
    "norm": ("norm", lambda t, a: a.norm(), (anyv(3, 4),), ()),
    "norm dim": ("norm", lambda t, a: a.norm(dim=1), (anyv(3, 4),), ()),
    "norm p1": ("norm", lambda t, a: a.norm(p=1), (apart(3, 4),), ()),
    "norm p3": ("norm", lambda t, a: a.norm(p=3, dim=0), (anyv(3, 4),), ()),
    "norm inf": ("norm", lambda t, a: a.norm(p=float("inf")), (apart(3, 4),), ()),
    # ---- shapes and views
    "view": ("view view_as", lambda t, a, b: a.view(4, 3) + a.view_as(b), (anyv(3, 4), anyv(4, 3)), ()),
    "reshape": ("reshape reshape_as", lambda t, a, b: a.t().reshape(-1) + a.reshape_as(b),
                (anyv(3, 4), anyv(12)), ()),
    "permute": ("permute", lambda t, a: a.permute(2, 0, 1), (anyv(2, 3, 4),), ()),
    "transpose": ("transpose swapaxes swapdims", lambda t, a: t.swapdims(t.swapaxes(a.transpose(0, 2), 0, 1), 1, 2),
                  (anyv(2, 3, 4),), ()),
    "t": ("t", lambda t, a: a.t(), (anyv(3, 4),), ()),
    "squeeze": ("squeeze", lambda t, a: a.squeeze() + a.squeeze(1), (anyv(3, 1, 4),), ()),
    "unsqueeze": ("unsqueeze", lambda t, a: a.unsqueeze(1), (anyv(3, 4),), ()),
    "expand": ("expand expand_as", lambda t, a, b: a.expand(2, 3, 4) + a.expand_as(b), (anyv(3, 1), anyv(2, 3, 4)),
               ()),
    "flatten": ("flatten", lambda t, a: a.flatten(1), (anyv(2, 3, 4),), ()),
    "unflatten": ("unflatten", lambda t, a: a.unflatten(1, (2, 2)), (anyv(3, 4),), ()),
    "narrow": ("narrow", lambda t, a: a.narrow(1, 1, 2), (anyv(3, 4),), ()),
    "select": ("select", lambda t, a: a.select(1, 2), (anyv(3, 4),), ()),
    "chunk": ("chunk", lambda t, a: a.chunk(2, 1), (anyv(3, 4),), ()),
    "split": ("split", lambda t, a: a.split([1, 3], 1), (anyv(3, 4),), ()),
    "split one piece": ("split", lambda t, a: a.split(2, 1)[1], (anyv(3, 4),), ()),
    "unbind": ("unbind", lambda t, a: a.unbind(0), (anyv(3, 4),), ()),
    "unbind one piece": ("unbind", lambda t, a: a.unbind(1)[2], (anyv(3, 4),), ()),
    "contiguous": ("contiguous", lambda t, a: a.t().contiguous(), (anyv(3, 4),), ()),
    "as_strided": ("as_strided", lambda t, a: a.as_strided((2, 2), (1, 2), 1), (anyv(3, 4),), ()),
    "movedim": ("movedim moveaxis", lambda t, a: t.moveaxis(a.movedim(0, 2), 1, 0), (anyv(2, 3, 4),), ()),
    "diagonal": ("diagonal", lambda t, a: a.diagonal(1), (anyv(3, 4),), ()),
    "clone": ("clone", lambda t, a: a.clone(), (anyv(3, 4),), ()),
    "flip": ("flip", lambda t, a: a.flip((0, 1)), (anyv(3, 4),), ()),
    "repeat": ("repeat", lambda t, a: a.repeat(2, 1, 2), (anyv(3, 4),), ()),
    "tile": ("tile", lambda t, a: a.tile((2,)), (anyv(3, 4),), ()),
    # ---- indexing
    "getitem basic": ("getitem", lambda t, a: a[1:, ::2], (anyv(3, 4),), ()),
    "getitem int": ("getitem", lambda t, a: a[1], (anyv(3, 4),), ()),
    "getitem advanced": ("getitem", lambda t, a: a[ix(t, a, [2, 0, 1, 2])], (anyv(3, 4),), ()),
    "getitem two lists": ("getitem", lambda t, a: a[ix(t, a, [2, 0, 2]), ix(t, a, [1, 1, 3])], (anyv(3, 4),), ()),
    "getitem mask": ("getitem", lambda t, a: a[a > 0], (anyv(3, 4),), ()),
    "getitem mixed": ("getitem", lambda t, a: a[:, [0, 2, 2]], (anyv(3, 4),), ()),
    "getitem ellipsis none": ("getitem", lambda t, a: a[..., None, 1], (anyv(3, 4),), ()),
    "setitem": ("setitem", lambda t, a, b: _setitem(a, b), (anyv(3, 4), anyv(4)), ()),
    "index_select": ("index_select", lambda t, a: a.index_select(1, ix(t, a, [2, 0, 1, 2])), (anyv(3, 4),), ()),
    "gather": ("gather", lambda t, a: a.gather(1, ix(t, a, [[0, 0], [1, 3], [2, 2]])), (anyv(3, 4),), ()),
    "scatter": ("scatter", lambda t, a, s: a.scatter(1, ix(t, a, [[0, 1], [1, 3], [2, 0]]), s),
                (anyv(3, 4), anyv(3, 2)), ()),
    "scatter value": ("scatter", lambda t, a: a.scatter(1, ix(t, a, [[0], [1], [2]]), 5.0), (anyv(3, 4),), ()),
    "scatter_add": ("scatter_add", lambda t, a, s: a.scatter_add(1, ix(t, a, [[0, 0], [1, 3], [2, 2]]), s),
                    (anyv(3, 4), anyv(3, 2)), ()),
    "take": ("take", lambda t, a: a.take(ix(t, a, [0, 5, 5, 11])), (anyv(3, 4),), ()),
    "put": ("put", lambda t, a, s: a.put(ix(t, a, [0, 5, 11]), s), (anyv(3, 4), anyv(3)), ()),
    "index_put": ("index_put", lambda t, a, s: a.index_put((ix(t, a, [0, 2]),), s), (anyv(3, 4), anyv(2, 4)), ()),
    "index_put accumulate": ("index_put", lambda t, a, s: a.index_put((ix(t, a, [0, 0]),), s, accumulate=True),
                             (anyv(3, 4), anyv(2, 4)), ()),
    "masked_fill": ("masked_fill", lambda t, a: a.masked_fill(a > 0, 2.0), (anyv(3, 4),), ()),
    "masked_select": ("masked_select", lambda t, a: a.masked_select(a > 0), (anyv(3, 4),), ()),
    "index_add": ("index_add", lambda t, a, s: a.index_add(0, ix(t, a, [0, 2, 0]), s, alpha=2),
                  (anyv(3, 4), anyv(3, 4)), ()),
    # ---- joining
    "cat": ("cat concat concatenate", lambda t, a, b: t.concatenate([t.concat([a, b], 1), t.cat([b, a], 1)]),
            (anyv(3, 4), anyv(3, 2)), ()),
    "stack": ("stack", lambda t, a, b: t.stack([a, b], 1), (anyv(3, 4), anyv(3, 4)), ()),
    "hstack": ("hstack", lambda t, a, b: t.hstack([a, b]), (anyv(3, 4), anyv(3, 2)), ()),
    "vstack": ("vstack", lambda t, a, b: t.vstack([a, b]), (anyv(4), anyv(2, 4)), ()),
    # ---- products
    "mm": ("mm", lambda t, a, b: t.mm(a, b), (anyv(3, 4), anyv(4, 2)), ()),
    "bmm": ("bmm", lambda t, a, b: t.bmm(a, b), (anyv(2, 3, 4), anyv(2, 4, 2)), ()),
    "matmul broadcast": ("matmul", lambda t, a, b: a @ b, (anyv(2, 1, 3, 4), anyv(3, 4, 2)), ()),
    "matmul 1d 2d": ("matmul", lambda t, a, b: t.matmul(a, b), (anyv(4), anyv(4, 2)), ()),
    "matmul nd 1d": ("matmul", lambda t, a, b: t.matmul(a, b), (anyv(2, 3, 4), anyv(4)), ()),
    "dot": ("dot vdot inner", lambda t, a, b: t.dot(a, b) + t.vdot(a, b) + t.inner(a, b), (anyv(4), anyv(4)), ()),
    "mv": ("mv", lambda t, a, b: t.mv(a, b), (anyv(3, 4), anyv(4)), ()),
    "outer": ("outer ger", lambda t, a, b: t.outer(a, b) + t.ger(a, b), (anyv(3), anyv(4)), ()),
    "addmm": ("addmm", lambda t, a, b, c: t.addmm(a, b, c, beta=0.5, alpha=2), (anyv(3, 2), anyv(3, 4), anyv(4, 2)),
              ()),
    # ---- conversions and in-place writes
    "to float64": ("to", lambda t, a: a.to(t.float64) * 1.0, (anyv(3),), ()),
    "copy_": ("copy_", lambda t, a, b: a.clone().copy_(b), (anyv(3, 4), anyv(4)), ()),
    "fill_": ("fill_", lambda t, a: a.clone().fill_(2.0) * a, (anyv(3, 4),), ()),
    "zero_": ("zero_", lambda t, a: a.clone().zero_() + a, (anyv(3, 4),), ()),
}


def _setitem(a, b):
    c = a.clone()
    c[1] = b * 2
    return c


def _build(lib, arrays, device=None):
    kwargs = {"device": device} if device is not None else {}
    return tuple(lib.tensor(a, dtype=lib.float64, requires_grad=True, **kwargs) for a in arrays)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    if not supports_float64(device):
        pytest.skip(f"{device} has no float64")
    _, fn, arrays, flags = CASES[name]
    if "no_grad_check" in flags:
        pytest.skip("a tie: finite differences are one-sided there (the convention is checked against PyTorch)")
    inputs = _build(plugrad, arrays, device)
    assert gradcheck(lambda *xs: fn(plugrad, *xs), inputs)
    if "no_gg" not in flags:
        assert gradgradcheck(lambda *xs: fn(plugrad, *xs), inputs)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("name", sorted(CASES))
def test_names_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    _, fn, arrays, flags = CASES[name]
    if "no_oracle" in flags:
        pytest.skip("PyTorch has no derivative here")

    def run(lib):
        inputs = _build(lib, arrays)
        outs = [o for o in _outputs(fn(lib, *inputs)) if o.requires_grad]
        names = [type(o.grad_fn).__name__ for o in outs]
        weights = [lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape)), dtype=lib.float64) for o in outs]
        lib.autograd.backward(outs, weights)
        return names, [o.detach() for o in outs], [x.grad for x in inputs]
    ours, theirs = run(plugrad), run(torch)
    assert ours[0] == theirs[0]
    assert_same_values(ours[1:], theirs[1:], atol=1e-10, rtol=1e-10)


# ---- the neural-network ops (plugrad.nn.functional over plugrad.ops.{dense,convolution,...}) -------
# Checked by gradcheck/gradgradcheck and for values and gradients against PyTorch. Their grad_fn
# names belong to the nn layer (several are compositions here, e.g. elu is a WhereBackward0).

def u01(*shape):
    return RNG.uniform(0.1, 0.9, shape)


NN_CASES = {
    "linear": ("linear", lambda t, F, x, w, b: F.linear(x, w, b), (anyv(3, 4), anyv(2, 4), anyv(2))),
    "conv2d": ("conv2d", lambda t, F, x, w, b: F.conv2d(x, w, b, padding=1), (anyv(1, 2, 4, 4), anyv(3, 2, 3, 3),
                                                                              anyv(3))),
    "conv2d stride": ("conv2d", lambda t, F, x, w: F.conv2d(x, w, stride=2), (anyv(1, 1, 5, 5), anyv(2, 1, 2, 2))),
    "conv1d": ("conv1d", lambda t, F, x, w, b: F.conv1d(x, w, b, padding=1), (anyv(2, 2, 5), anyv(3, 2, 3), anyv(3))),
    "conv_transpose2d": ("conv_transpose2d", lambda t, F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
                         (anyv(1, 2, 3, 3), anyv(2, 3, 3, 3), anyv(3))),
    "unfold": ("unfold", lambda t, F, x: F.unfold(x, 2), (anyv(1, 2, 3, 3),)),
    "fold": ("fold", lambda t, F, x: F.fold(x, (3, 3), 2), (anyv(1, 8, 4),)),
    "max_pool2d": ("max_pool2d max_pool2d_with_indices", lambda t, F, x: F.max_pool2d(x, 2), (apart(1, 2, 4, 4),)),
    "avg_pool2d": ("avg_pool2d", lambda t, F, x: F.avg_pool2d(x, 2), (anyv(1, 2, 4, 4),)),
    "adaptive_avg_pool2d": ("adaptive_avg_pool2d", lambda t, F, x: F.adaptive_avg_pool2d(x, (2, 3)),
                            (anyv(1, 2, 4, 5),)),
    "batch_norm": ("batch_norm", lambda t, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   (anyv(4, 3), pos(3), anyv(3))),
    "layer_norm": ("layer_norm", lambda t, F, x, w, b: F.layer_norm(x, (4,), w, b), (anyv(3, 4), pos(4), anyv(4))),
    "pad": ("pad", lambda t, F, x: F.pad(x, (1, 2)), (anyv(2, 3),)),
    "embedding": ("embedding", lambda t, F, w: F.embedding(ix(t, w, [[0, 2], [1, 0]]), w), (anyv(3, 4),)),
    "mse_loss": ("mse_loss", lambda t, F, x, y: F.mse_loss(x, y), (anyv(3, 4), anyv(3, 4))),
    "l1_loss": ("l1_loss", lambda t, F, x, y: F.l1_loss(x, y, reduction="sum"), (apart(3, 4), apart(3, 4) + 0.01)),
    "nll_loss": ("nll_loss", lambda t, F, x: F.nll_loss(x.log_softmax(1), ix(t, x, [0, 2, 1])), (anyv(3, 4),)),
    "cross_entropy": ("cross_entropy", lambda t, F, x: F.cross_entropy(x, ix(t, x, [0, 2, 1])), (anyv(3, 4),)),
    "binary_cross_entropy": ("binary_cross_entropy", lambda t, F, x, y: F.binary_cross_entropy(x, y),
                             (u01(3, 4), u01(3, 4))),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits",
                                         lambda t, F, x, y: F.binary_cross_entropy_with_logits(x, y),
                                         (anyv(3, 4), u01(3, 4))),
    "smooth_l1_loss": ("smooth_l1_loss", lambda t, F, x, y: F.smooth_l1_loss(x, y), (apart(3, 4), apart(3, 4) / 3)),
    "huber_loss": ("huber_loss", lambda t, F, x, y: F.huber_loss(x, y, delta=0.5), (apart(3, 4), apart(3, 4) / 3)),
    "ctc_loss": ("ctc_loss", lambda t, F, x: F.ctc_loss(x.log_softmax(2), ix(t, x, [[1, 2], [2, 2]]), (4, 3), (2, 1)),
                 (anyv(4, 2, 3),)),
    "activations": ("", lambda t, F, x: t.stack([F.leaky_relu(x, 0.1), F.relu6(x * 4), F.hardtanh(x), F.elu(x),
                                                F.softplus(x), F.silu(x), F.logsigmoid(x)]), (apart(6) / 2,)),
    "softmin normalize": ("", lambda t, F, x: F.softmin(x, 1) + F.normalize(x), (anyv(2, 3),)),
}


@pytest.mark.parametrize("name", sorted(NN_CASES))
def test_nn_gradcheck(name, device):
    if not supports_float64(device):
        pytest.skip(f"{device} has no float64")
    _, fn, arrays = NN_CASES[name]
    inputs = _build(plugrad, arrays, device)
    F = plugrad.nn.functional
    assert gradcheck(lambda *xs: fn(plugrad, F, *xs), inputs)
    assert gradgradcheck(lambda *xs: fn(plugrad, F, *xs), inputs)


@pytest.mark.torch_oracle
@pytest.mark.parametrize("name", sorted(NN_CASES))
def test_nn_values_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    _, fn, arrays = NN_CASES[name]

    def run(lib):
        inputs = _build(lib, arrays)
        out = fn(lib, lib.nn.functional, *inputs)
        out.backward(lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)), dtype=lib.float64))
        return out.detach(), [x.grad for x in inputs]
    assert_same_values(run(plugrad), run(torch), atol=1e-10, rtol=1e-10)


NOT_DIFFERENTIABLE = {
    # comparisons, logic, predicates, integer results
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "isnan", "isinf", "isfinite", "isclose", "allclose", "equal", "all", "any", "argmax", "argmin",
    "count_nonzero", "nonzero", "argwhere", "isneginf", "isposinf", "signbit", "gcd", "lcm",
    "bitwise_left_shift", "bitwise_right_shift",
    # a step function: PyTorch has no derivative for it (its node raises)
    "heaviside",
    # internal helpers exported for other op modules
    "sum_to", "slice_dim", "strided_index", "Windows", "pair", "ntuple", "im2col_raw", "col2im_raw", "im2col", "col2im",
    "legacy_reduction",
}


def test_every_public_differentiable_op_has_a_case():
    """Every differentiable public op is gradchecked: here, or by the conformance suite's
    gradient checks of its database entry (first and second order, on every device), so
    a new elementwise op needs only its conformance entry."""
    from plugrad.ops import (convolution, dense, elementwise, indexing, join, linalg, loss, normalization, padding,
                             pooling, reduction, views)
    from plugrad_conformance.opdb import OPS
    public = set()
    for module in (elementwise, reduction, views, indexing, join, linalg, convolution, dense, loss, normalization,
                   padding, pooling):
        public |= set(module.__all__)
    covered = {op.name for op in OPS.values() if op.differentiable and op.gradgrad}
    for ops, *_ in list(CASES.values()) + list(NN_CASES.values()):
        covered |= set(ops.split())
    missing = sorted(public - NOT_DIFFERENTIABLE - covered)
    assert missing == [], f"differentiable ops without a gradcheck case: {missing}"


def test_a_wrong_formula_in_an_op_is_caught():
    from plugrad.ops.pointwise import unary
    wrong_atan = unary("atan", grad=lambda g, x: g / (1 + x), declared=False)   # d/dx atan x is g/(1+x^2)
    x = plugrad.tensor([0.3, -0.8], dtype=plugrad.float64, requires_grad=True)
    assert gradcheck(plugrad.atan, (x,))
    assert gradcheck(wrong_atan, (x,), raise_exception=False) is False


def test_float32_gradients_agree_with_float64(device):
    arrays = (anyv(3, 4), anyv(4, 2))
    grads = []
    for dtype in (plugrad.float32, plugrad.float64):
        if dtype is plugrad.float64 and not supports_float64(device):
            pytest.skip(f"{device} has no float64")
        a, b = (plugrad.tensor(v, dtype=dtype, device=device, requires_grad=True) for v in arrays)
        (a @ b).softmax(1).log().sum().backward()
        grads.append((to_np(a.grad), to_np(b.grad)))
    for g32, g64 in zip(*grads):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)
