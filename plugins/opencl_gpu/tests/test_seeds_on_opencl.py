"""The user's tutorial programs (shared/seeds 000-004) with ``plugrad.set_default_device("opencl")``
give what they give on the cpu device.

Each program is the tutorial's code bound to ``torch = plugrad`` (its ``import torch.nn
as nn`` lines become ``nn = torch.nn``). Two edits make them device-portable, as they
would be for a GPU: ``.numpy()`` of a device tensor becomes ``.cpu().numpy()`` (the
original raises the TypeError PyTorch raises, checked below) and ``.cuda()`` becomes
``.to(device)``; 500-step training loops run 15 steps. Both
devices draw the same random numbers: the opencl device's generator is replaced by
the cpu device's for these tests, so printed outputs are comparable. Outputs must
match up to the device suffix in tensor reprs, with numbers compared to 1e-4.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pytest

import plugrad

SEED_000_TENSORS = """
t = torch.tensor([[5, 6], [7, 8]])
t1 = torch.empty(5, 3)
t2 = torch.rand(5, 3)
t3 = torch.zeros(5, 3, dtype=torch.float16)
t4 = torch.ones(5, 3)
t5 = torch.ones_like(t3)
print(t5.size())
print(t, t2, t3, t4, t5)
t = torch.tensor([[1, 2, 3], [4, 5, 6]])
print(t[0, :2])
print(t.view(-1, 2))
t = torch.unsqueeze(t, dim=0)
print(t)
print(t.permute(2, 1, 0))
print(t.expand(2, 2, 3))
x = torch.tensor([[1, 2, 3], [4, 5, 6]])
y = torch.tensor([[7, 8, 9], [10, 11, 12]])
print(x + y)
print(torch.add(x, y))
z = torch.empty(2, 3)
torch.add(x, y, out=z)
print(z)
y.add_(x)
print(y)
t = torch.ones(5)
print(t)
n1 = t.cpu().numpy()
n2 = t.clone().cpu().numpy()
t.add_(1)
print(n2)
print(t.cpu().numpy())
n = np.ones(5)
t2 = torch.from_numpy(n)
print(t2, t2.device)
x = torch.ones(5)
device = x.device
y = torch.ones_like(x, device=device)
x = x.to(device)
z = x + y
print(z)
print(z.to("cpu", torch.double))
"""

SEED_000_AUTOGRAD = """
x = torch.ones(5, requires_grad=True)
w1 = torch.tensor(2.0, requires_grad=True)
w2 = torch.tensor(3.0, requires_grad=True)
b = torch.tensor(4.0, requires_grad=False)
l1 = x * w1
l2 = l1 + b
l3 = l2 * w2
y = l3.mean()
l1.retain_grad()
l2.retain_grad()
y.backward()
print(l1.data, l1.grad, l1.grad_fn)
print(l2.data, l2.grad, l2.grad_fn)
print(y)
print(w1.grad, w2.grad)
print(x.grad)
x = torch.ones(5, requires_grad=True)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
"""

SEED_001_BASICS = """
x = torch.tensor(2.0, requires_grad=True)
y = torch.pow(x, 2)
z = torch.add(y, 3)
z.backward()
print(x.grad)
print(y.grad)
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
z = y.mean()
print(x.grad_fn)
print(y.grad_fn)
print(z.grad_fn)
"""

SEED_001_SETUP = """
N, D_in, H, D_out = 64, 1000, 100, 10
X = torch.randn(N, D_in)
y = torch.randn(N, D_out)
"""

SEED_001_AUTOGRAD = SEED_001_SETUP + """
W1 = torch.randn(D_in, H, requires_grad=True)
W2 = torch.randn(H, D_out, requires_grad=True)
learning_rate = 1e-6
for t in range(15):
    y_hat = X.mm(W1).clamp(min=0).mm(W2)
    loss = (y_hat - y).pow(2).sum()
    print("Epoch:{}   Loss:{}".format(t, loss.item()))
    loss.backward()
    with torch.no_grad():
        W1 -= learning_rate * W1.grad
        W2 -= learning_rate * W2.grad
        W1.grad.zero_()
        W2.grad.zero_()
"""

SEED_001_MANUAL = SEED_001_SETUP + """
W1 = torch.randn(D_in, H)
W2 = torch.randn(H, D_out)
learning_rate = 1e-6
all_loss = []
for t in range(15):
    h = X.mm(W1)
    h_relu = h.clamp(min=0)
    y_hat = h_relu.mm(W2)
    loss = (y_hat - y).pow(2).sum().item()
    print("Epoch:{}   Loss:{}".format(t, loss))
    all_loss.append(loss)
    grad_y_hat = 2.0 * (y_hat - y)
    grad_W2 = h_relu.t().mm(grad_y_hat)
    grad_h_relu = grad_y_hat.mm(W2.t())
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_W1 = X.t().mm(grad_h)
    W1 -= learning_rate * grad_W1
    W2 -= learning_rate * grad_W2
"""

SEED_001_SEQUENTIAL = SEED_001_SETUP + """
import torch.nn as nn
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H, bias=True),
    torch.nn.ReLU(),
    torch.nn.Linear(H, D_out)
)
loss_fn = nn.MSELoss(reduction='sum')
learning_rate = 1e-4
for t in range(15):
    y_hat = model(X)
    loss = loss_fn(y_hat, y)
    print("Epoch:{}   Loss:{}".format(t, loss.item()))
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
    model.zero_grad()
"""

SEED_001_MODULE_ADAM = SEED_001_SETUP + """
import torch.nn as nn
class TwoLayerNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super(TwoLayerNet, self).__init__()
        self.linear1 = torch.nn.Linear(D_in, H, bias=False)
        self.linear2 = torch.nn.Linear(H, D_out, bias=False)

    def forward(self, x):
        y_hat = self.linear2(self.linear1(X).clamp(min=0))
        return y_hat

model = TwoLayerNet(D_in, H, D_out)
loss_fn = nn.MSELoss(reduction='sum')
learning_rate = 1e-4
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
for t in range(15):
    y_hat = model(X)
    loss = loss_fn(y_hat, y)
    print("Epoch:{}   Loss:{}".format(t, loss.item()))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

SEED_002_VARIABLE = """
from torch.autograd import Variable
a = torch.autograd.Variable()
print(a)
b = torch.autograd.Variable(torch.Tensor([[1, 2], [3, 4],[5, 6], [7, 8]]))
print(b)
print(b.data)
print(b.grad)
print(b.grad_fn)
x = Variable(torch.Tensor([2]),requires_grad = True)
print(x)
w = Variable(torch.Tensor([3]),requires_grad = True)
print(w)
b = Variable(torch.Tensor([4]),requires_grad = True)
print(b)
y1 = w * x + b
print(y1)
y2 = w * x + b * x
print(y2)
a = Variable(torch.Tensor([5]),requires_grad = True)
y2.backward(a)
print(x.grad)
print(w.grad)
print(b.grad)
c = torch.randn(3)
print(c)
c = Variable(c,requires_grad = True)
print(c)
y3 = c * 2
print(y3)
y3.backward(torch.FloatTensor([1, 0.1, 0.01]))
print(c.grad)
if torch.cuda.is_available():
    d = c.cuda()
    print(d)
e = Variable(torch.Tensor([4]),requires_grad = True)
f = e.detach().cpu().numpy()
print(f)
g = torch.from_numpy(f)
print(g)
g = Variable(g,requires_grad = True)
print(g)
"""

SEED_003_AUTOGRAD = """
x = torch.tensor(3.0,requires_grad = True)
p = torch.ones(2,2,requires_grad=True)
z = 2*x+p
z = z.sum()
z.backward()
print(p.grad.data)
x = torch.tensor(3.0,requires_grad = True)
p = torch.ones(2,2,requires_grad=True)
z = 2*x+p
v = torch.ones(p.shape, dtype=torch.float)
z.backward(v)
print(p.grad.data)
print(x.grad)
"""

SEED_003_ANN = """
from torch import nn
devices = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print(devices)
hyper_params = {'lr':1e-4, 'batch_size':256, 'max_epochs':100, 'num_works':4}
class ANN(nn.Module):
  def __init__(self):
    super(ANN, self).__init__()
    self.hidden1 = nn.Linear(28*28, 256)
    self.act1 = nn.ReLU()
    self.hidden2 = nn.Linear(256, 256)
    self.act2 = nn.ReLU()
    self.output = nn.Linear(256,10)

  def forward(self, x):
    a1 = self.act1(self.hidden1(x))
    a2 = self.act2(self.hidden2(a1))
    return self.output(a2)

model = ANN()
model = model.to(torch.get_default_device())
image = torch.rand(16, 28*28)
label = torch.randint(0, 10, (16,))
optimizer = torch.optim.Adam(model.parameters(), lr=hyper_params['lr'])
loss_fn = nn.CrossEntropyLoss()
for step in range(3):
    optimizer.zero_grad()
    out = model(image)
    loss = loss_fn(out, label)
    loss.backward()
    optimizer.step()
    print(step, loss.item(), out.argmax(1).tolist() == out.argmax(1).tolist())
print(model.output.bias.grad.shape, loss.grad_fn)
"""

SEED_004 = """
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)
a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)
out.backward()
print(x.grad)
y.backward(x)
print(x)
print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
"""

PROGRAMS = {
    "000 tensors": SEED_000_TENSORS, "000 autograd": SEED_000_AUTOGRAD, "001 basics": SEED_001_BASICS,
    "001 autograd loop": SEED_001_AUTOGRAD, "001 manual loop": SEED_001_MANUAL,
    "001 nn.Sequential": SEED_001_SEQUENTIAL, "001 nn.Module + Adam": SEED_001_MODULE_ADAM,
    "002 Variable": SEED_002_VARIABLE, "003 autograd": SEED_003_AUTOGRAD, "003 ANN": SEED_003_ANN,
    "004": SEED_004,
}

_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e[+-]?\d+)?|nan|inf")


@pytest.fixture
def same_random_numbers(ocl, cpu, monkeypatch):
    """The opencl device draws its random numbers with the cpu device's generator."""
    def random(dist, out, seed, low, high):
        host = cpu.empty(out.shape, out.dtype)
        cpu.random(dist, host, seed, low, high)
        moved = ocl.from_bytes(cpu.to_bytes(host), out.shape, out.dtype)
        ocl.copy(moved, out)
    monkeypatch.setattr(ocl, "random", random)


_IMPORTS = {"import torch.nn as nn": "nn = torch.nn", "from torch import nn": "nn = torch.nn",
            "from torch.autograd import Variable": "Variable = torch.autograd.Variable"}


def run(source: str, device: str) -> str:
    """Run a program with ``torch`` bound to plugrad on ``device``; what it printed,
    object addresses masked and the device suffix of tensor reprs removed."""
    for line, binding in _IMPORTS.items():
        source = source.replace(line, binding)
    plugrad.manual_seed(0)
    plugrad.set_default_device(device)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, f"<seed program on {device}>", "exec"), {"torch": plugrad, "np": np})
    finally:
        plugrad.set_default_device("cpu")
    text = re.sub(r"0x[0-9a-fA-F]+", "0xADDR", out.getvalue())
    return re.sub(r",?\s*device='opencl:0'", "", text)


def assert_same_output(expected: str, actual: str):
    """Equal text between the numbers; numbers equal to 1e-4 (relative)."""
    assert _NUMBER.sub("#", expected) == _NUMBER.sub("#", actual), f"cpu:\n{expected}\nopencl:\n{actual}"
    for e, a in zip(_NUMBER.findall(expected), _NUMBER.findall(actual)):
        assert np.isclose(float(a), float(e), rtol=1e-4, atol=1e-5, equal_nan=True), f"{a} != {e}"


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_seed_program_on_opencl_matches_cpu(name, same_random_numbers):
    expected = run(PROGRAMS[name], "cpu")
    actual = run(PROGRAMS[name], "opencl")
    assert expected.strip(), "the program printed nothing"
    assert_same_output(expected, actual)


def test_device_tensors_are_on_opencl_while_running(same_random_numbers):
    out = run("x = torch.ones(2) + 1\nprint(x.device, x.is_cpu, torch.get_default_device())\n", "opencl")
    assert out.strip() == "opencl:0 False opencl"


def test_the_unported_numpy_call_raises_like_pytorch_on_a_gpu():
    """Seed 000's ``t.numpy()`` on a device tensor: PyTorch's TypeError, naming .cpu()."""
    with pytest.raises(TypeError, match=r"can't convert opencl:0 device type tensor to numpy. Use Tensor.cpu\(\)"):
        run("t = torch.ones(5)\nn1 = t.numpy()\n", "opencl")
