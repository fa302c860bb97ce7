"""The training programs of the tutorials (seeds 001 and 003, shared/seeds), run as
written with ``import plugrad as torch`` and, for comparison, with PyTorch itself.

Each program below is the tutorial's code (its comments dropped), with its 500
iterations cut to a few dozen. Both runs get the same data and the same initial
weights: ``randn`` and the layers' default initialisation draw from one shared
NumPy stream in both libraries. The losses they print must agree to float32
precision. (The autograd and hand-written-gradient loops of seed 001 are in
test_seed_autograd.py.)
"""

from __future__ import annotations

import contextlib
import io
import math
import re

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

ITERATIONS = 30

SEED_001_NUMPY = """
import numpy as np
import matplotlib.pyplot as plt

N, D_in, H, D_out = 64, 1000, 100, 10

X = np.random.randn(N, D_in)
y = np.random.randn(N, D_out)

W1 = np.random.randn(D_in, H)
W2 = np.random.randn(H, D_out)

learning_rate = 1e-6

all_loss = []

epoch = 500

for t in range(500):
    h = X.dot(W1)
    h_relu = np.maximum(h, 0)
    y_hat = h_relu.dot(W2)

    loss = np.square(y_hat - y).sum()
    print("Epoch:{}   Loss:{}".format(t, loss))
    all_loss.append(loss)

    grad_y_hat = 2.0 * (y_hat - y)
    grad_W2 = h_relu.T.dot(grad_y_hat)

    grad_h_relu = grad_y_hat.dot(W2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_W1 = X.T.dot(grad_h)

    W1 -= learning_rate * grad_W1
    W2 -= learning_rate * grad_W2

plt.plot(all_loss)
plt.xlabel("epoch")
plt.ylabel("Loss")
plt.show()
"""

SEED_001_SEQUENTIAL = """
import torch
import torch.nn as nn

N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in)
y = torch.randn(N, D_out)

model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H, bias=True),
    torch.nn.ReLU(),
    torch.nn.Linear(H, D_out)
)

loss_fn = nn.MSELoss(reduction='sum')

learning_rate = 1e-4

for t in range(500):
    y_hat = model(X)

    loss = loss_fn(y_hat, y)
    print("Epoch:{}   Loss:{}".format(t, loss.item()))

    loss.backward()

    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

    model.zero_grad()
"""

SEED_001_MODULE_ADAM = """
import torch
import torch.nn as nn
from torchsummary import summary
N, D_in, H, D_out = 64, 1000, 100, 10

X = torch.randn(N, D_in)
y = torch.randn(N, D_out)


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

for t in range(500):
    y_hat = model(X)

    loss = loss_fn(y_hat, y)
    print("Epoch:{}   Loss:{}".format(t, loss.item()))

    optimizer.zero_grad()
    loss.backward()

    optimizer.step()


print(summary(model, (64, 1000)))
"""

SEED_003_PIPELINE = """
import torch
devices = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

hyper_params = {'lr':1e-4,
                'batch_size':256,
                'max_epochs':100,
                'num_works':4}

from torch.utils.data import Dataset
import numpy as np

class FMDataset(Dataset):
    def __init__(self, data_df, transform = None):
        self.df = data_df
        self.transform = transform
        self.images = self.df.iloc[:,1:].values.astype(np.uint8)
        self.labels = self.df.iloc[:,0].values
    def __len__(self):
        return len(self.labels)
    def __getitem__(self, index):
        image = self.images[index].reshape(28,28,1)
        label = int(self.labels[index])
        if self.transform:
            image = self.transform(image)
        else:
            image = torch.tensor(image/255.0,dtype = torch.float)
        label = torch.tensor(label,dtype = torch.int64)
        return image, label

train_data_FM = FMDataset(train_df, data_transform)
test_data_FM = FMDataset(test_df, data_transform)

from torch.utils.data import DataLoader

train_data = DataLoader(train_data_FM,
                        batch_size = hyper_params['batch_size'],
                        shuffle = True,
                        num_workers = hyper_params['num_works'],
                        drop_last = True)
test_data = DataLoader(test_data_FM,
                       batch_size = hyper_params['batch_size'],
                       shuffle = False,
                       num_workers = hyper_params['num_works'])

import matplotlib.pyplot as mp

image, label = next(iter(train_data))
print(image.shape, label.shape)
mp.imshow(image[0][0],cmap='gray')

import torch
from torch import nn

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
"""


def for_library(code: str, lib: str) -> str:
    """The program for one library: plugrad replaces torch's imports; torch runs as
    written, without torchsummary (not installed here)."""
    code = code.replace("range(500)", f"range({ITERATIONS})").replace("plt.show()", "plt.close()")
    if lib == "plugrad":
        code = code.replace("import torch.nn as nn", "import plugrad.nn as nn")
        code = re.sub(r"^import torch$", "import plugrad as torch", code, flags=re.M)
        code = code.replace("from torch import nn", "from plugrad import nn")
        code = code.replace("from torch.utils.data import", "from plugrad.utils.data import")
        return code.replace("from torchsummary import summary", "from plugrad.utils import summary")
    return "\n".join(line for line in code.splitlines() if "summary" not in line) + "\n"


class SharedStream:
    """``randn`` and the default layer initialisation of both libraries, drawing the
    same numbers from one NumPy generator."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def patch(self, lib, monkeypatch):
        rng = self.rng

        def fill(tensor, values):
            with lib.no_grad():
                tensor.copy_(lib.tensor(values.astype(np.float32)))
            return tensor

        def randn(*size, requires_grad=False, **_):
            shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
            return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=requires_grad)

        def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
            fan_in = tensor.shape[1] * math.prod(tensor.shape[2:])
            bound = math.sqrt(3.0) * math.sqrt(2.0 / (1 + a * a)) / math.sqrt(fan_in)
            return fill(tensor, rng.uniform(-bound, bound, tuple(tensor.shape)))

        def uniform_(tensor, a=0.0, b=1.0, generator=None):
            return fill(tensor, rng.uniform(a, b, tuple(tensor.shape)))

        monkeypatch.setattr(lib, "randn", randn)
        monkeypatch.setattr(lib.nn.init, "kaiming_uniform_", kaiming_uniform_)
        monkeypatch.setattr(lib.nn.init, "uniform_", uniform_)


def run(code: str, lib, monkeypatch, seed=0, namespace=None) -> tuple:
    """Execute ``code`` with the shared stream; return its printed output and namespace."""
    import matplotlib
    matplotlib.use("Agg")
    ns = {"__name__": "__seed__"} if namespace is None else namespace
    out = io.StringIO()
    with monkeypatch.context() as m:
        SharedStream(seed).patch(lib, m)
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<seed>", "exec"), ns)
    return out.getvalue(), ns


def losses(output: str) -> list:
    return [float(v) for v in re.findall(r"Loss:([-+0-9.eE]+|nan|inf)", output)]


# ---- seed 001: the two-layer network -----------------------------------------------------------

@pytest.mark.parametrize("code", [SEED_001_SEQUENTIAL, SEED_001_MODULE_ADAM], ids=["nn.Sequential", "nn.Module+Adam"])
def test_seed_001_program_follows_pytorch(code, monkeypatch):
    ours, _ = run(for_library(code, "plugrad"), plugrad, monkeypatch)
    theirs, _ = run(for_library(code, "torch"), torch, monkeypatch)
    ours_l, theirs_l = losses(ours), losses(theirs)
    assert len(ours_l) == len(theirs_l) == ITERATIONS
    np.testing.assert_allclose(ours_l, theirs_l, rtol=2e-4)
    assert ours_l[-1] < ours_l[0]  # it trains
    if "summary" in code:  # torchsummary's table, printed by plugrad.utils.summary
        table = ours[ours.index("Layer (type)"):]
        assert "Linear-1" in table and "[-1, 100]" in table and "Total params: 101,000" in table
        assert table.rstrip().endswith("None")  # print(summary(...)) prints summary's None


def test_seed_001_numpy_program_runs(monkeypatch):
    output, ns = run(for_library(SEED_001_NUMPY, "numpy"), plugrad, monkeypatch)
    assert len(losses(output)) == ITERATIONS and ns["all_loss"][-1] < ns["all_loss"][0]


# ---- seed 003: dataset, loader, model, device ---------------------------------------------------

class _Columns:
    def __init__(self, array):
        self.values = array


class _ILoc:
    def __init__(self, array):
        self.array = array

    def __getitem__(self, key):
        return _Columns(self.array[key])


class FakeFrame:
    """The two pandas features FMDataset uses (``df.iloc[rows, cols].values``), so that the
    tutorial's Dataset runs on a small synthetic FashionMNIST-like table."""

    def __init__(self, array):
        self.iloc = _ILoc(array)


def fashion_table(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, (rows, 1))
    pixels = rng.integers(0, 256, (rows, 28 * 28))
    return np.concatenate([labels, pixels], axis=1)


@pytest.mark.filterwarnings("ignore:This DataLoader will create 4 worker processes")  # torch, on 2 cores
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")  # torch + matplotlib
def test_seed_003_pipeline_trains_like_pytorch(monkeypatch):
    """FMDataset + DataLoader (4 workers, as in the tutorial) + the ANN, trained on the
    chosen device with CrossEntropyLoss and Adam: the same losses as PyTorch."""
    results = {}
    for name, lib in (("plugrad", plugrad), ("torch", torch)):
        ns = {"__name__": "__seed__", "data_transform": None,
              "train_df": FakeFrame(fashion_table(600, 1)), "test_df": FakeFrame(fashion_table(300, 2))}
        printed, ns = run(for_library(SEED_003_PIPELINE, name), lib, monkeypatch, seed=3, namespace=ns)
        assert printed.strip() == "torch.Size([256, 28, 28, 1]) torch.Size([256])"
        assert len(ns["train_data"]) == 2 and len(ns["test_data"]) == 2
        assert str(ns["devices"]) == "cpu"
        model = ns["model"].to(ns["devices"])
        optimizer = lib.optim.Adam(model.parameters(), lr=ns["hyper_params"]["lr"] * 10)
        loss_fn = lib.nn.CrossEntropyLoss()
        batches = list(ns["test_data"])  # unshuffled: the same batches in both libraries
        trace = []
        for _ in range(8):
            for image, label in batches:
                loss = loss_fn(model(image.view(image.size(0), -1)), label)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                trace.append(loss.item())
        assert batches[0][0].dtype == lib.float32 and batches[0][1].dtype == lib.int64
        results[name] = trace
    np.testing.assert_allclose(results["plugrad"], results["torch"], rtol=1e-4)
    assert results["plugrad"][-1] < results["plugrad"][0]


def test_seed_003_model_cuda_without_a_cuda_device_fails_clearly(monkeypatch):
    code = for_library(SEED_003_PIPELINE[SEED_003_PIPELINE.rindex("import torch\nfrom torch import nn"):], "plugrad")
    with pytest.raises(RuntimeError, match="cuda"):
        run(code + "model = model.cuda()\n", plugrad, monkeypatch)
