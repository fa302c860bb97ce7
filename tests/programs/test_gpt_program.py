"""A small GPT (nanoGPT's layout), trained as a PyTorch user trains one, runs the same in
plugrad.

The program (``build``, ``configure_optimizer``, ``train``, ``sample`` below) is plain
PyTorch code that takes the library as an argument: token and position embeddings,
pre-norm blocks of causal self-attention (``F.scaled_dot_product_attention`` with
``is_causal=True``) and a tanh-GELU MLP, a final LayerNorm and a bias-free head whose
weight is the token embedding's (weight tying). ``AdamW`` gets two parameter groups
(weight decay for the matrices, none for biases and norms); every step clips the
gradient norm with ``clip_grad_norm_``. Both libraries start from the same weights
(PyTorch's state dict, copied), so the losses of every step agree to 1e-4 and greedy
generation writes the same text, on every device. Sampling (``topk``,
``multinomial``) draws from each library's own generator, so it is checked for what
it must do, not against PyTorch's draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import plugrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch_oracle

TEXT = ("to be or not to be that is the question whether tis nobler in the mind to suffer "
        "the slings and arrows of outrageous fortune or to take arms against a sea of troubles")
CHARS = sorted(set(TEXT))
BLOCK, STEPS, BATCH = 8, 20, 4


def build(lib, n_layer=2, n_head=2, n_embd=16):
    """The model, written against ``lib`` (``torch`` or ``plugrad``)."""
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.gelu = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * n_embd, n_embd)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(len(CHARS), n_embd), wpe=nn.Embedding(BLOCK, n_embd),
                h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=nn.LayerNorm(n_embd)))
            self.lm_head = nn.Linear(n_embd, len(CHARS), bias=False)
            self.transformer.wte.weight = self.lm_head.weight   # weight tying
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def forward(self, idx, targets=None):
            pos = lib.arange(0, idx.size(1), dtype=lib.long, device=idx.device)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
            return logits, loss

    return GPT()


def configure_optimizer(lib, model, lr=1e-2, weight_decay=0.1):
    """AdamW over two groups: decay for the >= 2-d parameters, none for the rest."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    groups = [{"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0}]
    return lib.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def batches():
    """(x, y) token windows of the text and the same windows one character on."""
    tokens = np.array([CHARS.index(c) for c in TEXT], dtype=np.int64)
    starts = np.random.default_rng(0).integers(0, len(tokens) - BLOCK - 1, (STEPS, BATCH))
    for row in starts:
        yield (np.stack([tokens[s:s + BLOCK] for s in row]), np.stack([tokens[s + 1:s + BLOCK + 1] for s in row]))


def train(lib, model, device):
    """Train for STEPS steps; (the loss of each step, the gradient norm before clipping of each)."""
    model.to(device)
    optimizer = configure_optimizer(lib, model)
    losses, norms = [], []
    model.train()
    for x, y in batches():
        _, loss = model(lib.tensor(x, device=device), lib.tensor(y, device=device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norms.append(float(lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        optimizer.step()
        losses.append(loss.item())
    return losses, norms


def generate(lib, model, device, steps=10, greedy=True, top_k=None):
    """Continue "to be" by ``steps`` characters: argmax, or sampled from the top_k."""
    model.eval()
    idx = lib.tensor([[CHARS.index(c) for c in "to be"]], device=device)
    chosen_from = []
    with lib.no_grad():
        for _ in range(steps):
            logits, _ = model(idx[:, -BLOCK:])
            logits = logits[:, -1, :]
            if greedy:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                v, _ = lib.topk(logits, top_k)
                logits[logits < v[:, [-1]]] = -float("inf")
                probs = lib.nn.functional.softmax(logits, dim=-1)
                nxt = lib.multinomial(probs, num_samples=1)
                chosen_from.append(set(lib.nonzero(probs[0] > 0).flatten().tolist()))
            idx = lib.cat((idx, nxt), dim=1)
    return "".join(CHARS[i] for i in idx[0].tolist()), chosen_from


def twins(device):
    torch.manual_seed(0)
    reference = build(torch)
    ours = build(plugrad)
    state = reference.state_dict()
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in state.items()})
    assert ours.transformer.wte.weight is ours.lm_head.weight
    return reference, ours


def test_gpt_program_matches_pytorch(device):
    reference, ours = twins(device)
    expected_losses, expected_norms = train(torch, reference, "cpu")
    losses, norms = train(plugrad, ours, device)
    np.testing.assert_allclose(losses, expected_losses, rtol=0, atol=1e-4)
    np.testing.assert_allclose(norms, expected_norms, rtol=1e-4, atol=1e-5)
    assert expected_losses[-1] < 0.9 * expected_losses[0]   # it learns
    assert ours.transformer.wte.weight is ours.lm_head.weight   # still tied after training
    assert generate(plugrad, ours, device)[0] == generate(torch, reference, "cpu")[0]


@pytest.mark.parametrize("lib_name", ["torch", "plugrad"])
def test_gpt_sampling(lib_name):
    """Top-k sampling: every drawn character is among the k allowed, and a seed repeats
    the draws. (Run with PyTorch too, to check the program itself.)"""
    lib = torch if lib_name == "torch" else plugrad
    if not (hasattr(lib, "topk") and hasattr(lib, "multinomial")):
        pytest.skip(f"{lib_name} has no topk/multinomial")
    lib.manual_seed(0)
    model = build(lib)
    lib.manual_seed(1)
    text, allowed = generate(lib, model, "cpu", greedy=False, top_k=3)
    assert all(len(a) == 3 for a in allowed)
    assert all(CHARS.index(c) in a for c, a in zip(text[len("to be"):], allowed))
    lib.manual_seed(1)
    assert generate(lib, model, "cpu", greedy=False, top_k=3)[0] == text
