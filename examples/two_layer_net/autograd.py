"""Two-layer network, form 3 of 5: autograd computes the gradients.

``requires_grad=True`` on the weights, ``loss.backward()`` fills ``W.grad``; the update
runs under ``torch.no_grad()`` and the gradients are zeroed for the next iteration.

    python examples/two_layer_net/autograd.py [--iterations N] [--device cpu|opencl]
"""

import plugrad as torch

from _common import parse_args, report, save_plot

args = parse_args(__doc__.split("\n\n")[0], "two_layer_autograd_loss.png")
torch.manual_seed(0)

N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in, device=args.device)
y = torch.randn(N, D_out, device=args.device)
W1 = torch.randn(D_in, H, device=args.device, requires_grad=True)
W2 = torch.randn(H, D_out, device=args.device, requires_grad=True)

learning_rate = 1e-6
all_loss = []
for t in range(args.iterations):
    y_hat = X.mm(W1).clamp(min=0).mm(W2)
    loss = (y_hat - y).pow(2).sum()     # a graph: loss.grad_fn is SumBackward0
    report(t, loss.item(), args)
    all_loss.append(loss.item())

    loss.backward()

    with torch.no_grad():
        W1 -= learning_rate * W1.grad
        W2 -= learning_rate * W2.grad
        W1.grad.zero_()
        W2.grad.zero_()

save_plot(all_loss, args)
