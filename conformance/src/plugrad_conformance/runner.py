"""From the database and the checks to cases, and running one case.

A case is one cell of the matrix: (op, check, dtype). Its expectation comes from
the device plugin (``plugrad_conformance_expectations``), matched by patterns
``op``, ``op:check`` or ``op:check:dtype`` where any part may be ``*``.
"""

from __future__ import annotations

from dataclasses import dataclass

import plugrad
import zlib

from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis.errors import HypothesisException, Unsatisfiable

from .checks import CHECKS, ALIAS, COMPILED, Ctx, NotApplicable, by_name
from .checks.base import CheckFailure
from .opdb import OPS
from .opinfo import data_arrays
from .streams import CHECK_NAME as STREAM_CHECK, run_stream_case, stream_cases

__all__ = ["Case", "enumerate_cases", "run_case", "hypothesis_settings", "PROFILES", "Skip", "match_expectation"]

#: ``ci``: few examples, each case with its own fixed seed (fast and repeatable);
#: ``thorough``: many more examples, at random, with shrinking
PROFILES = ("ci", "thorough")


class Skip(Exception):
    """The case ran but exercised nothing (every drawn example was inapplicable)."""


@dataclass(frozen=True)
class Case:
    op: str
    check: str
    dtype: str
    skip: str | None = None
    xfail: str | None = None

    @property
    def id(self) -> str:
        return f"{self.op}-{self.check}-{self.dtype}"


def match_expectation(table: dict, op: str, check: str, dtype: str):
    """The reason declared for the most specific pattern matching this case, or None."""
    best, best_score = None, -1
    for pattern, reason in table.items():
        parts = str(pattern).split(":")
        if len(parts) > 3:
            continue
        parts += ["*"] * (3 - len(parts))
        if all(p in ("*", v) for p, v in zip(parts, (op, check, dtype))):
            score = sum(p != "*" for p in parts)
            if score > best_score:
                best, best_score = reason, score
    return best


def enumerate_cases(device, ops=None) -> list:
    """Every case of the matrix for ``device``, with skips (unsupported dtypes,
    declared skips) and declared expected failures attached. A device in compile mode
    (``--compile``) has only the ``compiled`` check's cases."""
    ops = OPS if ops is None else ops
    exp = device.expectations
    cases = []
    for key, op in ops.items():
        if getattr(device, "compile_mode", False):   # --compile: every op through plugrad.compile, only that
            checks = (COMPILED,)
        else:
            checks = (ALIAS,) if op.alias_target is not None else [c for c in CHECKS if c is not ALIAS]
        for check in checks:
            for label, skip in check.cases(op, device):
                declared_skip = match_expectation(exp.skip, key, check.name, label)
                xfail = match_expectation(exp.xfail, key, check.name, label)
                if skip is None and declared_skip is not None:
                    skip = f"declared by the device plugin: {declared_skip}"
                cases.append(Case(key, check.name, label, skip, xfail if skip is None else None))
    if ops is OPS and not getattr(device, "compile_mode", False):   # the random streams: rows of their own
        for row, label, skip in stream_cases(device):
            declared_skip = match_expectation(exp.skip, row, STREAM_CHECK, label)
            xfail = match_expectation(exp.xfail, row, STREAM_CHECK, label)
            if skip is None and declared_skip is not None:
                skip = f"declared by the device plugin: {declared_skip}"
            cases.append(Case(row, STREAM_CHECK, label, skip, xfail if skip is None else None))
    return cases


def hypothesis_settings(profile: str, examples: int) -> settings:
    thorough = profile == "thorough"
    return settings(max_examples=max(1, examples), deadline=None, database=None, print_blob=thorough,
                    report_multiple_bugs=False,
                    phases=(Phase.explicit, Phase.generate) + ((Phase.shrink,) if thorough else ()),
                    suppress_health_check=list(HealthCheck))


def _dtype(label):
    try:
        return plugrad.dtypes.dtype_from_name(label)
    except TypeError:
        return None


def _context(ctx, case, exc) -> CheckFailure:
    head = f"{case.op} [{case.check}, {case.dtype}] on device '{ctx.device.name}': "
    msg = str(exc) if isinstance(exc, AssertionError) else f"raised {type(exc).__name__}: {exc}"
    repro = ctx.repro()
    return CheckFailure(head + msg + (f"\n  reproduce: python -c \"{repro}\"" if repro else ""))


def run_case(ctx: Ctx, case: Case) -> None:
    """Run one case; raises :class:`CheckFailure` on a failure, :class:`Skip` when no
    example applied."""
    if case.check == STREAM_CHECK:
        try:
            run_stream_case(ctx, case.op, case.dtype)
        except Exception as exc:  # noqa: BLE001 - reported with the case's context
            raise CheckFailure(f"{case.op} [{case.check}, {case.dtype}] on device '{ctx.device.name}': "
                               f"{exc if isinstance(exc, AssertionError) else f'raised {type(exc).__name__}: {exc}'}"
                               ) from exc
        return
    op = OPS[case.op]
    check = by_name(case.check)
    dtype = _dtype(case.dtype)
    ran = []

    def body(sample):
        # until the check makes its own call, a failure (in the reference, say) is
        # reproduced with the sample in the case's dtype
        ctx.current = {}
        if sample is not None and dtype is not None:
            ctx.calling(op, sample, [dtype.name] * len(data_arrays(sample)))
        try:
            check.run(ctx, op, dtype, sample)
        except NotApplicable:
            from hypothesis import reject
            reject()
        except HypothesisException:
            raise
        except CheckFailure:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its context
            raise _context(ctx, case, exc) from exc
        ran.append(True)

    if check.strategy is None:
        try:
            body(None)
        except HypothesisException:
            raise Skip("the check does not apply to this op's samples") from None
        return
    test = given(sample=check.strategy(ctx, op, dtype))(body)
    for s in check.fixed(ctx, op, dtype) if check.fixed else ():
        test = example(sample=s)(test)
    test = hypothesis_settings(ctx.profile, check.examples.get(ctx.profile, 3))(test)
    if ctx.profile != "thorough":
        test = seed(zlib.crc32(case.id.encode()))(test)
    try:
        test()
    except Unsatisfiable:
        pass
    if not ran:
        raise Skip("no drawn example applies to this check (every one was rejected)")
