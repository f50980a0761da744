"""Features in a box, 100 a page: gov21's OGC API Features server against pygeoapi (the OGC reference
implementation in Python) serving the same features, side by side in one run, with wrk.

    GOV21_DATA_DIR=/path/to/seeded/node .venv/bin/python bench/geo_items.py --collection parcels \\
        --pygeoapi-python /path/to/pygeoapi-venv/bin/python --runs 3 --seconds 10

The features are read out of gov21's collection, written where pygeoapi reads them (a GeoPackage
read by its SQLiteGPKG provider when gov21 runs on SQLite; a PostGIS table read by its PostgreSQL
provider when ``GOV21_DATABASE_URL`` points at PostgreSQL), and both servers are started on
loopback with the same number of gunicorn workers and threads, each worker on its own socket
(``--reuse-port``, as ``gov21 up`` runs them). Every request asks for a random box
sized to hold about ``--per-box`` features. pygeoapi is installed apart from gov21 (it is not one of
gov21's dependencies): ``python3 -m venv V && V/bin/pip install pygeoapi gunicorn geoalchemy2
psycopg2-binary``; its SQLite provider loads SpatiaLite (``apt-get install -y
libsqlite3-mod-spatialite``) and needs a Python whose sqlite3 can load extensions (Debian's).

Prints one JSON object: every run, and per server the medians of requests/s, p50, p95 and p99 (ms),
with the ratio of gov21 to pygeoapi.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, os.environ.get("BENCH_SRC", str(HERE.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

# Run by pygeoapi's Python: a GeoPackage of the features, with its R*Tree index, built by SpatiaLite.
_GPKG = textwrap.dedent(
    """
    import json, sqlite3, sys
    source, target, table, columns = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    db = sqlite3.connect(target)
    db.enable_load_extension(True)
    db.execute("SELECT load_extension('mod_spatialite')")
    db.execute("SELECT gpkgCreateBaseTables()")
    cols = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    db.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY, {cols})')
    db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, 4326)",
               (table, table))
    db.execute(f"SELECT gpkgAddGeometryColumn('{table}', 'geom', 'GEOMETRY', 0, 0, 4326)")
    names = list(columns)
    marks = ", ".join("?" for _ in names)
    sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}, geom) '
           f"VALUES ({marks}, AsGPB(SetSRID(GeomFromGeoJSON(?), 4326)))")
    with open(source) as lines:
        rows = []
        for line in lines:
            f = json.loads(line)
            rows.append([f["properties"].get(n) for n in names] + [json.dumps(f["geometry"])])
            if len(rows) == 5000:
                db.executemany(sql, rows); rows = []
        db.executemany(sql, rows)
    db.execute(f"SELECT gpkgAddSpatialIndex('{table}', 'geom')")
    db.commit()
    print(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no server answered on port {port}")


def _export(collection_id: str, target: Path) -> tuple[int, dict[str, str], tuple[float, float, float, float]]:
    """Every feature of the collection as GeoJSON lines; the property columns; the features' bounds."""
    import django

    django.setup()
    from shapely.geometry import mapping

    from gov21.geo.contracts import Query, collection_get

    collection = collection_get(collection_id)
    if collection is None:
        raise SystemExit(f"gov21 serves no collection {collection_id!r}")
    kinds = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}
    columns = {"id": "TEXT"} | {p.name: kinds[p.type] for p in collection.properties if p.name != "id"}
    count, offset, bounds = 0, 0, [math.inf, math.inf, -math.inf, -math.inf]
    with target.open("w") as out:
        while True:
            page = collection.items(Query(limit=1000, offset=offset)).features
            for feature in page:
                if feature.geometry is None:
                    continue
                x0, y0, x1, y1 = feature.geometry.bounds
                bounds = [min(bounds[0], x0), min(bounds[1], y0), max(bounds[2], x1), max(bounds[3], y1)]
                props = {"id": feature.id} | {k: feature.properties.get(k) for k in columns if k != "id"}
                out.write(json.dumps({"geometry": mapping(feature.geometry), "properties": props}) + "\n")
                count += 1
            if len(page) < 1000:
                break
            offset += 1000
    if not count:
        raise SystemExit(f"collection {collection_id!r} is empty: seed the node first")
    return count, columns, (bounds[0], bounds[1], bounds[2], bounds[3])


def _exported(collection_id: str, source: Path) -> tuple[int, dict[str, str], tuple[float, float, float, float]]:
    """What ``_export`` returns, for a file it wrote before from the same features."""
    import django

    django.setup()
    from shapely.geometry import shape

    from gov21.geo.contracts import collection_get

    collection = collection_get(collection_id)
    if collection is None:
        raise SystemExit(f"gov21 serves no collection {collection_id!r}")
    kinds = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}
    columns = {"id": "TEXT"} | {p.name: kinds[p.type] for p in collection.properties if p.name != "id"}
    count, bounds = 0, [math.inf, math.inf, -math.inf, -math.inf]
    with source.open() as lines:
        for line in lines:
            x0, y0, x1, y1 = shape(json.loads(line)["geometry"]).bounds
            bounds = [min(bounds[0], x0), min(bounds[1], y0), max(bounds[2], x1), max(bounds[3], y1)]
            count += 1
    return count, columns, (bounds[0], bounds[1], bounds[2], bounds[3])


def _boxes(count: int, bounds: tuple[float, float, float, float], per_box: int, samples: int) -> list[str]:
    """Boxes (west,south,east,north) sized so that, at the features' mean density, each holds about
    ``per_box`` features; centred on random points of the features' bounds."""
    west, south, east, north = bounds
    density = count / max((east - west) * (north - south), 1e-12)
    side = math.sqrt(per_box / density)
    rng = random.Random(21)
    out = []
    for _ in range(samples):
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        out.append(f"{x - side / 2:.6f},{y - side / 2:.6f},{x + side / 2:.6f},{y + side / 2:.6f}")
    return out


def _postgis(dsn: str, source: Path, table: str, columns: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        db.execute(f'DROP TABLE IF EXISTS "{table}"')
        kinds = {"TEXT": "text", "INTEGER": "bigint", "REAL": "double precision"}
        cols = ", ".join(f'"{c}" {kinds[t]}' for c, t in columns.items())
        db.execute(f'CREATE TABLE "{table}" (fid serial PRIMARY KEY, {cols}, geom geometry(Geometry, 4326))')
        names = list(columns)
        with db.cursor() as cur, source.open() as lines:
            rows = []
            sql = (
                f'INSERT INTO "{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}, geom) '
                f"VALUES ({', '.join('%s' for _ in names)}, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))"
            )
            for line in lines:
                f = json.loads(line)
                rows.append([f["properties"].get(n) for n in names] + [json.dumps(f["geometry"])])
                if len(rows) == 5000:
                    cur.executemany(sql, rows)
                    rows = []
            cur.executemany(sql, rows)
        db.execute(f'CREATE INDEX ON "{table}" USING gist (geom)')
        db.execute(f'ANALYZE "{table}"')


def _pygeoapi_config(folder: Path, port: int, table: str, provider: dict[str, Any], bounds: tuple[float, ...]) -> Path:
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "limits": {"default_items": 10, "max_items": 1000},
            "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": "none"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": "none",
                "url": "http://127.0.0.1",
            },
            "license": {"name": "none", "url": "http://127.0.0.1"},
            "provider": {"name": "bench", "url": "http://127.0.0.1"},
            "contact": {"name": "bench", "email": "bench@invalid", "role": "pointOfContact"},
        },
        "resources": {
            table: {
                "type": "collection",
                "title": table,
                "description": table,
                "keywords": [table],
                "links": [],
                "extents": {"spatial": {"bbox": list(bounds), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [provider],
            }
        },
    }
    path = folder / "pygeoapi.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _wrk(port: int, paths: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            *(shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"),
            *("-s", str(HERE / "wrk_geo.lua"), f"http://127.0.0.1:{port}"),
        ],
        env={**os.environ, "PATHS_FILE": str(paths)},
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default="parcels")
    parser.add_argument("--pygeoapi-python", required=True, help="The Python of a venv with pygeoapi installed.")
    parser.add_argument("--per-box", type=int, default=100, help="Features a box holds on average.")
    parser.add_argument("--samples", type=int, default=2000, help="Distinct boxes asked for.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="Seconds of requests to each server before the timed runs: enough for every worker to have"
        " seen most of the boxes once, as a server that has been running has.",
    )
    parser.add_argument(
        "--features", help="The features.jsonl an earlier run exported from the same data (skips exporting)."
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--shared-socket", action="store_true", help="Both servers' workers share one socket (no --reuse-port)."
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="gov21-geo-bench-"))
    source = tmp / "features.jsonl"
    if args.features:
        source = Path(args.features)
        count, columns, bounds = _exported(args.collection, source)
    else:
        count, columns, bounds = _export(args.collection, source)
    dsn = os.environ.get("GOV21_DATABASE_URL", "")
    table = args.collection.replace("-", "_")
    if dsn.startswith("postgres"):
        _postgis(dsn, source, table, columns)
        from urllib.parse import urlsplit

        url = urlsplit(dsn)
        provider: dict[str, Any] = {
            "type": "feature",
            "name": "PostgreSQL",
            "data": {
                "host": url.hostname or "127.0.0.1",
                "port": url.port or 5432,
                "dbname": url.path.lstrip("/"),
                "user": url.username or "postgres",
                "password": url.password or "",
                "search_path": ["public"],
            },
            "id_field": "fid",
            "table": table,
            "geom_field": "geom",
        }
        engine = "postgresql"
    else:
        gpkg = tmp / f"{table}.gpkg"
        subprocess.run(
            [args.pygeoapi_python, "-c", _GPKG, str(source), str(gpkg), table, json.dumps(columns)],
            check=True,
            timeout=1800,
        )
        provider = {"type": "feature", "name": "SQLiteGPKG", "data": str(gpkg), "id_field": "fid", "table": table}
        engine = "sqlite"

    boxes = _boxes(count, bounds, args.per_box, args.samples)
    ours, theirs = tmp / "gov21.txt", tmp / "pygeoapi.txt"
    ours.write_text("".join(f"/geo/collections/{args.collection}/items?f=json&limit=100&bbox={b}\n" for b in boxes))
    theirs.write_text("".join(f"/collections/{table}/items?f=json&limit=100&bbox={b}\n" for b in boxes))

    gov21_port, pygeoapi_port = _free_port(), _free_port()
    config = _pygeoapi_config(tmp, pygeoapi_port, table, provider, bounds)
    pygeoapi_bin = Path(args.pygeoapi_python).parent
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(tmp / "openapi.yml")}
    subprocess.run(
        [str(pygeoapi_bin / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(tmp / "openapi.yml")],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    workers = ["--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"]
    # Each worker listens on the port itself, as under `gov21 up` (decision 0082): with one shared
    # socket, wrk's few keep-alive connections could all go to one worker and leave the other idle.
    workers += [] if args.shared_socket else ["--reuse-port"]
    servers = [
        subprocess.Popen(
            [str(BIN / "gunicorn"), "gov21.wsgi:application", "--bind", f"127.0.0.1:{gov21_port}", *workers]
        ),
        subprocess.Popen(
            [str(pygeoapi_bin / "gunicorn"), "pygeoapi.flask_app:APP", "-b", f"127.0.0.1:{pygeoapi_port}", *workers],
            env=env,
        ),
    ]
    plan = (("gov21", gov21_port, ours), ("pygeoapi", pygeoapi_port, theirs))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in plan}
    try:
        for _, port, _ in plan:
            _wait(port)
        for _, port, paths in plan:
            _wrk(port, paths, seconds=args.warmup, connections=args.connections)
        for _ in range(args.runs):
            for name, port, paths in plan:
                runs[name].append(_wrk(port, paths, seconds=args.seconds, connections=args.connections))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    median = {
        name: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50_ms", "p95_ms", "p99_ms")}
        | {"non2xx": sum(r["non2xx"] for r in results), "errors": sum(r["errors"] for r in results)}
        for name, results in runs.items()
    }
    median["ratio_gov21_to_pygeoapi"] = {
        "rps": median["gov21"]["rps"] / median["pygeoapi"]["rps"],
        "p95_ms": median["gov21"]["p95_ms"] / median["pygeoapi"]["p95_ms"],
    }
    report = {"engine": engine, "features": count, "args": vars(args), "runs": runs, "median": median}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
