#!/usr/bin/env bash
# Benchmarks our helpers against Debian's Go helpers in one run (see README "Benchmarks").
#   tests/bench.sh            100 runs per case
#   tests/bench.sh --quick    3 runs per case: proves the benchmark works (CI); results in target/
#   tests/bench.sh --docs     100 runs, then writes docs/benchmark.json and docs/benchmark.svg
# BENCH_OUT=results.json and BENCH_SVG=chart.svg choose the output files.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --quick) export BENCH_RUNS=3 BENCH_OUT=${BENCH_OUT:-$PWD/target/bench-quick.json} BENCH_SVG=${BENCH_SVG:-$PWD/target/bench-quick.svg} ;;
  --docs) mkdir -p docs; export BENCH_OUT=$PWD/docs/benchmark.json BENCH_SVG=$PWD/docs/benchmark.svg ;;
esac
cargo build --locked --release --workspace --bins
cargo bench --locked -p integration-tests --bench helpers
