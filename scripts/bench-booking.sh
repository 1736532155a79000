#!/usr/bin/env bash
# Booking and slot-search benchmarks over real HTTP on both backends, with the pgbench
# baseline on PostgreSQL. Prints the Markdown rows recorded in docs/benchmarks.md.
#
#   scripts/bench-booking.sh [SECONDS]        (default 15 s per booking scenario)
#
# PostgreSQL: $CAREBOOK_BENCH_POSTGRES_URL (a user that may CREATE DATABASE), default
# postgres://postgres@127.0.0.1:5432/postgres; needs pgbench (Debian: postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
pg=${CAREBOOK_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo bench -p carebook --bench booking_http --locked -- --seconds "$secs"
cargo bench -p carebook --bench booking_http --locked -- --seconds "$secs" --postgres "$pg"
