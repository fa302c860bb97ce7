"""Two-layer network, form 1 of 5: NumPy only, forward and backward written by hand.

The reference the other four forms are compared with: ``h = relu(X W1)``,
``y_hat = h W2``, squared-error loss, gradients by the chain rule, plain gradient
descent. (NumPy runs on the host; ``--device`` is accepted for a uniform command line.)

    python examples/two_layer_net/numpy_manual.py [--iterations N]
"""

import numpy as np

from _common import parse_args, report, save_plot

args = parse_args(__doc__.split("\n\n")[0], "two_layer_numpy_loss.png")

N, D_in, H, D_out = 64, 1000, 100, 10  # a batch of 64 samples, 1000 inputs, 100 hidden units, 10 outputs

rng = np.random.default_rng(0)
X = rng.standard_normal((N, D_in))
y = rng.standard_normal((N, D_out))
W1 = rng.standard_normal((D_in, H))
W2 = rng.standard_normal((H, D_out))

learning_rate = 1e-6
all_loss = []
for t in range(args.iterations):
    h = X.dot(W1)                       # forward
    h_relu = np.maximum(h, 0)
    y_hat = h_relu.dot(W2)

    loss = np.square(y_hat - y).sum()  # squared error (not divided by N)
    report(t, loss, args)
    all_loss.append(loss)

    grad_y_hat = 2.0 * (y_hat - y)      # backward, by the chain rule
    grad_W2 = h_relu.T.dot(grad_y_hat)
    grad_h_relu = grad_y_hat.dot(W2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_W1 = X.T.dot(grad_h)

    W1 -= learning_rate * grad_W1       # gradient descent
    W2 -= learning_rate * grad_W2

save_plot(all_loss, args)
