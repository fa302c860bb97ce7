"""A small convolutional network trained for a few steps gives PyTorch's losses.

The same program text runs with ``torch`` and with ``plugrad`` as the library: a
Conv2d / BatchNorm2d / ReLU / MaxPool2d block, a second convolution with GroupNorm,
a bilinear ``F.interpolate`` back up, average pooling and a linear head, trained with SGD
(momentum, weight decay) on cross-entropy. plugrad starts from PyTorch's initial
weights (its state dict copied) and sees the same batches; every step's loss, and
the weights and running statistics at the end, must match within 1e-4.
"""

from __future__ import annotations

import numpy as np
import plugrad
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

EPOCHS, BATCHES = 2, 3   # the same batches twice: the second pass must see a lower loss


def build(lib):
    """The network, written once for either library."""
    nn, F = lib.nn, lib.nn.functional

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.norm1 = nn.BatchNorm2d(8)
            self.pool = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(8, 6, 3, padding="same", padding_mode="reflect")
            self.norm2 = nn.GroupNorm(3, 6)
            self.squeeze = nn.AdaptiveAvgPool2d((2, 2))
            self.head = nn.Linear(6 * 2 * 2, 4)

        def forward(self, x):
            x = self.pool(F.relu(self.norm1(self.conv1(x))))
            x = F.relu(self.norm2(self.conv2(x)))
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = F.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)
            return self.head(self.squeeze(x).flatten(1))

    return ConvNet()


def train(lib, model, batches, device=None):
    """Train on ``batches`` (NumPy arrays); return each step's loss."""
    F = lib.nn.functional
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    losses = []
    model.train()
    for images, labels in batches:
        x = lib.tensor(images, device=device) if device else lib.tensor(images)
        y = lib.tensor(labels, device=device) if device else lib.tensor(labels)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_convnet_trains_like_pytorch(device):
    torch.manual_seed(0)
    reference = build(torch)
    model = build(plugrad)
    model.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    model.to(device)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((4, 3, 12, 12)).astype(np.float32), rng.integers(0, 4, 4))
               for _ in range(BATCHES)] * EPOCHS
    expected = train(torch, reference, batches)
    got = train(plugrad, model, batches, device)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    assert sum(expected[BATCHES:]) < sum(expected[:BATCHES])   # it learns: the check is not of a constant
    final = reference.state_dict()
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(np.array(value.cpu().tolist()), final[name].numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)
