#!/usr/bin/env bash
# Job queue benchmarks: reminder planning on both backends, email delivery by 1 and 2
# `carebook worker` processes to an SMTP server on 127.0.0.1, and the runner's claim
# throughput beside a pgbench claim loop. Prints the Markdown rows recorded in
# docs/benchmarks.md, with the machine's load before and after.
#
#   scripts/bench-queue.sh [EXTRA ARGS]   (e.g. --appointments 10000 --emails 1000 for a quick look)
#
# PostgreSQL: $CAREBOOK_BENCH_POSTGRES_URL (a user that may CREATE DATABASE), default
# postgres://postgres@127.0.0.1:5432/postgres; needs pgbench (Debian: postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."
pg=${CAREBOOK_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
uptime
cargo bench -p carebook --bench queue --locked -- "$@"
cargo bench -p carebook --bench queue --locked -- --postgres "$pg" "$@"
uptime
