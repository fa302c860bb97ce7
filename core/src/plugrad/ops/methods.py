"""Where the op layer extends ``Tensor`` (defined a layer below, so it cannot import
the ops): every declared op's method and in-place method (``x.sum()``, ``x.add_(y)``:
see ``plugrad.ops.declare``), then the methods that are not ops, bound here: Python's
operators (``x + y``, ``x[i]``), dtype casts, ``new_*`` constructors, device moves,
and the few methods whose signature differs from their op's (``x.where(c, y)``,
``x.max(dim)``). No op is defined here.
"""

from __future__ import annotations

from ..dtypes import bfloat16, bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .. import creation, typeinfo
from ..tensor import Tensor
from . import conversion as cv
from . import elementwise as ew
from . import indexing as ix
from . import linalg
from . import reduction as rd
from . import views as vw
from .declare import bind_methods
from .dispatch import as_operand
from .forms import inplace_method


def _rtruediv(self, other):
    return ew.mul(ew.reciprocal(self), as_operand(other, "div"))


def _rsub(self, other):
    return ew.sub(as_operand(other, "sub"), self)


def _rpow(self, other):
    return ew.pow(as_operand(other, "pow", "self"), self)


def _rfloordiv(self, other):
    return ew.floor_divide(other, self)


def _rmod(self, other):
    return ew.remainder(other, self)


def _rmatmul(self, other):
    return linalg.matmul(other, self)


_OPERAND_CLASSES = frozenset({Tensor, int, float, bool})


def _binop(fn):
    """A Python operator: NotImplemented for operands that are neither tensors nor
    numbers, so that Python can try the other operand's reflected method."""
    def op(self, other):
        if other.__class__ in _OPERAND_CLASSES or isinstance(other, Tensor) or hasattr(other, "dtype"):
            return fn(self, other)
        return NotImplemented
    op.__name__ = fn.__name__
    return op


def _type(self, dtype=None, non_blocking=False, **_):
    if dtype is None:
        return self._type_label()
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        for d, label in _LEGACY_TYPES.items():
            if label == name:
                return cv.to(self, d)
        raise TypeError(f"invalid type: {dtype!r}")
    return cv.to(self, dtype)


_LEGACY_TYPES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
                 int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor",
                 bool_: "BoolTensor", bfloat16: "BFloat16Tensor"}


def _caster(dtype):
    def cast(self, memory_format=None):
        return cv.to(self, dtype)
    cast.__doc__ = f"``self.to({dtype!r})``"
    return cast


def _new(factory):
    def new(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        return factory(*args, dtype=dtype or self._dtype, device=device if device is not None else self.device,
                       requires_grad=requires_grad, **kwargs)
    return new


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return creation.tensor(data, dtype=dtype or self._dtype, device=device if device is not None else self.device,
                  requires_grad=requires_grad)


def _setitem(self, key, value):
    ix.setitem(self, key, value)


def _numpy_t(self):
    """``x.T``: all dims reversed (a view, recorded as a permute like PyTorch's)."""
    return vw.permute(self, tuple(range(self.dim() - 1, -1, -1)))


def _matrix_t(self):
    """``x.mT``: the last two dims swapped (batches of matrices)."""
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.dim()}-D "
                           f"tensor.")
    return vw.transpose(self, -2, -1)


def _max(self, dim=rd.ALL_DIMS, keepdim=False):
    return rd.max(self, dim, keepdim)


def _min(self, dim=rd.ALL_DIMS, keepdim=False):
    return rd.min(self, dim, keepdim)


def _bind():
    T = Tensor
    bind_methods(T, inplace_method)
    methods = {
        # signatures that differ from the op's
        "max": _max, "min": _min, "where": lambda self, condition, other: ew.where(condition, self, other),
        # indexing
        "__getitem__": ix.getitem, "__setitem__": _setitem,
        # dtypes, devices, constructors
        "type": _type,
        "cpu": lambda self, *a, **k: cv.to(self, "cpu"),
        "cuda": lambda self, device=None, *a, **k: cv.to(self, "cuda" if device is None else
                                                         f"cuda:{device}" if isinstance(device, int) else device),
        "float": _caster(float32), "double": _caster(float64), "half": _caster(float16),
        "long": _caster(int64), "int": _caster(int32), "short": _caster(int16), "char": _caster(int8),
        "byte": _caster(uint8), "bool": _caster(bool_), "bfloat16": _caster(bfloat16),
        "new_tensor": _new_tensor, "new_zeros": _new(creation.zeros), "new_ones": _new(creation.ones),
        "new_empty": _new(creation.empty), "new_full": _new(creation.full),
        # operators: the elementwise ops' operator forms (NotImplemented for a foreign operand)
        "__add__": ew.add.operator, "__radd__": ew.add.operator, "__sub__": ew.sub.operator,
        "__rsub__": _binop(_rsub), "__mul__": ew.mul.operator, "__rmul__": ew.mul.operator,
        "__truediv__": ew.div.operator, "__rtruediv__": _binop(_rtruediv), "__floordiv__": ew.floor_divide.operator,
        "__rfloordiv__": _binop(_rfloordiv), "__mod__": ew.remainder.operator, "__rmod__": _binop(_rmod),
        "__pow__": _binop(ew.pow), "__rpow__": _binop(_rpow), "__matmul__": linalg.matmul,
        "__rmatmul__": _rmatmul, "__neg__": ew.neg, "__pos__": lambda self: self, "__abs__": ew.abs,
        "__invert__": ew.bitwise_not, "__eq__": ew.eq.operator, "__ne__": ew.ne.operator, "__lt__": ew.lt.operator,
        "__le__": ew.le.operator, "__gt__": ew.gt.operator, "__ge__": ew.ge.operator,
        "__and__": ew.bitwise_and.operator, "__or__": ew.bitwise_or.operator, "__xor__": ew.bitwise_xor.operator,
        "__rand__": ew.bitwise_and.operator, "__ror__": ew.bitwise_or.operator,
        "__rxor__": ew.bitwise_xor.operator,
    }
    for name, fn in methods.items():
        setattr(T, name, fn)
    for op, dunder in (("add_", "__iadd__"), ("sub_", "__isub__"), ("mul_", "__imul__"), ("div_", "__itruediv__"),
                       ("floor_divide_", "__ifloordiv__"), ("remainder_", "__imod__"), ("pow_", "__ipow__"),
                       ("bitwise_and_", "__iand__"), ("bitwise_or_", "__ior__"), ("bitwise_xor_", "__ixor__")):
        setattr(T, dunder, getattr(T, op))
    T.T = property(_numpy_t)
    T.mT = property(_matrix_t)
    T.__hash__ = lambda self: id(self)


_bind()


def _rlshift(self, other):
    return ew.bitwise_left_shift(other, self)


def _rrshift(self, other):
    return ew.bitwise_right_shift(other, self)


# the shift operators: x << y, y << x, x <<= y (and >>)
Tensor.__lshift__, Tensor.__rshift__ = _binop(ew.bitwise_left_shift), _binop(ew.bitwise_right_shift)
Tensor.__rlshift__, Tensor.__rrshift__ = _binop(_rlshift), _binop(_rrshift)
Tensor.__ilshift__, Tensor.__irshift__ = Tensor.bitwise_left_shift_, Tensor.bitwise_right_shift_


# ---- small Tensor queries and legacy methods --------------------------------------------------------

def _is_nonzero(self):
    """The truth of a one-element tensor (PyTorch refuses any other size)."""
    n = self.numel()
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0 else
                           "Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def _dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory: sorted by stride, largest first
    (ties keep dim order)."""
    return tuple(sorted(range(self.dim()), key=lambda d: -self._strides[d]))


def _legacy_tensor_new(self, *args, device=None, dtype=None):
    """``x.new(...)``: the legacy constructor in ``x``'s dtype and device."""
    return creation.legacy_new(Tensor, dtype or self._dtype, *args, device=device or self.device)


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, **_):
    """An uninitialized tensor with the given shape and strides, in ``self``'s dtype and
    device unless given (over a storage just long enough for them)."""
    size, stride = tuple(size), tuple(stride)
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    r = vw.as_strided(creation.empty(extent, dtype=dtype or self._dtype, device=device or self.device), size, stride)
    return r.requires_grad_() if requires_grad else r


def _resize_(self, *sizes, memory_format=None):
    """Give ``self`` a new contiguous shape: the first elements (in row-major order) keep
    their values, new ones are uninitialized."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    if shape == tuple(self._shape):
        return self
    if self._base is not None:
        raise RuntimeError("resize_: cannot resize a view of another tensor; call it on the tensor it views")
    fresh = creation.empty(shape, dtype=self._dtype, device=self.device)
    keep = min(self.numel(), fresh.numel())
    if keep:
        fresh.view(-1)[:keep] = self.reshape(-1)[:keep]
    self.data = fresh
    return self


Tensor.is_same_size = lambda self, other: self._shape == other._shape
Tensor.is_signed = lambda self: self._dtype.kind in ("i", "f")
Tensor.is_nonzero = _is_nonzero
Tensor.get_device = lambda self: -1 if self.device.type == "cpu" else (self.device.index or 0)
Tensor.layout = property(lambda self: typeinfo.strided)
Tensor.dim_order = _dim_order
Tensor.new = _legacy_tensor_new
Tensor.new_empty_strided = _new_empty_strided
Tensor.resize_ = _resize_
Tensor.resize_as_ = lambda self, other, memory_format=None: _resize_(self, other._shape)


def _sum_to_size(self, *size):
    """``self`` summed down to ``size`` (a shape ``self`` expands from): leading dims
    summed away, dims of size 1 in ``size`` summed with keepdim."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    lead = self.dim() - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, self._shape[lead:])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self._shape)}}}.")
    if shape == tuple(self._shape):
        return self
    dims = list(range(lead)) + [lead + i for i, n in enumerate(shape) if n == 1 and self._shape[lead + i] != 1]
    r = self.sum(dims, keepdim=True) if dims else self
    return r.view(shape) if lead else r


def _adjoint(self):
    """``x.H``: the conjugate transpose of a matrix (the transpose: plugrad is real)."""
    if self.dim() != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
    return self.transpose(0, 1)


Tensor.sum_to_size = _sum_to_size
Tensor.itemsize = property(lambda self: self._dtype.itemsize)
Tensor.nbytes = property(lambda self: self._dtype.itemsize * self.numel())
Tensor.is_meta = property(lambda self: False)
Tensor.const_data_ptr = lambda self: self.data_ptr()
Tensor.H = property(_adjoint)
Tensor.mH = property(lambda self: self.mT)
