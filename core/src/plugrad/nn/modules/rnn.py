"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

Every layer is a composition of existing ops (``linear``, ``sigmoid``, ``tanh``,
``cat``/``stack``, slicing), so it runs on every device and autograd gives its
gradients. Per layer and direction, the input projection of all time steps is one
matrix product; only the hidden-state part runs step by step. Padded and packed
input share one loop: a padded batch is a packed one whose every step holds the whole
batch. The parameters have PyTorch's names, shapes, order and initialisation, so a
state dict moves between the two libraries unchanged.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ...creation import empty, zeros
from ...ops.join import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ---- one time step of each kind of cell -------------------------------------------------------
# ``xw`` is the input's projection ``x @ w_ih^T + b_ih`` (computed for all steps at once),
# ``h``/``c`` the states of the rows still running; each returns the new ``(h, c)``.

def _tanh_step(xw, h, c, w_hh, b_hh, w_hr):
    return (xw + F.linear(h, w_hh, b_hh)).tanh(), None


def _relu_step(xw, h, c, w_hh, b_hh, w_hr):
    return (xw + F.linear(h, w_hh, b_hh)).relu(), None


def _lstm_step(xw, h, c, w_hh, b_hh, w_hr):
    i, f, g, o = (xw + F.linear(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_step(xw, h, c, w_hh, b_hh, w_hr):
    xr, xz, xn = xw.chunk(3, 1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (h - n) * z + n, None


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _scan(step, xw, sizes, h, c, weights, reverse):
    """Run one direction of one layer over packed rows.

    ``xw`` holds the projected input, time step after time step, ``sizes[t]`` rows at
    step ``t`` (decreasing); ``h``/``c`` are the initial states of the whole batch.
    Returns the per-step outputs and the final states, each row's state at its own
    last step."""
    xs = xw.split(sizes)  # one node: backward joins the steps' gradients once
    outs = [None] * len(sizes)
    if not reverse:
        # rows that stop running keep their state; the batch shrinks from the end
        done_h, done_c = [], []
        for t, n in enumerate(sizes):
            if n < h.shape[0]:
                done_h.append(h[n:])
                h = h[:n]
                if c is not None:
                    done_c.append(c[n:])
                    c = c[:n]
            h, c = step(xs[t], h, c, *weights)
            outs[t] = h
        if done_h:
            h = cat([h, *reversed(done_h)])
            if c is not None:
                c = cat([c, *reversed(done_c)])
        return outs, h, c
    # backwards in time the batch grows: a row joins with its initial state
    h0, c0 = h, c
    last = sizes[-1]
    if last < h.shape[0]:
        h = h[:last]
        c = None if c is None else c[:last]
    for t in range(len(sizes) - 1, -1, -1):
        n = sizes[t]
        if n > h.shape[0]:
            h = cat([h, h0[h.shape[0]:n]])
            if c is not None:
                c = cat([c, c0[c.shape[0]:n]])
        h, c = step(xs[t], h, c, *weights)
        outs[t] = h
    return outs, h, c


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the stacked, optionally bidirectional
    parameters (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}``, ``weight_hr_l{k}`` with ``proj_size``, ``..._reverse`` for the
    backward direction), all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
    and the loop over layers, directions and time steps."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one cuDNN buffer here; plugrad reads each
        parameter where it is, so there is nothing to do (kept so PyTorch code that calls
        it runs)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    # ---- argument checks, as PyTorch makes them ------------------------------------------------
    def check_input(self, input, batch_sizes) -> None:
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                             f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def _mini_batch(self, input, batch_sizes) -> int:
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes) -> tuple:
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, self._mini_batch(input, batch_sizes),
                self.proj_size if self.proj_size > 0 else self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def _zeros(self, input, batch, size):
        num_directions = 2 if self.bidirectional else 1
        return zeros(self.num_layers * num_directions, batch, size, dtype=input.dtype, device=input.device)

    # ---- the computation -----------------------------------------------------------------------
    def _run(self, input, batch_sizes, h0, c0=None):
        """``(output, h_n, c_n)`` for a padded input (``batch_sizes`` None; the output
        is padded too) or the data of a packed one (the output is packed data)."""
        if batch_sizes is None:
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            sizes = [batch] * steps
            x = input.reshape(steps * batch, input.shape[2])
        else:
            sizes = batch_sizes.tolist()
            x = input
        step = _STEPS[self.mode]
        num_directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(k)
                xw = F.linear(x, w_ih, b_ih)
                out, h, c = _scan(step, xw, sizes, h0[k], None if c0 is None else c0[k], (w_hh, b_hh, w_hr),
                                  reverse=direction == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            if layer == self.num_layers - 1:
                break
            x = cat(outs[0]) if num_directions == 1 else cat([cat(outs[0]), cat(outs[1])], 1)
            if self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
        join = stack if batch_sizes is None else cat
        output = join(outs[0]) if num_directions == 1 else cat([join(outs[0]), join(outs[1])], -1)
        if batch_sizes is None and self.batch_first:
            # PyTorch's RNN and GRU transpose in place (TransposeBackward1), its LSTM not
            output = output.transpose(0, 1) if self.mode == "LSTM" else output.transpose_(0, 1)
        return output, stack(hs), (stack(cs) if c0 is not None else None)

    def _layer_weights(self, k: int):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of the k-th layer-direction (None where absent)."""
        named = dict(zip((n.split("_l")[0] for n in self._all_weights[k]), self.all_weights[k]))
        return (named["weight_ih"], named["weight_hh"], named.get("bias_ih"), named.get("bias_hh"),
                named.get("weight_hr"))

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _single_state_forward(self, input, hx, name: str, dims_message: str):
        """``forward`` of the layers with one state tensor (``RNN`` and ``GRU``)."""
        if isinstance(input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zeros(input, int(batch_sizes[0]), self.hidden_size)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(input, hx, batch_sizes)
            output, hidden, _ = self._run(input, batch_sizes, hx)
            return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden(hidden, unsorted_indices))
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{dims_message} instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
            if hx is not None:
                if hx.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        elif hx is not None and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if hx is None:
            hx = self._zeros(input, self._mini_batch(input, None), self.hidden_size)
        self.check_forward_args(input, hx, None)
        output, hidden, _ = self._run(input, None, hx)
        if not is_batched:
            output, hidden = output.squeeze(batch_dim), hidden.squeeze(1)
        return output, hidden


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``
    with ``nonlinearity="relu"``), stacked ``num_layers`` deep.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; ``forward(input, hx=None)``
    returns ``(output, h_n)``."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._single_state_forward(input, hx, "RNN", " tensor")


class GRU(RNNBase):
    """Gated recurrent unit, per step:
    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Same arguments as ``RNN`` without ``nonlinearity``; ``forward(input, hx=None)``
    returns ``(output, h_n)``."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._single_state_forward(input, hx, "GRU", "")


class LSTM(RNNBase):
    """Long short-term memory, per step: gates ``i, f, g, o`` from
    ``x W_ih^T + b_ih + h W_hh^T + b_hh`` (sigmoid, sigmoid, tanh, sigmoid),
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``, then ``h' W_hr^T`` when ``proj_size > 0``.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0)``; ``forward(input, hx=None)`` with
    ``hx = (h_0, c_0)`` returns ``(output, (h_n, c_n))``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes) -> tuple:
        num_directions = 2 if self.bidirectional else 1
        return self.num_layers * num_directions, self._mini_batch(input, batch_sizes), self.hidden_size

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def _zero_states(self, input, batch):
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return self._zeros(input, batch, real_hidden_size), self._zeros(input, batch, self.hidden_size)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zero_states(input, int(batch_sizes[0]))
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(input, hx, batch_sizes)
            output, h, c = self._run(input, batch_sizes, *hx)
            return (PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                    self.permute_hidden((h, c), unsorted_indices))
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is None:
            hx = self._zero_states(input, self._mini_batch(input, None))
        else:
            if is_batched:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            else:
                if hx[0].dim() != 2 or hx[1].dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx, None)
        output, h, c = self._run(input, None, *hx)
        if not is_batched:
            output, h, c = output.squeeze(batch_dim), h.squeeze(1), c.squeeze(1)
        return output, (h, c)


# ---- cells: one time step ----------------------------------------------------------------------

class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (chunks * hidden, input), ``weight_hh``
    (chunks * hidden, hidden) and the biases, from U(-1/sqrt(hidden), 1/sqrt(hidden)),
    and PyTorch's checks of the input and state sizes."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.bias is not True:
            s += ", bias={bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _check_dims(self, name, input, states, what) -> None:
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for label, s in zip(what, states or ()):
            if s.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {s.dim()}D instead")

    def _batched(self, input, states):
        """Add the batch dim to unbatched arguments and check the sizes;
        ``(is_batched, input, states)`` (missing states are zeros)."""
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if states is None:
            states = [zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)]
        elif not is_batched:
            states = [s.unsqueeze(0) for s in states]
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for k, s in enumerate(states):
            if input.size(0) != s.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} batch size {s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.size(1)}, expected "
                                   f"{self.hidden_size}")
        return is_batched, input, states

    def _project(self, input):
        return F.linear(input, self.weight_ih, self.bias_ih)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
    (``relu`` with ``nonlinearity="relu"``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        states = None if hx is None else [hx]
        self._check_dims("RNNCell", input, states, ["hidden"])
        is_batched, input, (h,) = self._batched(input, states)
        if self.nonlinearity == "tanh":
            step = _tanh_step
        elif self.nonlinearity == "relu":
            step = _relu_step
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h, _ = step(self._project(input), h, None, self.weight_hh, self.bias_hh, None)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM: ``(h', c')`` from ``input`` and ``hx = (h, c)`` (zeros
    when None)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = None if hx is None else list(hx)
        self._check_dims("LSTMCell", input, states, ["hx[0]", "hx[1]"])
        if states is None:
            is_batched, input, (h,) = self._batched(input, None)
            c = h
        else:
            is_batched, input, (h, c) = self._batched(input, states)
        h, c = _lstm_step(self._project(input), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of a GRU (the gates of ``GRU``): ``h'`` from ``input`` and ``hx``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = None if hx is None else [hx]
        self._check_dims("GRUCell", input, states, ["hidden"])
        is_batched, input, (h,) = self._batched(input, states)
        h, _ = _gru_step(self._project(input), h, None, self.weight_hh, self.bias_hh, None)
        return h if is_batched else h.squeeze(0)
