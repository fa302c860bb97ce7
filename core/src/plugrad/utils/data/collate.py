"""Turning a list of samples into a batch: ``default_collate`` (stack tensors, make
tensors of numbers, recurse into tuples, lists and dicts) and ``default_convert``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...creation import as_tensor, tensor
from ...dtypes import float64
from ...ops.join import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _is_numpy(obj) -> bool:
    return type(obj).__module__ == "numpy" and hasattr(obj, "dtype")


def _is_numpy_array(obj) -> bool:
    return _is_numpy(obj) and type(obj).__name__ in ("ndarray", "memmap")


def _rebuild(template, values):
    """A container of ``template``'s type holding ``values``, or a plain one when that
    type cannot be rebuilt that way."""
    try:
        return type(template)(values)
    except TypeError:
        return dict(values) if isinstance(template, Mapping) else list(values)


def default_collate(batch):
    """Stack a list of samples into a batch, keeping the samples' structure:
    tensors and NumPy arrays are stacked on a new dim 0, Python ints become an int64
    tensor, floats a float64 tensor, strings stay a list, and tuples, lists and dicts
    are collated field by field."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if _is_numpy_array(elem):
        if elem.dtype.kind in "USOa":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found numpy arrays of dtype {elem.dtype}")
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if _is_numpy(elem):  # a NumPy scalar
        return tensor(list(batch))
    if isinstance(elem, float):
        return tensor(list(batch), dtype=float64)
    if isinstance(elem, int):
        return tensor(list(batch))
    if isinstance(elem, Mapping):
        return _rebuild(elem, [(key, default_collate([d[key] for d in batch])) for key in elem])
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild(elem, columns)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(elem)}")


def default_convert(data):
    """Without batching: NumPy arrays become tensors, recursively; the rest is unchanged."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):  # arrays and scalars; strings and objects stay as they are
        return data if data.dtype.kind in "USOa" else as_tensor(data)
    if isinstance(data, Mapping):
        return _rebuild(data, [(k, default_convert(v)) for k, v in data.items()])
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
