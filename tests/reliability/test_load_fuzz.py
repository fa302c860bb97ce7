"""Seeded fuzzing of ``plugrad.load`` with mutated real checkpoints (issue 19, defect 5).

Thousands of files made from real checkpoints (``load_fuzz_support``) are loaded in a
fresh interpreter whose address space is capped a little above what it uses before
loading: every one either loads or raises LoadError. Any other exception (NumPy's
ValueError, a MemoryError from a loader that trusted a size, a zipfile error)
fails the test, and its case names the seed and mutation to reproduce it.
"""

from __future__ import annotations

import json
import pathlib
import re

from fault_support import docs_page, run_python, steps

HERE = pathlib.Path(__file__).resolve().parent
SEED = 20261207
#: mutated files per source checkpoint (4 sources with PyTorch installed, 2 without)
PER_SOURCE = steps(ci=1000, thorough=10000)

SCRIPT = """
import io, json, resource, sys
sys.path.insert(0, {here!r})
import plugrad
from plugrad.serialization import LoadError
import load_fuzz_support as f
files = list(f.cases({seed}, {per_source}))
for blob in f.sources().values():
    plugrad.load(io.BytesIO(blob))                    # everything loading needs is imported and started
with open("/proc/self/statm") as fh:
    used = int(fh.read().split()[0]) * resource.getpagesize()
cap = used + 512 * 2 ** 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
counts, bad = {{"loaded": 0, "LoadError": 0}}, {{}}
for name, blob in files:
    try:
        plugrad.load(io.BytesIO(blob))
        counts["loaded"] += 1
    except LoadError:
        counts["LoadError"] += 1
    except BaseException as exc:
        bad[name] = type(exc).__name__ + ": " + str(exc)[:300]
print(json.dumps({{"cases": len(files), "counts": counts, "bad": bad}}))
"""


def run_fuzz() -> dict:
    proc = run_python(SCRIPT.format(here=str(HERE), seed=SEED, per_source=PER_SOURCE), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_every_mutated_checkpoint_loads_or_raises_load_error():
    result = run_fuzz()
    assert result["bad"] == {}
    assert result["cases"] >= 2 * PER_SOURCE and result["counts"]["LoadError"] > result["cases"] // 2


def test_the_fuzz_figure_is_quoted_in_the_docs():
    m = re.search(r"([\d,]+) mutated checkpoints", docs_page())
    assert m and int(m.group(1).replace(",", "")) == 4 * steps(ci=1000, thorough=1000), \
        "docs/reliability.md must quote the load fuzz cases"
