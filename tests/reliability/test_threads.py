"""Threads: grad mode is per thread, and two threads training two models at once get
bit for bit what the same trainings get one after the other.

The two trainings differ in data, width and learning rate, so a value leaking from
one into the other (a shared buffer, a shared grad-mode flag, a gradient landing in
the wrong leaf) changes the result. Each step's loss goes through ``item()``, and the
threads wait for each other at a barrier every few steps, so their ops interleave.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from fault_support import docs_page, steps

import plugrad
import plugrad.nn as nn

STEPS = (100, 400)         # per training: CI, thorough profile
RUNS = 2                   # concurrent runs compared with the sequential one


def in_thread(fn):
    """Run ``fn`` in a new thread; return its result or raise its exception."""
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:   # re-raised in the caller
            box["error"] = exc
    t = threading.Thread(target=body)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---- grad mode --------------------------------------------------------------------------------

def test_a_new_thread_records_even_when_the_main_thread_is_in_no_grad():
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.no_grad():
        assert in_thread(lambda: ((x * 2).requires_grad, plugrad.is_grad_enabled())) == (True, True)
        assert (x * 2).requires_grad is False
    with plugrad.inference_mode():
        assert in_thread(plugrad.is_inference_mode_enabled) is False
        assert plugrad.is_inference_mode_enabled()


@pytest.mark.parametrize("switch", ["no_grad", "set_grad_enabled", "inference_mode", "set_grad_enabled_call"])
def test_a_grad_mode_switch_in_one_thread_does_not_reach_another(switch):
    """Thread A switches recording off and holds it off while thread B computes; then
    the roles swap. Each sees only its own switch."""
    x = plugrad.ones(3, requires_grad=True)
    turn = threading.Barrier(2, timeout=30)
    seen = {}

    def switched(name):
        if switch == "no_grad":
            return plugrad.no_grad()
        if switch == "inference_mode":
            return plugrad.inference_mode()
        if switch == "set_grad_enabled":
            return plugrad.set_grad_enabled(False)
        plugrad.set_grad_enabled(False)    # the call form: takes effect at once, in this thread only
        return _Restore()

    def worker(name, first):
        if first:
            with switched(name):
                turn.wait()                # the other thread computes now
                turn.wait()
                seen[name + " inside"] = (x * 2).requires_grad
        else:
            turn.wait()
            seen[name + " while other is off"] = ((x * 2).requires_grad, plugrad.is_grad_enabled(),
                                                   plugrad.is_inference_mode_enabled())
            turn.wait()
        seen[name + " after"] = (x * 2).requires_grad

    threads = [threading.Thread(target=worker, args=("A", True)), threading.Thread(target=worker, args=("B", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"A inside": False, "B while other is off": (True, True, False), "A after": True,
                    "B after": True}


class _Restore:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        plugrad.set_grad_enabled(True)


# ---- two trainings at once ----------------------------------------------------------------------

def make_job(device, width, lr, seed):
    """A model (fixed initial weights), its data and an optimizer, built before any thread starts."""
    plugrad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, width), nn.Tanh(), nn.Linear(width, 2)).to(device)
    x = plugrad.randn(32, 5).to(device)
    y = plugrad.randn(32, 2).to(device)
    return model, x, y, plugrad.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def train(job, n, barrier=None):
    model, x, y, opt = job
    losses = []
    for i in range(n):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        with plugrad.no_grad():         # a no_grad block in one thread while the other records
            losses.append(loss.item())
        if barrier is not None and i % 5 == 0:
            barrier.wait()
    return losses, [np.array(p.detach().to("cpu").tolist()).tobytes() for p in model.parameters()]


JOBS = [dict(width=16, lr=0.05, seed=11), dict(width=9, lr=0.02, seed=12)]


def test_two_threads_training_at_once_match_sequential_runs(device):
    n = steps(*STEPS)
    sequential = [train(make_job(device, **spec), n) for spec in JOBS]
    assert sequential[0][0][-1] < sequential[0][0][0] and sequential[1][0][-1] < sequential[1][0][0]
    for _ in range(RUNS):
        assert train_at_once(device, n) == sequential      # losses and final parameters, bit for bit


def train_at_once(device, n):
    """The JOBS trained in one thread each, all at once."""
    jobs = [make_job(device, **spec) for spec in JOBS]
    barrier = threading.Barrier(len(jobs), timeout=60)
    results = [None] * len(jobs)
    errors = []

    def run(k):
        try:
            results[k] = train(jobs[k], n, barrier)
        except BaseException as exc:   # reported below; abort so the other thread stops waiting
            errors.append(exc)
            barrier.abort()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_thread_figures_quoted_in_the_docs():
    m = re.search(r"two models trained at once for (\d+) steps each \((\d+) with the thorough profile\), "
                  r"(\d+) times", docs_page())
    assert m, "docs/reliability.md no longer quotes the thread test's figures"
    assert [int(g) for g in m.groups()] == [*STEPS, RUNS]
