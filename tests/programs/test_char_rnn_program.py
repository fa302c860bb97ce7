"""A character-level language model, trained as a PyTorch user trains one, runs the
same in plugrad.

The program (``train`` below) is plain PyTorch code that takes the library as an
argument: lines of text of different lengths are encoded, padded, embedded, packed
(unsorted) and read by a two-layer ``RNN``/``LSTM``/``GRU``; a ``Linear`` head
predicts the next character, ``cross_entropy`` is the loss, ``Adam`` takes the steps
after ``clip_grad_norm_``. After training, the model writes text greedily one
character at a time, carrying its recurrent state. Both libraries start from the same
weights (PyTorch's state dict, copied), so the losses of every step agree to 1e-4 and
the generated text is the same, on every device.
"""

from __future__ import annotations

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

LINES = ["hello world", "plugrad runs pytorch programs", "recurrent nets read text", "one char at a time",
         "gradients flow back through time", "abc"]
CHARS = sorted(set("".join(LINES)))
STEPS = 12


def build(lib, kind):
    """The model, written against ``lib`` (``torch`` or ``plugrad``)."""

    class CharModel(lib.nn.Module):
        def __init__(self, vocab, embed=8, hidden=16):
            super().__init__()
            self.embed = lib.nn.Embedding(vocab, embed)
            self.rnn = getattr(lib.nn, kind)(embed, hidden, num_layers=2, batch_first=True)
            self.head = lib.nn.Linear(hidden, vocab)

        def forward(self, x, state=None):
            out, state = self.rnn(self.embed(x), state)
            return self.head(out), state

    return CharModel(len(CHARS))


def train(lib, model, device):
    """Train ``model`` for a few steps; (the loss of each step, greedily generated text)."""
    rnn_utils = lib.nn.utils.rnn
    model.to(device)
    optimizer = lib.optim.Adam(model.parameters(), lr=0.1)

    def encode(text):
        return lib.tensor([CHARS.index(c) for c in text], dtype=lib.int64, device=device)

    inputs = [encode(line[:-1]) for line in LINES]
    targets = rnn_utils.pack_sequence([encode(line[1:]) for line in LINES], enforce_sorted=False)
    lengths = [len(line) - 1 for line in LINES]
    losses = []
    model.train()
    for _ in range(STEPS):
        optimizer.zero_grad()
        padded = rnn_utils.pad_sequence(inputs, batch_first=True)
        packed = rnn_utils.pack_padded_sequence(model.embed(padded), lengths, batch_first=True,
                                                enforce_sorted=False)
        out, _ = model.rnn(packed)
        logits = model.head(out.data)
        loss = lib.nn.functional.cross_entropy(logits, targets.data)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    text, state = "r", None
    with lib.no_grad():
        for _ in range(12):
            logits, state = model(encode(text[-1]).view(1, 1), state)
            text += CHARS[int(logits[0, -1].argmax())]
    return losses, text


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_char_model_trains_as_in_pytorch(device, kind):
    if device == "pylist":
        pytest.skip("the example device computes in pure Python: 12 training steps take half a minute; "
                    "tests/test_rnn.py runs the layers on it")
    torch.manual_seed(0)
    reference = build(torch, kind)
    state = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    model = build(plugrad, kind)
    model.load_state_dict({k: plugrad.tensor(v) for k, v in state.items()})
    expected_losses, expected_text = train(torch, reference, "cpu")
    losses, text = train(plugrad, model, device)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4, atol=1e-4)
    assert losses[-1] < losses[0]
    assert text == expected_text
