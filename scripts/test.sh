#!/usr/bin/env bash
# Set up the environment (scripts/setup_env.sh) and run every test: the unit and
# integration tests of all distributions, then the conformance suite on every
# installed device, and the benchmarks once in quick mode (to prove they run; their
# timings are not checked). HYPOTHESIS_PROFILE=thorough runs the long version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
echo "== setting up the environment in $VENV (the first run downloads PyTorch, the tests' oracle) =="
bash scripts/setup_env.sh
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
# one pytest worker per core (pytest-xdist): the tests share no state, and CI has two cores
echo "== unit and integration tests (pytest, one worker per core) =="
"$VENV/bin/python" -m pytest -q -n auto "$@"
echo "== the documentation site (mkdocs build --strict) =="
NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict  # no -q: it hides the warnings strict counts
# the conformance suite on every installed device: the devices run side by side (the
# suite is single-threaded and CI has two cores); each device's report is then printed in turn
DEVICES=$("$VENV/bin/python" -c 'import plugrad; from plugrad.plugins import device_types; print(" ".join(d for d in device_types() if getattr(plugrad, d).is_available()))')
echo "== conformance suite on every installed device ($DEVICES), side by side; each report follows =="
declare -A RUNS
for dev in $DEVICES; do
  "$VENV/bin/plugrad-conformance" --device "$dev" --profile "$HYPOTHESIS_PROFILE" --markdown "conformance-$dev.md" \
    > "conformance-$dev.log" 2>&1 &
  RUNS[$dev]=$!
done
FAILED=""
for dev in $DEVICES; do
  wait "${RUNS[$dev]}" || FAILED="$FAILED $dev"
  echo "== conformance suite on '$dev' =="
  cat "conformance-$dev.log"
done
if [ -n "$FAILED" ]; then echo "conformance failed on:$FAILED"; exit 1; fi
echo "== benchmarks, quick mode: a smoke test that every workload runs =="
echo "   (its timings are information, not a verdict: nothing below is checked against a target)"
"$VENV/bin/python" bench/run.py --quick --out "$(mktemp -d)"
