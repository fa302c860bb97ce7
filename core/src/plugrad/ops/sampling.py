"""Random sampling: multinomial, bernoulli, and the in-place samplers of ``Tensor``
(normal_, uniform_, exponential_, random_, bernoulli_, geometric_, log_normal_, cauchy_).

Every sample is one of PyTorch's CPU random streams (``plugrad._torchrng``), drawn from
``plugrad.random``'s default generator or the ``generator=`` argument: the same numbers
as PyTorch's CPU kernels for the same seed, on every device. A sampler writing into a
non-contiguous tensor draws its values in memory order, as PyTorch's TensorIterator
visits it.

A sample does not depend on the parameters smoothly, so its gradient is zero: as in
PyTorch, a sampler on a tensor that requires grad records a node (``NormalBackward0``...)
whose gradient is zeros, and ``multinomial``'s indices are not differentiable.
"""

from __future__ import annotations


from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, record
from ..creation import random_tensor, tensor
from ..dtypes import bool_, float32, float64, int64
from ..layout import numel
from ..optable import ops
from ..random import Generator
from ..tensor import Tensor
from .checks import check_bool, check_int, check_tensor, type_name
from .declare import declare, names_declared_in
from .dispatch import cast, check_inplace_target, inplace, write_out
from .forms import check_writable

__all__ = names_declared_in(__name__)


def _check_generator(generator, fname):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{fname}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}")


def _stream_like(like: Tensor, kind: str, generator, args: tuple) -> Tensor:
    """A tensor of ``like``'s shape, dtype and device holding PyTorch's stream ``kind``,
    its values in the order PyTorch's kernel writes ``like``: row-major for a contiguous
    tensor, memory order (by storage offset) for any other layout."""
    n = numel(like._shape)
    if n <= 1 or like.is_contiguous():
        return random_tensor(kind, like._shape, like._dtype, like.device, generator, args)
    flat = random_tensor(kind, (n,), like._dtype, like.device, generator, args)
    rank = [0] * n
    for k, i in enumerate(_memory_order(like)):
        rank[i] = k
    return flat[tensor(rank, dtype=int64, device=like.device)].reshape(like._shape)


def _memory_order(like: Tensor) -> list:
    """The row-major indices of ``like``'s elements, in the order they lie in memory."""
    offsets = [0]
    for size, stride in zip(like._shape, like._strides):
        offsets = [o + k * stride for o in offsets for k in range(size)]
    return sorted(range(len(offsets)), key=offsets.__getitem__)


# ---- multinomial ------------------------------------------------------------------------------

@declare(method=True)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """``num_samples`` category indices drawn from each row of ``input`` (non-negative
    weights, 1-d or 2-d, normalised per row); without ``replacement`` a category is drawn
    at most once, and the categories of weight zero come after every other one."""
    check_tensor(input, "multinomial", "input")
    num_samples = check_int(num_samples, "multinomial", "num_samples")
    check_bool(replacement, "multinomial", "replacement")
    _check_generator(generator, "multinomial")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{type_name(input._dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input._shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    with no_grad():
        p = input.detach().reshape(-1, categories).to(float64 if input._dtype is float64 else float32)
        rows = p._shape[0]
        if numel(p._shape):
            if not bool(ops.logical_and(ops.isfinite(p), p >= 0).all()):
                raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
            if bool((ops.sum(p, -1) <= 0).any()):
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        elif categories == 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement and num_samples > 1:
            r = random_tensor("multinomial", (rows, num_samples), int64, p.device, generator,
                              (p.reshape(-1).tolist(), categories, p._dtype.name))
        else:
            r = _gumbel_top(p, num_samples, generator)
        r = r.reshape(input._shape[:-1] + (num_samples,))
    return r if out is None else write_out(out, r, "multinomial")


def _gumbel_top(p, num_samples, generator):
    """PyTorch's draw without replacement (and of one sample): the ``num_samples`` largest
    ``p / q`` with ``q`` exponential(1) noise (the Gumbel-top-k trick after ``exp``)."""
    q = _stream_like(p, "exponential", generator, (1.0,))
    keys = p / q
    if num_samples == 1:
        return ops.argmax(keys, -1, keepdim=True)
    return ops.topk(keys, num_samples, -1).indices


# ---- bernoulli -----------------------------------------------------------------------------------

class BernoulliBackward0(Node):
    """d bernoulli(p) = 0: a draw does not move with its probability"""

    def backward(self, g):
        return (ops.zeros_like(g),)


def _check_probabilities(p: Tensor):
    if numel(p._shape) and not bool(ops.logical_and(p >= 0, p <= 1).all()):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


@declare(method=True)
def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """1 with probability ``input`` (each element a probability), else 0, in ``input``'s
    dtype; with ``p``, every element drawn with probability ``p`` instead."""
    check_tensor(input, "bernoulli", "input")
    _check_generator(generator, "bernoulli")
    with no_grad():
        like = input.detach().contiguous()   # PyTorch draws into a row-major result, whatever input's layout
        if p is None:
            if not input._dtype.is_floating_point:
                raise NotImplementedError(f'"bernoulli_tensor_cpu_self_" not implemented for '
                                          f'\'{type_name(input._dtype)}\'')
            probs = input.detach()
            _check_probabilities(probs)
            r = _bernoulli_tensor(like, probs, generator)
        else:
            p = _probability(p, "bernoulli_")
            r = _stream_like(like, "bernoulli", generator, (p,))
    if p is None and STATE.enabled and input._requires_grad:
        record(BernoulliBackward0(), (input,), r)
    return r if out is None else write_out(out, r, "bernoulli")


def _bernoulli_tensor(like: Tensor, probs: Tensor, generator) -> Tensor:
    """One draw per element of ``like`` with the probability at the same place in
    ``probs`` (broadcast to ``like``): a double uniform for float64 probabilities, a float
    one otherwise (PyTorch's ``bernoulli_tensor_cpu_p_``)."""
    values = probs.expand(like._shape).contiguous().tolist() if numel(like._shape) else []
    flat = _flatten_values(values, len(like._shape))
    if numel(like._shape) > 1 and not like.is_contiguous():   # draw k is for the k-th element in memory
        flat = [flat[i] for i in _memory_order(like)]
    return _stream_like(like, "bernoulli_tensor", generator, (flat, probs._dtype is float64))


def _flatten_values(values, ndim):
    for _ in range(ndim - 1):
        values = [v for row in values for v in row]
    return values if ndim else [values]


def _probability(p, fname):
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{fname}(): argument 'p' must be float, not {type(p).__name__}")
    if not 0 <= p <= 1:
        raise RuntimeError(f"{fname} expects p to be in [0, 1], but got p={_num(p)}")
    return float(p)


def _num(v):
    """A number as PyTorch's messages print it (2.0 -> 2)."""
    return int(v) if float(v).is_integer() else v


# ---- the in-place samplers ----------------------------------------------------------------------

class NormalBackward0(Node):
    """d normal_(a) = 0: the overwritten values do not matter"""

    def backward(self, g):
        return (ops.zeros_like(g),)


class UniformBackward0(NormalBackward0):
    """d uniform_(a) = 0"""


class ExponentialBackward0(NormalBackward0):
    """d exponential_(a) = 0"""


class GeometricBackward0(NormalBackward0):
    """d geometric_(a) = 0"""


class LogNormalBackward0(NormalBackward0):
    """d log_normal_(a) = 0"""


class CauchyBackward0(NormalBackward0):
    """d cauchy_(a) = 0"""


class RandomBackward0(NormalBackward0):
    """d random_(a, from, to) = 0"""


class RandomBackward1(NormalBackward0):
    """d random_(a, to) = 0"""


class RandomBackward2(NormalBackward0):
    """d random_(a) = 0"""


class BernoulliBackward1(NormalBackward0):
    """d bernoulli_(a, p tensor) = 0"""


class BernoulliBackward2(NormalBackward0):
    """d bernoulli_(a, p float) = 0"""


def _fill_with(self, fname, node_cls, draw):
    """Overwrite ``self`` with ``draw()`` (a tensor of its shape), recording ``node_cls``
    when ``self`` requires grad. Every check runs before anything is written."""
    check_tensor(self, fname, "self")
    check_writable(self, fname)
    tracked = STATE.enabled and self._requires_grad
    check_inplace_target(self, tracked, fname)
    with no_grad():
        r = cast(draw(), self._dtype)
    if tracked:
        record(node_cls(), (self,), r)
    return inplace(self, r, fname)


def _require_float(self, fname, kernel):
    if not self._dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(self._dtype)}\'')


def _number(value, fname, argname):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{fname}(): argument '{argname}' must be float, not {type(value).__name__}")
    return float(value)


@declare(public=False, method=True)
def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with draws from the normal distribution of ``mean`` and ``std``."""
    mean, std = _number(mean, "normal_", "mean"), _number(std, "normal_", "std")
    _check_generator(generator, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    _require_float(self, "normal_", "normal_kernel_cpu")
    return _fill_with(self, "normal_", NormalBackward0,
                      lambda: _stream_like(self, "normal", generator, (mean, std, self.is_contiguous())))


def _from_to(args, kwargs, fname, defaults):
    """PyTorch's ``from``/``to`` arguments (``from`` is a Python keyword, so they come in
    ``*args``/``**kwargs``): ``(from, to, which were given)``."""
    if len(args) > 2:
        raise TypeError(f"{fname}() takes at most 2 positional arguments ({len(args)} given)")
    names = ("from", "to")
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{fname}() got an unexpected keyword argument '{key}'")
        if key in values:
            raise TypeError(f"{fname}() got multiple values for argument '{key}'")
        values[key] = value
    given = tuple(n for n in names if n in values)
    return values.get("from", defaults[0]), values.get("to", defaults[1]), given


@declare(public=False, method=True)
def uniform_(self, *args, generator=None, **kwargs) -> Tensor:
    """Fill with draws uniform in ``[from, to)`` (default [0, 1))."""
    low, high, _ = _from_to(args, kwargs, "uniform_", (0.0, 1.0))
    low, high = _number(low, "uniform_", "from"), _number(high, "uniform_", "to")
    _check_generator(generator, "uniform_")
    _require_float(self, "uniform_", "check_uniform_bounds")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_num(low)} > "
                           f"to={_num(high)}")
    return _fill_with(self, "uniform_", UniformBackward0,
                      lambda: _stream_like(self, "uniform", generator, (low, high)))


@declare(public=False, method=True)
def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with draws from the exponential distribution of rate ``lambd``: ``-log(1 - u) / lambd``."""
    lambd = _number(lambd, "exponential_", "lambd")
    _check_generator(generator, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    if not self._dtype.is_floating_point:
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {type_name(self._dtype)}")
    return _fill_with(self, "exponential_", ExponentialBackward0,
                      lambda: _stream_like(self, "exponential", generator, (lambd,)))


@declare(public=False, method=True)
def geometric_(self, p, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...):
    ``ceil(log(1 - u) / log(1 - p))``, at least 1."""
    p = _number(p, "geometric_", "p")
    _check_generator(generator, "geometric_")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    if self._dtype is bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    return _fill_with(self, "geometric_", GeometricBackward0,
                      lambda: _stream_like(self, "geometric", generator, (p,)))


@declare(public=False, method=True)
def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with ``exp`` of normal draws of ``mean`` and ``std``."""
    mean, std = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
    _check_generator(generator, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    _require_float(self, "log_normal_", "log_normal_cpu")
    return _fill_with(self, "log_normal_", LogNormalBackward0,
                      lambda: _stream_like(self, "log_normal", generator, (mean, std)))


@declare(public=False, method=True)
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with draws from the Cauchy distribution: ``median + sigma tan(pi (u - 1/2))``."""
    median, sigma = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
    _check_generator(generator, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    if not self._dtype.is_floating_point:
        raise RuntimeError(f"Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_C_TYPE.get(self._dtype.name, self._dtype.name)}")
    return _fill_with(self, "cauchy_", CauchyBackward0,
                      lambda: _stream_like(self, "cauchy", generator, (median, sigma)))


#: the C type names PyTorch's cauchy_ message uses
_C_TYPE = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
           "uint8": "unsigned char", "bool": "bool"}

#: random_()'s range per dtype: [0, 2**mantissa] for floats (every integer there is exact),
#: [0, max] for integers; int64's top value is left out (the kernel's bound is exclusive)
_RANDOM_TOP = {"float16": 2 ** 11 + 1, "bfloat16": 2 ** 8 + 1,
               "float32": 2 ** 24 + 1, "float64": 2 ** 53 + 1, "bool": 2, "uint8": 256,
               "int8": 128, "int16": 2 ** 15, "int32": 2 ** 31, "int64": 2 ** 63 - 1}


@declare(public=False, method=True)
def random_(self, *args, generator=None, **kwargs) -> Tensor:
    """Fill with integers uniform in ``[from, to)``; ``random_(to)`` means ``[0, to)``, and
    ``random_()`` every integer the dtype holds exactly from 0 up."""
    low, high, given = _from_to(args, kwargs, "random_", (0, None))
    _check_generator(generator, "random_")
    top = _RANDOM_TOP[self._dtype.name]
    up_to_top = False
    if not given:
        node_cls, high = RandomBackward2, top
    elif given == ("from",) and len(args) == 1:          # random_(to): its one positional argument is 'to'
        node_cls, low, high = RandomBackward1, 0, low
    elif given == ("to",):
        node_cls = RandomBackward1
    else:                                               # random_(from, to); to=None: up to the dtype's top
        node_cls = RandomBackward0
        up_to_top, high = high is None, top if high is None else high
    low, high = check_int(low, "random_", "from"), check_int(high, "random_", "to")
    if not self._dtype.is_floating_point:       # the range must fit the integer dtype
        least = -_RANDOM_TOP[self._dtype.name] - (self._dtype is int64) if self._dtype.name.startswith("int") else 0
        beyond = _RANDOM_TOP[self._dtype.name] + (self._dtype is int64)
        if not least <= low < beyond and (low < high or up_to_top):
            raise RuntimeError(f"from is out of bounds for {_C_TYPE[self._dtype.name]}")
        if low < high and not least <= high - 1 < beyond:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_TYPE[self._dtype.name]}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if not given:
        kind, stream_args = "random_int", ()
    elif up_to_top and self._dtype is int64 and low == -2 ** 63:
        kind, stream_args = "full64", ()
    elif up_to_top:      # up to the dtype's largest value, inclusive
        kind, stream_args = "integers", (high - (self._dtype is not int64) - low + 1, low)
    else:
        kind, stream_args = "integers", (high - low, low)
    return _fill_with(self, "random_", node_cls, lambda: _stream_like(self, kind, generator, stream_args))


@declare(public=False, method=True)
def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcasting to ``self``), else 0."""
    _check_generator(generator, "bernoulli_")
    if isinstance(p, Tensor):
        if not p._dtype.is_floating_point:
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for \'{type_name(p._dtype)}\'')
        probs = p.detach()
        _check_probabilities(probs)
        return _fill_with(self, "bernoulli_", BernoulliBackward1,
                          lambda: _bernoulli_tensor(self, probs, generator))
    p = _probability(p, "bernoulli_")
    return _fill_with(self, "bernoulli_", BernoulliBackward2, lambda: _stream_like(self, "bernoulli", generator, (p,)))

