"""Two-layer network, form 4 of 5: ``nn.Sequential`` and ``nn.MSELoss``.

The layers carry their own weights (``model.parameters()``); the update is still the
plain gradient step, followed by ``model.zero_grad()``.

    python examples/two_layer_net/nn_sequential.py [--iterations N] [--device cpu|opencl]
"""

import plugrad as torch
import plugrad.nn as nn

from _common import parse_args, report, save_plot

args = parse_args(__doc__.split("\n\n")[0], "two_layer_sequential_loss.png")
torch.manual_seed(0)

N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in, device=args.device)
y = torch.randn(N, D_out, device=args.device)

model = nn.Sequential(
    nn.Linear(D_in, H, bias=True),
    nn.ReLU(),
    nn.Linear(H, D_out),
).to(args.device)
print(model)

loss_fn = nn.MSELoss(reduction="sum")
learning_rate = 1e-4
all_loss = []
for t in range(args.iterations):
    y_hat = model(X)
    loss = loss_fn(y_hat, y)
    report(t, loss.item(), args)
    all_loss.append(loss.item())

    loss.backward()

    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

    model.zero_grad()

save_plot(all_loss, args)
