#!/usr/bin/env bash
# Runs every benchmark of the intake issue, one after another (the machine has two cores), into results/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=benchmarks/results
mkdir -p "$OUT"
PG=${CHERISH_BENCH_PG:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
for clients in 16 4; do
  $PY benchmarks/ingest_http.py --events "${EVENTS:-1000000}" --clients "$clients" --workers 2
done > "$OUT/ingest_sqlite.json"
for clients in 16 4; do
  $PY benchmarks/ingest_http.py --events "${PG_EVENTS:-200000}" --clients "$clients" --workers 2 --db "$PG"
done > "$OUT/ingest_postgresql.json"
$PY benchmarks/import_orders.py --rows "${IMPORT_ROWS:-200000}" > "$OUT/import_sqlite.json"
$PY benchmarks/import_orders.py --rows "${IMPORT_ROWS:-200000}" --db "$PG" > "$OUT/import_postgresql.json"
$PY benchmarks/sqlite_floor.py > "$OUT/sqlite_floor.json"
# the two targets restated by issue 12 point 10: ratios to SQLite's floor for the same rows, in the same run
$PY benchmarks/ratio_to_floor.py --events "${EVENTS:-1000000}" --clients 4 --rows "${IMPORT_ROWS:-200000}" \
  > "$OUT/ratio_to_floor.json"
$PY benchmarks/lookup.py --customers "${LOOKUP_CUSTOMERS:-1000000}" > "$OUT/lookup_sqlite.json"
if [ -x "${PEER_PYTHON:-/tmp/rlenv/bin/python}" ]; then
  $PY benchmarks/febrl.py --peer-python "${PEER_PYTHON:-/tmp/rlenv/bin/python}" > "$OUT/febrl.json"
fi
$PY benchmarks/demo_build.py --customers "${DEMO_CUSTOMERS:-1000000}" > "$OUT/demo_sqlite.json"
