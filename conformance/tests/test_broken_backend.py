"""A deliberately broken device must fail exactly where it is broken.

``conformance_broken`` (see ``broken_backends.py``) has a wrong cosh kernel (the
gradient of sinh), a wrong broadcast in atan2, float16 advertised but refused, a
log1p kernel that overwrites its input, and a random_stream kernel whose normal
stream is off by one word. The suite runs on it in full; every
planted bug must show, and every failure must be explained by a planted bug (or
be a failure the healthy cpu device shares, i.e. a plugrad bug, not the device's).
"""

import pytest

from suite_support import outcomes

pytestmark = pytest.mark.slow  # whole suite runs in subprocesses

DEVICE = "conformance_broken"

#: must fail: one signature per planted bug, robust to any choice of samples
MUST_FAIL = {
    ("sinh", "grad"), ("sinh", "gradgrad"),          # 1. d sinh = cosh, and the cosh kernel is wrong
    ("cosh", "forward"),                             # 1. (cosh itself computes with it)
    ("atan2", "broadcast"),                          # 2. the broadcast bug
    ("log1p", "forward"), ("log1p", "grad"),         # 4. the input is overwritten
    ("random:kernel", "random_stream"), ("random:randn", "random_stream"),   # 5. the normal stream
}

#: may also fail, each explained by a planted bug
MAY_FAIL = {
    # 1: every check that compares cosh's values or derivatives
    ("cosh", "forms"), ("cosh", "out"), ("cosh", "inplace"), ("cosh", "layout"), ("cosh", "grad"),
    ("cosh", "gradgrad"), ("cosh", "fused"),
    # 4: every check that looks at log1p's input after the call (the fused check runs a
    #    program that reads an input again after log1p has overwritten it)
    ("log1p", "forms"), ("log1p", "layout"), ("log1p", "gradgrad"), ("log1p", "out"), ("log1p", "determinism"),
    ("log1p", "fused"),
    # 4: ops that take log1p of an intermediate their backward saves: the kernel
    #    overwrites that saved tensor behind autograd's back, so gradients go wrong
    ("softplus", "grad"), ("softplus", "gradgrad"), ("logsigmoid", "grad"), ("logsigmoid", "gradgrad"),
    ("binary_cross_entropy_with_logits", "grad"), ("binary_cross_entropy_with_logits", "gradgrad"),
    # 5: every normal stream
    ("random:normal_", "random_stream"),
    # 4: xlog1py is x * log1p(y): every check of its values reads the overwritten operand
    *{("xlog1py", check) for check in ("forward", "broadcast", "layout", "grad", "gradgrad", "forms", "out",
                                       "determinism")},
}


@pytest.fixture(scope="module")
def broken(suite, tmp_path_factory):
    code, results, output = suite(DEVICE, tmp_path=tmp_path_factory.mktemp("broken"))
    assert results is not None, output
    return code, results


@pytest.fixture(scope="module")
def shared_with_cpu(broken, suite, tmp_path_factory):
    """The failures outside the planted bugs' own ops, re-run on the healthy cpu
    device: those that fail there too are plugrad's, not the device's."""
    _, results = broken
    others = [r for r in results if r["outcome"] == "failed" and (r["op"], r["check"]) not in MUST_FAIL | MAY_FAIL]
    if not others:
        return set()
    expr = " or ".join(f"{r['op']}-{r['check']}-{r['dtype']}" for r in others)
    _, cpu, output = suite("cpu", "-k", expr, tmp_path=tmp_path_factory.mktemp("cpu"))
    assert cpu is not None, output
    return {k for k, v in outcomes(cpu).items() if v == "failed"}


def _half(r):
    return r["dtype"] == "float16" or "float16" in r["message"]


def _explained(r):
    return (r["op"], r["check"]) in MUST_FAIL | MAY_FAIL or _half(r)


def test_the_run_fails(broken):
    code, _ = broken
    assert code == 1


def test_wrong_gradient_is_caught_and_only_in_the_gradient(broken):
    got = outcomes(broken[1])
    assert got[("sinh", "grad", "float64")] == "failed"
    assert got[("sinh", "gradgrad", "float64")] == "failed"
    for dtype in ("float32", "float64", "int64", "bool"):
        assert got[("sinh", "forward", dtype)] == "passed"


def test_wrong_broadcast_is_caught_and_only_under_broadcasting(broken):
    got = outcomes(broken[1])
    assert got[("atan2", "broadcast", "float32")] == "failed"
    for key in (("atan2", "forward", "float32"), ("atan2", "grad", "float64"), ("atan2", "layout", "float32")):
        assert got[key] == "passed", key


def test_advertised_but_refused_dtype_fails_instead_of_skipping(broken, shared_with_cpu):
    results = broken[1]
    got = outcomes(results)
    for op in ("add", "exp", "sum", "matmul", "where", "cat"):
        assert got[(op, "forward", "float16")] == "failed", op
    messages = [r["message"] for r in results if r["dtype"] == "float16" and r["outcome"] == "failed"
                and (r["op"], r["check"], r["dtype"]) not in shared_with_cpu]
    assert messages and all("float16" in m and "not supported" in m for m in messages)
    assert not [r for r in results if r["dtype"] == "float16" and r["outcome"] == "skipped"]
    # ops that only compute layouts need no kernel: they still pass in float16
    for op in ("view", "permute", "transpose", "unsqueeze", "narrow"):
        assert got[(op, "forward", "float16")] == "passed", op


def test_op_that_mutates_its_input_is_caught(broken):
    failed = {r["op"]: r["message"] for r in broken[1]
              if r["outcome"] == "failed" and r["check"] == "forward" and r["dtype"] == "float32"}
    assert "log1p" in failed and "modified its input" in failed["log1p"]


def test_exactly_the_planted_bugs_fail(broken, shared_with_cpu):
    results = broken[1]
    failing = {(r["op"], r["check"]) for r in results if r["outcome"] == "failed"}
    assert MUST_FAIL <= failing
    unexplained = {(r["op"], r["check"], r["dtype"]) for r in results
                   if r["outcome"] == "failed" and not _explained(r)}
    assert unexplained <= shared_with_cpu, (
        f"failures no planted bug explains (and the cpu device passes): {sorted(unexplained - shared_with_cpu)}")


def test_wrong_random_stream_is_caught_and_only_in_its_stream(broken):
    got = outcomes(broken[1])
    assert got[("random:kernel", "random_stream", "-")] == "failed"
    for dtype in ("float32", "float64"):
        assert got[("random:randn", "random_stream", dtype)] == "failed"
        assert got[("random:rand", "random_stream", dtype)] == "passed"
    assert got[("random:randperm", "random_stream", "int64")] == "passed"
