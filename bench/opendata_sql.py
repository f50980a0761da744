"""``datastore_search_sql`` on the DuckDB datastore: an aggregate over a 10,000,000-row table, and the
same query on the same rows in PostgreSQL in the same run.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/opendata_sql.py --rows 10000000 \
        --postgres postgresql://postgres@127.0.0.1:5432/h_opendata

Builds the table in the datastore's DuckDB file (and, with ``--postgres``, an unlogged table of the
same rows there), runs the query ``--runs`` times through the sandbox (``datastore.sql_run``: a
read-only, locked-down connection opened per query, as the Action API does) and in PostgreSQL, and
prints one JSON line with the median seconds of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

TABLE = "bench-births-10m"
QUERY = (
    "SELECT parish, sex, count(*) AS n, avg(age) AS mean_age, sum(weight) AS total "
    'FROM "{table}" GROUP BY parish, sex ORDER BY parish, sex'
)
BUILD = (
    "SELECT i AS _id, 'P' || lpad(CAST(i % 14 AS VARCHAR), 2, '0') AS parish, "
    "CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex, (i * 7919) % 100 AS age, (i * 104729) % 5000 AS weight "
    "FROM range({rows}) t(i)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()

    import django

    django.setup()
    from gov21.opendata import datastore

    with datastore.connection() as con:
        con.execute(f'CREATE OR REPLACE TABLE "{TABLE}" AS {BUILD.format(rows=args.rows)}')
    duck = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        _names, rows, _cut = datastore.sql_run(QUERY.format(table=TABLE), limit=1000, timeout_s=60)
        duck.append(time.perf_counter() - t0)
    result = {"rows": args.rows, "groups": len(rows), "duckdb_median_s": round(statistics.median(duck), 3)}
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as pg:
            pg.execute(f'DROP TABLE IF EXISTS "{TABLE}"')
            pg.execute(
                f"CREATE UNLOGGED TABLE \"{TABLE}\" AS SELECT i AS _id, 'P' || lpad((i % 14)::text, 2, '0') AS parish, "
                "CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex, (i * 7919) % 100 AS age, "
                "(i * 104729) % 5000 AS weight "
                f"FROM generate_series(0::bigint, {args.rows - 1}) i"
            )
            pg.execute(f'VACUUM ANALYZE "{TABLE}"')
            postgres = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                pg.execute(QUERY.format(table=TABLE)).fetchall()
                postgres.append(time.perf_counter() - t0)
            pg.execute(f'DROP TABLE "{TABLE}"')
        result["postgres_median_s"] = round(statistics.median(postgres), 3)
        result["postgres_over_duckdb"] = round(statistics.median(postgres) / statistics.median(duck), 1)
    result["loadavg"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
