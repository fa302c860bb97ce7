"""``plugrad.nn.utils.rnn`` (``torch.nn.utils.rnn``): batches of sequences of different
lengths, padded into one tensor or packed into a ``PackedSequence``.

A packed sequence stores the time steps one after the other, each holding only the
sequences still running at that step (longest first), so a recurrent layer does no
work on padding. Packing is one ``index_select`` over the rows, padding is copying
into slices of a filled tensor (as PyTorch does it), so both run on every device.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ...autograd.grad_mode import STATE, no_grad
from ...autograd.graph import Node, record
from ...creation import arange, as_tensor, empty_like, full, tensor
from ...dtypes import float16, float32, float64, int8, int16, int32, int64, uint8
from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """The packed form of a batch of sequences (built by ``pack_padded_sequence`` and
    ``pack_sequence``, taken and returned by ``RNN``, ``LSTM`` and ``GRU``).

    ``data`` holds the time steps one after the other, ``batch_sizes`` (int64, always on
    the CPU) how many sequences each step holds; ``sorted_indices`` is the order, longest
    first, the sequences were packed in (None when they came sorted) and
    ``unsorted_indices`` its inverse, which restores the caller's order."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                    "manually. They should be instantiated by functions like pack_sequence and "
                    "pack_padded_sequences in nn.utils.rnn. "
                    "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        else:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)``; the index tensors follow ``data`` to its device, and
        ``batch_sizes`` stays on the CPU. Returns self when ``data`` is unchanged."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return t.to(data.device)
        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, device=None, non_blocking: bool = False):
        return self.to("cuda" if device is None else device, non_blocking=non_blocking)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=float64)

    def float(self):
        return self.to(dtype=float32)

    def half(self):
        return self.to(dtype=float16)

    def long(self):
        return self.to(dtype=int64)

    def int(self):
        return self.to(dtype=int32)

    def short(self):
        return self.to(dtype=int16)

    def char(self):
        return self.to(dtype=int8)

    def byte(self):
        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None for None)."""
    if permutation is None:
        return None
    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return output


def _as_lengths(lengths):
    """``lengths`` as a list of ints, checked as PyTorch checks it (a 1-D CPU int64 tensor)."""
    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=int64, device="cpu")
    else:
        lengths = lengths.to(dtype=int64)
    if lengths.dim() != 1 or lengths.device.type != "cpu":
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                           f"{lengths.device.type} Long tensor")
    return lengths.tolist()


def _batch_sizes(lengths) -> list:
    """How many of the sequences (lengths in decreasing order) run at each time step."""
    sizes, b = [], len(lengths)
    for t in range(lengths[0] if lengths else 0):
        while b and lengths[b - 1] <= t:
            b -= 1
        sizes.append(b)
    return sizes


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``input`` (``(T, B, *)``, or ``(B, T, *)`` with
    ``batch_first``) of sequences of the given ``lengths``.

    With ``enforce_sorted`` the lengths must decrease; otherwise the sequences are
    sorted here and the packed sequence remembers the order."""
    lengths = _as_lengths(lengths)
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    sorted_indices = None
    if not enforce_sorted:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        lengths = [lengths[i] for i in order]
        sorted_indices = tensor(order, dtype=int64, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    batch, steps = input.size(batch_dim), input.size(time_dim)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
            "you do not need ONNX exportability.")
    if lengths[0] > steps:
        raise RuntimeError(f"Expected every length to be at most the padded length {steps}, but got a length of "
                           f"{lengths[0]}")
    sizes = _batch_sizes(lengths)
    if batch_first:
        rows = [b * steps + t for t, n in enumerate(sizes) for b in range(n)]
    else:
        rows = [t * batch + b for t, n in enumerate(sizes) for b in range(n)]
    flat = input.reshape(batch * steps, *input.shape[2:])
    with no_grad():
        data = flat.index_select(0, tensor(rows, dtype=int64, device=input.device))
    if STATE.enabled and input.requires_grad:
        # d data / d input puts each row back and zeros the padding
        unpacked = [len(rows)] * (batch * steps)
        for i, r in enumerate(rows):
            unpacked[r] = i
        node = PackPaddedSequenceBackward0()
        node.rows = tensor(unpacked, dtype=int64, device=input.device)
        node.shape = tuple(input.shape)
        record(node, (input,), data)
    return PackedSequence(data, tensor(sizes, dtype=int64), sorted_indices, None)


class PackPaddedSequenceBackward0(Node):
    """d pack_padded_sequence: the gradient of the packed rows, padded back with zeros."""
    __slots__ = ("rows", "shape")

    def backward(self, g):
        zero = g.new_zeros((1, *g.shape[1:]))
        return (cat([g, zero]).index_select(0, self.rows).view(*self.shape),)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length=None):
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)``, the batch padded
    with ``padding_value`` to the longest length (or ``total_length``) and the lengths
    (int64, CPU), both in the order the sequences were packed from."""
    sizes = sequence.batch_sizes.tolist()
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data = sequence.data
    batch = sizes[0] if sizes else 0
    padded = full((steps, batch, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    offset = 0
    for t, n in enumerate(sizes):
        padded[t, :n] = data[offset:offset + n]
        offset += n
    lengths = tensor([sum(1 for n in sizes if n > b) for b in range(batch)], dtype=int64)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return padded.index_select(batch_dim, sequence.unsorted_indices), lengths[sequence.unsorted_indices.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack sequences of different lengths (each ``(L_i, *)``) into one tensor
    ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``), filling the rest with
    ``padding_value`` after each sequence (``padding_side="right"``) or before it."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    for s in sequences:
        if s.dim() == 0:
            raise RuntimeError("pad_sequence: Expected every sequence to have at least one dimension, but got a "
                               "0-D tensor")
    first = sequences[0]
    trailing = tuple(first.shape[1:])
    steps = max(s.size(0) for s in sequences)
    shape = (len(sequences), steps) if batch_first else (steps, len(sequences))
    out = full((*shape, *trailing), padding_value, dtype=first.dtype, device=first.device)
    for i, s in enumerate(sequences):
        length = s.size(0)
        span = slice(0, length) if padding_side == "right" else slice(steps - length, steps)
        if batch_first:
            out[i, span] = s
        else:
            out[span, i] = s
    return out


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The sequences of a padded batch, each cut to its length (the inverse of
    ``pad_sequence``). As in PyTorch, a time-major ``padded_sequences`` is transposed
    in place."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    max_length = padded_sequences.shape[1]
    idx = arange(max_length, device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (each ``(L_i, *)``) of different lengths."""
    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a ``PackedSequence`` holds, in their original order."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
