#!/bin/sh
# Runs a long scenario only when KEB_LONG_TESTS=1; otherwise exits 77 (ctest: skipped).
# usage: run_long_scenario.sh KEB_SIM SCENARIO
if [ "${KEB_LONG_TESTS:-0}" != "1" ]; then
  echo "skipped: long scenario $2 (set KEB_LONG_TESTS=1 to run it)"
  exit 77
fi
exec "$1" run "$2"
