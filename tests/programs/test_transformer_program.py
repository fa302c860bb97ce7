"""An encoder-decoder Transformer, trained as a PyTorch user trains one, runs the same in
plugrad.

The program (``build`` and ``train`` below) is plain PyTorch code that takes the
library as an argument. The task: reverse a sequence of tokens. Sequences of different
lengths are padded; ``Embedding`` (with ``padding_idx``) plus a learned position table
feed an ``nn.Transformer`` (batch_first) with the causal mask of
``Transformer.generate_square_subsequent_mask`` and key padding masks for source,
target and memory; a ``Linear`` head predicts the next target token, ``CrossEntropyLoss``
(ignoring padding) is the loss and ``Adam`` takes the steps. After training the model
decodes greedily in eval mode under ``no_grad``. Both libraries start from the same
weights (PyTorch's state dict, copied; dropout 0), so the losses of every step agree to
1e-4 and the decoded tokens are the same, on every device.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.torch_oracle, pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors"),
              # boolean padding masks with the float causal mask: PyTorch's tutorials do it, and both warn
              pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")]

PAD, BOS, EOS, VOCAB = 0, 1, 2, 10
MAX_LEN = 7
STEPS = 12


def data(seed=0, batch=6):
    """(src, tgt): random token sequences of 2..5 tokens, and each reversed between BOS
    and EOS; both padded with PAD to a common length."""
    r = np.random.default_rng(seed)
    lengths = r.integers(2, 6, batch)
    lengths[0] = 5
    src = np.full((batch, 5), PAD, dtype=np.int64)
    tgt = np.full((batch, 7), PAD, dtype=np.int64)
    for i, n in enumerate(lengths):
        tokens = r.integers(3, VOCAB, n)
        src[i, :n] = tokens
        tgt[i, :n + 2] = [BOS, *tokens[::-1], EOS]
    return src, tgt


def build(lib):
    """The model, written against ``lib`` (``torch`` or ``plugrad``)."""
    nn = lib.nn

    class Reverser(nn.Module):
        def __init__(self, d_model=16, nhead=2, layers=2, ff=32):
            super().__init__()
            self.d_model = d_model
            self.src_embed = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
            self.tgt_embed = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
            self.position = nn.Parameter(lib.randn(1, MAX_LEN, d_model) * 0.1)
            self.transformer = nn.Transformer(d_model, nhead, layers, layers, ff, dropout=0.0, batch_first=True)
            self.head = nn.Linear(d_model, VOCAB)

        def embed(self, table, tokens):
            return table(tokens) * math.sqrt(self.d_model) + self.position[:, :tokens.size(1)]

        def forward(self, src, tgt):
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(1), device=src.device)
            src_padding, tgt_padding = src == PAD, tgt == PAD
            hidden = self.transformer(self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt),
                                      tgt_mask=tgt_mask, src_key_padding_mask=src_padding,
                                      tgt_key_padding_mask=tgt_padding, memory_key_padding_mask=src_padding,
                                      tgt_is_causal=True)
            return self.head(hidden)

    return Reverser()


def train(lib, model, device):
    """Train ``model`` for a few steps; (the loss of each step, greedy decodings, their logits)."""
    model.to(device)
    src_np, tgt_np = data()
    src = lib.tensor(src_np, device=device)
    tgt = lib.tensor(tgt_np, device=device)
    optimizer = lib.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = lib.nn.CrossEntropyLoss(ignore_index=PAD)
    losses = []
    model.train()
    for _ in range(STEPS):
        logits = model(src, tgt[:, :-1])
        loss = loss_fn(logits.reshape(-1, VOCAB), tgt[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    with lib.no_grad():
        out = lib.full((src.size(0), 1), BOS, dtype=lib.int64, device=device)
        for _ in range(tgt.size(1) - 1):
            logits = model(src, out)[:, -1]
            out = lib.cat([out, logits.argmax(-1, keepdim=True)], dim=1)
        final_logits = model(src, out[:, :-1])
    return losses, out.cpu().tolist(), final_logits.cpu().numpy()


def test_transformer_program_matches_pytorch(device):
    torch.manual_seed(0)
    reference = build(torch)
    ours = build(plugrad)
    state = reference.state_dict()
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in state.items()})

    expected_losses, expected_tokens, expected_logits = train(torch, reference, "cpu")
    losses, tokens, logits = train(plugrad, ours, device)

    np.testing.assert_allclose(losses, expected_losses, rtol=0, atol=1e-4)
    assert expected_losses[-1] < 0.8 * expected_losses[0]   # it learns
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-4, atol=1e-4)
    assert tokens == expected_tokens
