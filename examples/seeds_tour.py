"""A tour of the tutorials' code: tensors, views, NumPy interop and autograd.

Every snippet is the tutorials' own PyTorch code, run with ``import plugrad as torch``;
it prints what PyTorch prints. ``--device opencl`` runs it on another device.

    python examples/seeds_tour.py [--device cpu|opencl]
"""

import argparse

import numpy as np

import plugrad as torch


def section(title):
    print(f"\n=== {title} ===")


def tensors():
    section("creating tensors")
    t = torch.tensor([[5, 6], [7, 8]])
    print(t)
    t3 = torch.zeros(5, 3, dtype=torch.float16)
    t5 = torch.ones_like(t3)
    print(t5.size())

    section("indexing and views")
    t = torch.tensor([[1, 2, 3], [4, 5, 6]])
    print(t[0, :2])
    print(t.view(-1, 2))
    t = torch.unsqueeze(t, dim=0)
    print(t)
    print(t.permute(2, 1, 0))
    print(t.expand(2, 2, 3))

    section("arithmetic, out= and in-place")
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    y = torch.tensor([[7, 8, 9], [10, 11, 12]])
    print(x + y)
    print(torch.add(x, y))
    z = torch.empty(2, 3)
    torch.add(x, y, out=z)
    print(z)
    y.add_(x)
    print(y)

    section("NumPy shares memory")
    t = torch.ones(5)
    print(t)
    n1 = t.numpy()
    n2 = t.clone().numpy()
    t.add_(1)
    print(n1)
    print(n2)
    t2 = torch.from_numpy(np.ones(5))
    print(t2)


def devices(name):
    section(f"moving to a device ({name})")
    x = torch.ones(5)
    device = torch.device(name)
    y = torch.ones_like(x, device=device)
    x = x.to(device)
    z = x + y
    print(z)
    print(z.to("cpu", torch.double))
    print("torch.cuda.is_available() ->", torch.cuda.is_available())


def autograd():
    section("autograd: leaves, grad_fn, backward")
    x = torch.ones(5, requires_grad=True)
    w1 = torch.tensor(2.0, requires_grad=True)
    w2 = torch.tensor(3.0, requires_grad=True)
    b = torch.tensor(4.0, requires_grad=False)
    l1 = x * w1
    l2 = l1 + b
    l3 = l2 * w2
    l1.retain_grad()
    l2.retain_grad()
    y = l3.mean()
    y.backward()
    print(l1.data, l1.grad, l1.grad_fn.name())
    print(l2.data, l2.grad, l2.grad_fn.name())
    print(y)
    print(w1.grad, w2.grad)
    print(x.grad)

    section("no_grad")
    x = torch.ones(5, requires_grad=True)
    print((x ** 2).requires_grad)
    with torch.no_grad():
        print((x ** 2).requires_grad)

    section("backward(gradient): a vector-Jacobian product")
    x = torch.tensor(3.0, requires_grad=True)
    p = torch.ones(2, 2, requires_grad=True)
    z = 2 * x + p
    z.backward(torch.ones(p.shape, dtype=torch.float))
    print(p.grad)
    print(x.grad)

    section("a small graph: out = mean(3 (x + 2)^2)")
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    print(z, out)
    out.backward()
    print(x.grad)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    tensors()
    devices(args.device)
    autograd()


if __name__ == "__main__":
    main()
