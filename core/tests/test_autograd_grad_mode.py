"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode, as context
managers and decorators, and thread-local."""

import threading

import pytest

import plugrad

from autograd_support import run_both


def tracked(x):
    return (x * 2).requires_grad


def test_no_grad_and_enable_grad_nest():
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.no_grad():
        assert not tracked(x) and not plugrad.is_grad_enabled()
        with plugrad.enable_grad():
            assert tracked(x)
        assert not tracked(x)
    assert tracked(x) and plugrad.is_grad_enabled()


def test_results_under_no_grad_are_leaves_without_history():
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.no_grad():
        y = x * 2
    assert y.is_leaf and y.grad_fn is None and not y.requires_grad


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with plugrad.no_grad():
            raise ValueError("boom")
    assert plugrad.is_grad_enabled()


def test_set_grad_enabled_takes_effect_at_once_and_in_with_blocks():
    x = plugrad.ones(2, requires_grad=True)
    plugrad.set_grad_enabled(False)
    try:
        assert not tracked(x)
    finally:
        plugrad.set_grad_enabled(True)
    with plugrad.set_grad_enabled(False):
        assert not tracked(x)
    assert plugrad.is_grad_enabled()
    with plugrad.no_grad():
        with plugrad.set_grad_enabled(True):
            assert tracked(x)
        assert not plugrad.is_grad_enabled()


def test_decorators_with_and_without_parentheses():
    x = plugrad.ones(2, requires_grad=True)

    @plugrad.no_grad()
    def a():
        return tracked(x)

    @plugrad.no_grad
    def b():
        return tracked(x)

    @plugrad.inference_mode
    def c():
        return tracked(x), plugrad.is_inference_mode_enabled()

    @plugrad.set_grad_enabled(False)
    def d():
        return tracked(x)

    @plugrad.enable_grad()
    def e():
        return tracked(x)

    assert plugrad.is_grad_enabled()  # decorating with set_grad_enabled changed nothing
    assert (a(), b(), c(), d()) == (False, False, (False, True), False)
    with plugrad.no_grad():
        assert e()
    assert a.__name__ == "a"


def test_decorated_generator_runs_each_step_in_the_mode():
    x = plugrad.ones(2, requires_grad=True)

    @plugrad.no_grad()
    def steps():
        for _ in range(3):
            yield tracked(x)

    gen = steps()
    assert next(gen) is False
    assert tracked(x)  # outside the generator's steps, recording is on
    assert list(gen) == [False, False]


def test_inference_mode():
    x = plugrad.ones(2, requires_grad=True)
    with plugrad.inference_mode():
        assert not tracked(x) and plugrad.is_inference_mode_enabled()
    with plugrad.inference_mode(False):
        assert tracked(x) and not plugrad.is_inference_mode_enabled()
    assert not plugrad.is_inference_mode_enabled()


def test_grad_mode_is_thread_local():
    x = plugrad.ones(2, requires_grad=True)
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        seen["start"] = plugrad.is_grad_enabled(), tracked(x)
        with plugrad.no_grad():
            inside.set()
            release.wait(5)
            seen["inside"] = tracked(x)

    with plugrad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        inside.wait(5)
        # the worker is inside its own no_grad block; this thread's mode is its own
        with plugrad.enable_grad():
            seen["main"] = tracked(x)
        release.set()
        t.join(5)
    assert seen == {"start": (True, True), "inside": False, "main": True}
    assert plugrad.is_grad_enabled()


def test_backward_inside_no_grad_still_computes_gradients():
    x = plugrad.ones(2, requires_grad=True)
    y = (x * 3).sum()
    with plugrad.no_grad():
        y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.torch_oracle
def test_grad_mode_program_matches_pytorch():
    def program(lib):
        x = lib.ones(2, requires_grad=True)
        out = []

        @lib.no_grad
        def f():
            return (x * 2).requires_grad
        out.append(f())
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        out.append(lib.is_grad_enabled())
        with lib.inference_mode(False):
            out.append((x * 2).requires_grad)
        with lib.no_grad():
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append((x ** 2).requires_grad)
        return out
    ours, theirs = run_both(program)
    assert ours == theirs


def test_backward_in_several_threads_at_once():
    results, errors = {}, []

    def worker(k):
        try:
            x = plugrad.tensor([1.0, 2.0], requires_grad=True)
            for _ in range(30):
                x.grad = None
                if k % 2:
                    with plugrad.no_grad():
                        assert not tracked(x)
                ((x * (k + 1)) ** 2).sum().backward()
            results[k] = x.grad.tolist()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert results == {k: [2 * (k + 1) ** 2 * 1.0, 2 * (k + 1) ** 2 * 2.0] for k in range(4)}
