"""Train the MLP of examples/digits.py and save its loss curve as docs/assets/digits_loss.png.

The model, data split and optimiser are those of ``examples/digits.py``; this script
only records the mean training loss of every epoch and the final test accuracy.

    python docs/scripts/digits_loss_curve.py [--epochs 20] [--out docs/assets/digits_loss.png]
"""

import argparse
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

import digits  # noqa: E402

import plugrad as torch  # noqa: E402
from plugrad import nn  # noqa: E402
from plugrad.utils.data import DataLoader, TensorDataset, random_split  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "docs" / "assets" / "digits_loss.png"))
    args = parser.parse_args()

    torch.manual_seed(0)
    images, labels = digits.load_digits_tensors()
    train_set, test_set = random_split(TensorDataset(images, labels), [0.8, 0.2],
                                       generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    test_loader = DataLoader(test_set, batch_size=256)

    model = digits.MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(args.epochs):
        model.train()
        total, seen = 0.0, 0
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * y.numel()
            seen += y.numel()
        scheduler.step()
        losses.append(total / seen)
    accuracy = digits.accuracy(model, test_loader, "cpu")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, args.epochs + 1), losses, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss (cross-entropy)")
    ax.set_yscale("log")
    ax.set_title(f"digits MLP with plugrad: test accuracy {accuracy:.1%}")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"epoch losses: {', '.join(f'{v:.4f}' for v in losses)}")
    print(f"test accuracy {accuracy:.2%}; wrote {args.out}")


if __name__ == "__main__":
    main()
