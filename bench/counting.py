"""How fast can confirmations be counted on PostgreSQL? (The measurement behind
petitions/services/counting.py.)

Three ways of counting one confirmation, each run by pgbench for a few seconds at 4, 16 and 32
clients against a scratch database with a 1,000,000-row signature table:

- hot row: confirm the signature and add one to the petition's counter row;
- hot rows: the same plus a row per country and a row per hour (the counts issue 4 asks for);
- tally: confirm the signature and insert a tally row, holding the shared advisory lock that
  petitions/services/counting.py takes (what Safe Passage does; a fold adds the tallies up later).

Usage: python bench/counting.py [--seconds 8]   (PGHOST/PGUSER as for psql; default 127.0.0.1,
postgres). Prints transactions per second and average latency for each.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

DATABASE = "safe_passage_bench_counting"
SETUP = """
CREATE TABLE petition (id int PRIMARY KEY, status text, signature_count int);
INSERT INTO petition VALUES (1, 'open', 0);
CREATE TABLE signature (id serial PRIMARY KEY, petition_id int, status text, country text,
                        verified_at timestamptz);
INSERT INTO signature (petition_id, status, country)
  SELECT 1, 'pending', (ARRAY['KR','GB','US','JP','DE'])[1 + n % 5]
  FROM generate_series(1, 1000000) n;
CREATE TABLE country_count (petition_id int, country text, count int,
                            PRIMARY KEY (petition_id, country));
CREATE TABLE hourly_count (petition_id int, hour timestamptz, count int,
                           PRIMARY KEY (petition_id, hour));
CREATE TABLE tally (id bigserial PRIMARY KEY, petition_id int, country text, hour timestamptz,
                    delta int);
"""
CONFIRM = """\\set s random(1, 1000000)
BEGIN;
UPDATE signature SET status = 'confirmed', verified_at = now() WHERE id = :s AND status = 'pending';
"""
ADD_ONE = (
    "UPDATE petition SET signature_count = signature_count + 1 WHERE id = 1 AND status = 'open';\n"
)
RESET = "UPDATE signature SET status = 'pending' WHERE status <> 'pending'"
SCRIPTS = {
    "hot row": CONFIRM + ADD_ONE + "COMMIT;\n",
    "hot rows (+country, hour)": CONFIRM
    + ADD_ONE
    + "INSERT INTO country_count VALUES (1, 'KR', 1) ON CONFLICT (petition_id, country) "
    "DO UPDATE SET count = country_count.count + 1;\n"
    "INSERT INTO hourly_count VALUES (1, date_trunc('hour', now()), 1) "
    "ON CONFLICT (petition_id, hour) DO UPDATE SET count = hourly_count.count + 1;\n"
    "COMMIT;\n",
    "tally (chosen)": "\\set s random(1, 1000000)\n"
    "BEGIN;\n"
    "SELECT pg_advisory_xact_lock_shared(23294, 1);\n"
    "SELECT status FROM petition WHERE id = 1;\n"
    "UPDATE signature SET status = 'confirmed', verified_at = now() "
    "WHERE id = :s AND status = 'pending';\n"
    "INSERT INTO tally (petition_id, country, hour, delta) "
    "VALUES (1, 'KR', date_trunc('hour', now()), 1);\n"
    "COMMIT;\n",
}


def pgbench() -> str:
    found = shutil.which("pgbench") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    if not found:
        raise SystemExit("pgbench not found (Debian: postgresql-client or the server package)")
    return found


def psql(sql: str, database: str = "postgres") -> None:
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--clients", default="4,16,32")
    args = parser.parse_args()
    os.environ.setdefault("PGHOST", "127.0.0.1")
    os.environ.setdefault("PGUSER", "postgres")
    psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(f"CREATE DATABASE {DATABASE}")
    try:
        psql(SETUP, DATABASE)
        print(f"{'counting':28} {'clients':>7} {'tps':>8} {'latency':>10}")
        with tempfile.TemporaryDirectory() as folder:
            for clients in [int(c) for c in args.clients.split(",")]:
                for name, script in SCRIPTS.items():
                    path = Path(folder) / "script.sql"
                    path.write_text(script)
                    psql(RESET, DATABASE)
                    output = subprocess.run(
                        [pgbench(), "-n", "-f", str(path), "-c", str(clients), "-j", "2",
                         "-T", str(args.seconds), DATABASE],
                        check=True, capture_output=True, text=True,
                    ).stdout  # fmt: skip
                    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
                    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
                    print(f"{name:28} {clients:>7} {tps:>8,.0f} {latency:>7.2f} ms", flush=True)
    finally:
        psql(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
