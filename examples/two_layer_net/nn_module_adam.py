"""Two-layer network, form 5 of 5: an ``nn.Module`` subclass trained with Adam.

``TwoLayerNet`` declares its layers in ``__init__`` and the computation in
``forward``; ``optim.Adam`` does the update. At the end ``plugrad.utils.summary``
prints the layer table that ``torchsummary.summary`` prints for PyTorch (no extra
package needed: ``from plugrad.utils import summary``).

    python examples/two_layer_net/nn_module_adam.py [--iterations N] [--device cpu|opencl]
"""

import plugrad as torch
import plugrad.nn as nn
from plugrad.utils import summary

from _common import parse_args, report, save_plot

args = parse_args(__doc__.split("\n\n")[0], "two_layer_adam_loss.png")
torch.manual_seed(0)

N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in, device=args.device)
y = torch.randn(N, D_out, device=args.device)


class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.linear1 = nn.Linear(D_in, H, bias=False)
        self.linear2 = nn.Linear(H, D_out, bias=False)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


model = TwoLayerNet(D_in, H, D_out).to(args.device)
loss_fn = nn.MSELoss(reduction="sum")
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
all_loss = []
for t in range(args.iterations):
    y_hat = model(X)
    loss = loss_fn(y_hat, y)
    report(t, loss.item(), args)
    all_loss.append(loss.item())

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

summary(model, (D_in,))
save_plot(all_loss, args)
