"""A seeded training run, written once, gives PyTorch's loss sequence.

The data, PyTorch's default initialisation of the layers, the DataLoader's shuffling
and dropout's masks all come from the generators, so after ``manual_seed`` plugrad
and torch 2.13 train the very same model on the very same batches: the losses agree
to float32 rounding (1e-5) for 50 steps, on every device. No weight is copied from one
library to the other.
"""

from __future__ import annotations

import pytest
import torch

import plugrad

from test_random_streams import MKL_PATHS


def train(lib, device, steps=50, dropout=True):
    """50 SGD steps of a small MLP on a shuffled DataLoader; returns the losses."""
    lib.manual_seed(0)
    x = lib.randn(96, 8)
    y = (x[:, :1] * 2 - x[:, 1:2]).tanh() + 0.1 * lib.randn(96, 1)
    data = lib.utils.data.TensorDataset(x, y)
    train_set, _ = lib.utils.data.random_split(data, [80, 16])
    loader = lib.utils.data.DataLoader(train_set, batch_size=8, shuffle=True)
    nn = lib.nn
    layers = [nn.Linear(8, 32), nn.ReLU()] + ([nn.Dropout(0.2)] if dropout else []) + [nn.Linear(32, 1)]
    model = nn.Sequential(*layers).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    while len(losses) < steps:
        for xb, yb in loader:
            loss = ((model(xb.to(device)) - yb.to(device)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses


@pytest.mark.parametrize("dropout", [False, True])
def test_seeded_training_gives_pytorchs_losses(device, dropout):
    if dropout and MKL_PATHS:
        pytest.skip("torch draws dropout's noise from MKL's stream on this Intel CPU (docs/randomness.md)")
    want = train(torch, "cpu", dropout=dropout)
    got = train(plugrad, device, dropout=dropout)
    assert len(got) == len(want) == 50
    worst = max(abs(a - b) for a, b in zip(got, want))
    assert worst <= 1e-5, f"losses differ by up to {worst}: {got[:5]} vs {want[:5]}"
