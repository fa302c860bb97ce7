"""Two-layer network, form 2 of 5: plugrad tensors, gradients still written by hand.

The NumPy program with ``import plugrad as torch``: ``mm``, ``clamp``, ``t()`` and
boolean-mask assignment replace their NumPy spellings; nothing records a graph.

    python examples/two_layer_net/manual_gradients.py [--iterations N] [--device cpu|opencl]
"""

import plugrad as torch

from _common import parse_args, report, save_plot

args = parse_args(__doc__.split("\n\n")[0], "two_layer_manual_loss.png")
torch.manual_seed(0)

N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in, device=args.device)
y = torch.randn(N, D_out, device=args.device)
W1 = torch.randn(D_in, H, device=args.device)
W2 = torch.randn(H, D_out, device=args.device)

learning_rate = 1e-6
all_loss = []
for t in range(args.iterations):
    h = X.mm(W1)
    h_relu = h.clamp(min=0)
    y_hat = h_relu.mm(W2)

    loss = (y_hat - y).pow(2).sum().item()
    report(t, loss, args)
    all_loss.append(loss)

    grad_y_hat = 2.0 * (y_hat - y)
    grad_W2 = h_relu.t().mm(grad_y_hat)
    grad_h_relu = grad_y_hat.mm(W2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_W1 = X.t().mm(grad_h)

    W1 -= learning_rate * grad_W1
    W2 -= learning_rate * grad_W2

save_plot(all_loss, args)
