"""The benchmarks' scratch databases on PostgreSQL, made through the server's maintenance
database (a database cannot be created or dropped from a connection to itself)."""

from __future__ import annotations

from urllib.parse import urlparse


def scratch_database(database_url: str, *, afresh: bool) -> None:
    """The database at database_url: dropped and created again (afresh), or created if it is
    missing, keeping what an earlier run seeded."""
    import psycopg2

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        if afresh:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
